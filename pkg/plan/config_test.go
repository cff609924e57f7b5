package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

func TestLoadShared(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	dir, err := filepath.Abs(filepath.Join("testdata", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	appDir := filepath.Join(dir, "app")

	wantImages := []*Image{{
		Name:       "app",
		Context:    appDir,
		Dockerfile: filepath.Join(appDir, "Dockerfile"),
		Args:       map[string]string{"VERSION": "1.2"},
		Tags:       []string{"registry.example.com/app:dev", "app:latest"},
	}, {
		Name:       "broker",
		Context:    appDir,
		Dockerfile: filepath.Join(appDir, "Broker.Dockerfile"),
		Target:     "final",
		Tags:       []string{"broker:latest"},
	}}
	wantServices := []*Service{
		{Name: "web", Image: "app", Command: []string{"gunicorn", "site.wsgi"},
			Env: map[string]string{"DEBUG": "1"}},
		{Name: "worker", Image: "app", Env: map[string]string{"QUEUE": "default"}},
		{Name: "beat", Image: "app"},
	}
	ignoreRanges := cmp.Options{cmpopts.IgnoreFields(Image{}, "DeclRange"), cmpopts.IgnoreUnexported(Image{})}
	if diff := cmp.Diff(wantImages, cfg.Images, ignoreRanges); diff != "" {
		t.Errorf("Load() images mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantServices, cfg.Services, cmpopts.IgnoreFields(Service{}, "DeclRange"), cmpopts.IgnoreUnexported(Service{})); diff != "" {
		t.Errorf("Load() services mismatch (-want +got):\n%s", diff)
	}
	if cfg.Dir != dir {
		t.Errorf("Load().Dir = %q, want %q", cfg.Dir, dir)
	}
}

// diag is the part of a diagnostic the tests check: where it points and
// what it says.
type diag struct {
	Pos     string // line:col of the subject's start
	Summary string
	Detail  string // a substring of the detail
}

// TestInvalidConfigs loads every file in testdata/invalid and checks its
// diagnostics against the file's "# want: LINE:COL | SUMMARY | DETAIL"
// comments, DETAIL being a part of the detail.
func TestInvalidConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil || len(files) < 30 {
		t.Fatalf("testdata/invalid holds %d configurations (%v), want at least 30", len(files), err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".hcl"), func(t *testing.T) {
			want := wantedDiags(t, path)
			_, diags := NewParser().Load(path, LoadOptions{})
			got := summarize(path, errorsOnly(diags)...)
			if diff := cmp.Diff(want, got, diagComparer); diff != "" {
				t.Errorf("Load(%s) diagnostics mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func errorsOnly(diags hcl.Diagnostics) []*hcl.Diagnostic {
	var out []*hcl.Diagnostic
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func wantedDiags(t *testing.T, path string) []diag {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []diag
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "# want: ")
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, " | ", 3)
		if len(parts) != 3 {
			t.Fatalf("%s: malformed want line %q", path, line)
		}
		want = append(want, diag{Pos: parts[0], Summary: parts[1], Detail: strings.TrimSpace(parts[2])})
	}
	if len(want) == 0 {
		t.Fatalf("%s has no want line", path)
	}
	return want
}

// diagComparer matches a wanted detail as a substring of the actual one.
var diagComparer = cmp.Comparer(func(a, b diag) bool {
	want, got := a, b
	if len(got.Detail) < len(want.Detail) {
		want, got = got, want
	}
	return want.Pos == got.Pos && want.Summary == got.Summary &&
		strings.Contains(got.Detail, want.Detail)
})

// summarize returns the checked parts of diags, whose subjects must be in
// the file named file.
func summarize(file string, diags ...*hcl.Diagnostic) []diag {
	var out []diag
	for _, d := range diags {
		pos := "none"
		if d.Subject != nil {
			if d.Subject.Filename != file {
				pos = "wrong file " + d.Subject.Filename
			} else {
				pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
			}
		}
		out = append(out, diag{Pos: pos, Summary: d.Summary, Detail: d.Detail})
	}
	return out
}

func TestLoadMissingFile(t *testing.T) {
	cfg, diags := NewParser().Load(filepath.Join(t.TempDir(), "forge.hcl"), LoadOptions{})
	if cfg != nil || !diags.HasErrors() {
		t.Fatalf("Load(missing) = %v, %v; want nil and an error", cfg, diags)
	}
	if got := diags[0].Summary; got != "Configuration file not found" {
		t.Errorf("Load(missing) summary = %q, want %q", got, "Configuration file not found")
	}
}

// loadSource loads src as forge.hcl from a project directory that holds a
// Dockerfile and an empty directory named empty.
func loadSource(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, src)
	return NewParser().Load(path, LoadOptions{})
}

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, diags := NewParser().Load(path, LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Load(%s) diagnostics: %v", path, diags)
	}
	return cfg
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
