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

// recorded records a build of the configuration at path, every image
// given exportDigest.
func recorded(t *testing.T, path string) (*manifest.Manifest, string) {
	t.Helper()
	cfg, diags := plan.NewParser().Load(path, plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]manifest.Built{}
	for _, n := range g.Exported() {
		built[n.Name] = manifest.Built{Digest: exportDigest}
	}
	m := manifest.New()
	if err := m.Record(g, built); err != nil {
		t.Fatal(err)
	}
	return m, cfg.Dir
}

func TestExportGolden(t *testing.T) {
	tests := []struct{ name, config string }{
		{"full", filepath.Join("..", "plan", "testdata", "full", "forge.hcl")},
		{"django", filepath.Join("..", "..", "examples", "django", "forge.hcl")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, dir := recorded(t, tt.config)
			got, err := Export(t.Context(), m, ExportOptions{Name: tt.name, ProjectDir: dir, OutputDir: dir})
			if err != nil {
				t.Fatalf("Export() error: %v", err)
			}
			golden := filepath.Join("testdata", "export", tt.name+".yaml")
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
		})
	}
}

func TestExportContract(t *testing.T) {
	m, dir := recorded(t, filepath.Join("..", "plan", "testdata", "full", "forge.hcl"))
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
