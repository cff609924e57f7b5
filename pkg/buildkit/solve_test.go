package buildkit

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/client"

	"github.com/forge-build/forge/pkg/plan"
)

func TestSolveOpt(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	n := &plan.Node{
		Name: "app",
		Image: &plan.Image{
			Name:       "app",
			Context:    dir,
			Dockerfile: filepath.Join(dir, "docker", "Prod.Dockerfile"),
			Target:     "runtime",
			Args:       map[string]string{"RELEASE": "1.2", "EMPTY": ""},
			Tags:       []string{"app:dev", "registry.example.com/app:1.2"},
		},
		Services: []string{"web", "worker"},
	}
	opt, err := solveOpt(n)
	if err != nil {
		t.Fatalf("solveOpt() error: %v", err)
	}
	wantAttrs := map[string]string{
		"filename":          "Prod.Dockerfile",
		"target":            "runtime",
		"build-arg:RELEASE": "1.2",
		"build-arg:EMPTY":   "",
	}
	if diff := cmp.Diff(wantAttrs, opt.FrontendAttrs); diff != "" {
		t.Errorf("solveOpt() frontend attrs mismatch (-want +got):\n%s", diff)
	}
	if opt.Frontend != "dockerfile.v0" {
		t.Errorf("solveOpt() frontend = %q, want the built-in dockerfile.v0", opt.Frontend)
	}
	wantExports := []client.ExportEntry{{
		Type:  client.ExporterImage,
		Attrs: map[string]string{"name": "app:dev,registry.example.com/app:1.2"},
	}}
	if diff := cmp.Diff(wantExports, opt.Exports); diff != "" {
		t.Errorf("solveOpt() exports mismatch (-want +got):\n%s", diff)
	}
	for _, name := range []string{"context", "dockerfile"} {
		if opt.LocalMounts[name] == nil {
			t.Errorf("solveOpt() has no %s mount", name)
		}
	}
}

func TestNewProgressRejectsUnknownMode(t *testing.T) {
	if _, err := NewProgress(t.Context(), nil, "fancy"); err == nil {
		t.Error("NewProgress(fancy) succeeded, want an error")
	}
}
