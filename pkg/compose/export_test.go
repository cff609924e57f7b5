package compose

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
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
		built[n.Name] = manifest.Built{Digest: exportDigest, Pushed: true}
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

func TestExportRunsWhatWasRecorded(t *testing.T) {
	m, dir := recorded(t, filepath.Join("..", "plan", "testdata", "full", "forge.hcl"))
	web := m.Services["web"]
	web.Command = []string{"sh", "-c", "echo $HOME ${X:-d}"}
	web.WorkingDir = "/srv/$APP"
	// The project directory relative to the working directory, as forge
	// compose gets it from -f forge.hcl.
	t.Chdir(dir)
	data, err := Export(t.Context(), m, ExportOptions{ProjectDir: ".", OutputDir: filepath.Join(dir, "deploy")})
	if err != nil {
		t.Fatalf("Export() error: %v", err)
	}
	// Load it as compose would run it, interpolating from an environment.
	env := types.Mapping{"HOME": "/home/host", "X": "x", "APP": "app", "DJANGO_SECRET_KEY": "s"}
	project, err := loader.LoadWithContext(t.Context(), types.ConfigDetails{
		WorkingDir:  filepath.Join(dir, "deploy"),
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "deploy", "compose.yaml"), Content: data}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SkipResolveEnvironment = true
		o.SetProjectName("export-test", false)
	})
	if err != nil {
		t.Fatalf("loading the exported file: %v\n%s", err, data)
	}
	got, err := project.GetService("web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(web.Command, []string(got.Command)); diff != "" {
		t.Errorf("command as compose runs it (-recorded +run):\n%s", diff)
	}
	if got.WorkingDir != web.WorkingDir {
		t.Errorf("working_dir as compose runs it = %q, want %q", got.WorkingDir, web.WorkingDir)
	}
	for _, v := range got.Volumes {
		if v.Type == types.VolumeTypeBind && !strings.HasPrefix(v.Source, dir) {
			t.Errorf("bind mount source %s is not in the project %s", v.Source, dir)
		}
	}
}

// TestExportRefusesWhatCannotRun checks that a manifest missing a
// service's dependency, or holding an image that was neither pushed nor
// loaded, is refused with every problem named, and that a loaded image is
// enough.
func TestExportRefusesWhatCannotRun(t *testing.T) {
	m, dir := recorded(t, filepath.Join("..", "plan", "testdata", "full", "forge.hcl"))
	opts := ExportOptions{ProjectDir: dir, OutputDir: dir}
	art := m.Artifacts[m.Services["web"].Artifact]
	art.Pushed, art.Loaded = false, "podman"
	if _, err := Export(t.Context(), m, opts); err != nil {
		t.Fatalf("Export() of a loaded image: %v", err)
	}
	art.Loaded = ""
	web := m.Services["web"]
	web.DependsOn = append(web.DependsOn, "queue")
	_, err := Export(t.Context(), m, opts)
	unplaced := "service web runs image " + web.Artifact + ", which was neither"
	for _, want := range []string{"depends on queue", unplaced} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Export() = %v, want an error saying %q", err, want)
		}
	}
}
