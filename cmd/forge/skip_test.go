package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/fingerprint"
	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
)

func TestSkipNeedsWhatTheRecordedBuildDid(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  tags = [\"app:1\"]\n}\n",
		"Dockerfile": "FROM scratch\n",
	})
	g := planProject(t, project)
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

// TestSkipNeverTrustsWhatIsFetchedEveryTime checks that an image is solved
// when it, or an image it is built from or after, reads what only a solve
// knows: a URL context, an ADD of a URL or git repository without a
// checksum, or a no_cache or pull image.
func TestSkipNeverTrustsWhatIsFetchedEveryTime(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "lib" {
  contexts = { src = "https://example.com/lib.git#main" }
}
image "app" {
  contexts = { lib = image.lib }
}
image "plain" {
  target = "x"
}
image "base" {
  pull = true
}
image "after_base" {
  depends_on = [image.base]
}
image "nocache" {
  no_cache = true
}
image "on_nocache" {
  contexts = { b = image.nocache }
}
image "adds_url" {
  dockerfile_inline = "FROM scratch\nADD https://example.com/x.tar.gz /x\n"
}
image "adds_git" {
  dockerfile_inline = "FROM scratch\nADD [\"git@github.com:org/repo.git\", \"/src\"]\n"
}
image "adds_pinned" {
  dockerfile_inline = <<-EOF
    FROM scratch
    ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d \
      https://example.com/x /x
  EOF
}
`,
		"Dockerfile": "FROM scratch\n",
	})
	g := planProject(t, project)
	fp := digest.FromString("inputs")
	done := make(chan struct{})
	close(done)
	prev := manifest.New()
	s := &skipChecks{prev: prev, stderr: io.Discard, fingerprints: map[string]*pending{},
		everyTime: solvedEveryTime(g)}
	for _, n := range g.Nodes {
		prev.Artifacts[n.Name] = &manifest.Artifact{Images: n.Images, Tags: n.Image.Tags,
			Digest: digest.FromString(n.Name).String(), Key: n.Key.String(), Fingerprint: fp.String()}
		s.fingerprints[n.Name] = &pending{done: done, fp: fp}
	}
	for name, want := range map[string]bool{"lib": false, "app": false, "plain": true,
		"base": false, "after_base": false, "nocache": false, "on_nocache": false,
		"adds_url": false, "adds_git": false, "adds_pinned": true} {
		if _, got := s.skip(t.Context(), g.Node(name)); got != want {
			t.Errorf("skip(%s) = %t, want %t", name, got, want)
		}
	}
}

func TestRecordedFingerprintFailureIsAWarning(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {}\n",
		"Dockerfile": "FROM scratch\n",
	})
	g := planProject(t, project)
	done := make(chan struct{})
	close(done)
	var stderr strings.Builder
	s := &skipChecks{stderr: &stderr, started: time.Now(),
		fingerprints: map[string]*pending{"app": {done: done, err: errors.New("a file vanished")}}}
	if fp := s.recorded(t.Context(), g.Node("app")); fp != "" || !strings.Contains(stderr.String(), "a file vanished") {
		t.Errorf("recorded() = %q, stderr %q: want no fingerprint and a warning", fp, stderr.String())
	}
}

// planProject plans every image of the forge.hcl in project.
func planProject(t *testing.T, project string) *plan.Graph {
	t.Helper()
	cfg, diags := plan.NewParser().Load(filepath.Join(project, "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestWrittenFilesAreNoInputs checks that what a build writes into a
// context (outputs, a local cache, their temporary names) does not change
// the next build's fingerprint.
func TestWrittenFilesAreNoInputs(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  cache_to = [\"type=local,dest=" + "CACHE" + "\"]\n}\n",
		"Dockerfile": "FROM scratch\nCOPY . /\n",
		"main.txt":   "hi\n",
	})
	config := filepath.Join(project, "forge.hcl")
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte(strings.Replace(string(data), "CACHE", filepath.Join(project, "cache"), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	g := planProject(t, project)
	out := buildkit.Outputs{Files: &buildkit.FileOutput{Type: "oci", Dest: filepath.Join(project, "out", "{image}.tar")}}
	files := writtenFiles(g, out, filepath.Join(project, "forge.manifest.json"), filepath.Join(project, "meta.json"))
	fp := func() digest.Digest {
		t.Helper()
		d, err := fingerprint.Node(t.Context(), g.Node("app"), files, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// The directory holding the outputs is the user's: it is part of the
	// context, as an empty directory, once it exists.
	if err := os.Mkdir(filepath.Join(project, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := fp()
	for _, name := range []string{"forge.manifest.json", ".forge.manifest.json.123.tmp", "meta.json",
		"out/app.tar", "out/.app.tar.456.tmp", "cache/index.json", ".cache.789.tmp/index.json"} {
		path := filepath.Join(project, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("written"), 0o644); err != nil {
			t.Fatal(err)
		}
		if after := fp(); after != before {
			t.Errorf("writing %s changed the fingerprint", name)
		}
	}
	if err := os.WriteFile(filepath.Join(project, "main.txt"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fp() == before {
		t.Error("a changed source file left the fingerprint alone")
	}
}

func TestFingerprintWaitEndsWithTheContext(t *testing.T) {
	p := &pending{done: make(chan struct{})} // never computed
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait(cancelled) = %v, want context.Canceled", err)
	}
}
