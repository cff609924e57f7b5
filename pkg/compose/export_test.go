package compose

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
)

var updateExport = flag.Bool("update-export", false, "rewrite the export golden files")

const exportDigest = digest.Digest("sha256:2222222222222222222222222222222222222222222222222222222222222222")

// fullManifest records a build of plan's every-attribute fixture.
func fullManifest(t *testing.T) (*manifest.Manifest, string) {
	t.Helper()
	path := filepath.Join("..", "plan", "testdata", "full", "forge.hcl")
	cfg, diags := plan.NewParser().Load(path, plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := manifest.New()
	b := manifest.Built{Digest: exportDigest}
	if err := m.Record(g, map[string]manifest.Built{"base": b, "app": b, "inline": b}); err != nil {
		t.Fatal(err)
	}
	return m, cfg.Dir
}

func TestExportGolden(t *testing.T) {
	m, dir := fullManifest(t)
	got, err := Export(t.Context(), m, ExportOptions{Name: "full", ProjectDir: dir, OutputDir: dir})
	if err != nil {
		t.Fatalf("Export() error: %v", err)
	}
	golden := filepath.Join("testdata", "export", "full.yaml")
	if *updateExport {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Export() mismatch with %s (-want +got):\n%s", golden, diff)
	}
}

func TestExportContract(t *testing.T) {
	m, dir := fullManifest(t)
	out := filepath.Join(dir, "deploy")
	data, err := Export(t.Context(), m, ExportOptions{ProjectDir: dir, OutputDir: out})
	if err != nil {
		t.Fatalf("Export() error: %v", err)
	}
	text := string(data)
	for _, want := range []string{
		"image: registry.example.com/team/app:v1.0@" + exportDigest.String(),
		"DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY:?DJANGO_SECRET_KEY must be set in the environment}",
		"- ../shared:/app/shared:ro,z", // rebased for the output directory, label kept
		"- ..:/src:Z",
		"- ../app.env",
		"- " + TasksProfile,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Export() lacks %q:\n%s", want, text)
		}
	}
	for _, banned := range []string{"build:", "RELEASE", "NPM_TOKEN"} {
		if strings.Contains(text, banned) {
			t.Errorf("Export() holds %q, a build input:\n%s", banned, text)
		}
	}
}
