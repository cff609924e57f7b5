package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
)

func TestSkipNeedsWhatTheRecordedBuildDid(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  tags = [\"app:1\"]\n}\n",
		"Dockerfile": "FROM scratch\n",
	})
	cfg, diags := plan.NewParser().Load(filepath.Join(project, "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := g.Node("app")
	fp := digest.FromString("inputs")
	cache := plan.Cache{Type: "registry", Attrs: map[string]string{"ref": "r/cache"}}
	// The recorded build: no provenance, a registry cache exported.
	prev := manifest.New()
	prev.Artifacts["app"] = &manifest.Artifact{Images: []string{"app"}, Tags: []string{"app:1"},
		Digest: digest.FromString("image").String(), Key: n.Key.String(), Fingerprint: fp.String(),
		Inputs: manifest.Inputs{CacheTo: []string{cache.String()}, Platforms: []string{"linux/amd64"}}}
	local := plan.Cache{Type: "local", Attrs: map[string]string{"dest": "c"}}
	tests := []struct {
		name       string
		platform   string
		provenance string
		cacheTo    []plan.Cache
		want       bool
	}{
		{"nothing more", "linux/amd64", "", nil, true},
		{"the same cache", "linux/amd64", "", []plan.Cache{cache}, true},
		{"provenance the image lacks", "linux/amd64", "max", nil, false},
		{"a cache not exported", "linux/amd64", "", []plan.Cache{local}, false},
		{"a builder of another platform", "linux/arm64", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			close(done)
			s := &skipChecks{prev: prev, platform: tt.platform, provenance: tt.provenance, cacheTo: tt.cacheTo,
				stderr:       io.Discard,
				fingerprints: map[string]*pending{"app": {done: done, fp: fp}}}
			if _, got := s.skip(t.Context(), n); got != tt.want {
				t.Errorf("skip() = %t, want %t", got, tt.want)
			}
		})
	}
}
