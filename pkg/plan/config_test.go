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
	ignoreRanges := cmpopts.IgnoreFields(Image{}, "DeclRange")
	if diff := cmp.Diff(wantImages, cfg.Images, ignoreRanges); diff != "" {
		t.Errorf("Load() images mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantServices, cfg.Services, cmpopts.IgnoreFields(Service{}, "DeclRange")); diff != "" {
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

func TestLoadDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []diag
	}{{
		name: "malformed block",
		src:  "image \"app\" {\n  context = \n}\n",
		want: []diag{{Pos: "2:13", Summary: "Invalid expression"}},
	}, {
		name: "unclosed block",
		src:  "image \"app\" {\n  context = \".\"\n",
		want: []diag{{Pos: "1:13", Summary: "Unclosed configuration block"}},
	}, {
		name: "unknown image reference",
		src: "image \"app\" {}\n" +
			"service \"web\" {\n  image = image.ap\n}\n",
		want: []diag{{Pos: "3:11", Summary: "Reference to undeclared image", Detail: `Did you mean "app"?`}},
	}, {
		name: "unknown image reference lists declared images",
		src: "image \"app\" {}\nimage \"redis\" {}\n" +
			"service \"web\" {\n  image = image.postgres\n}\n",
		want: []diag{{Pos: "4:11", Summary: "Reference to undeclared image", Detail: "Declared images: app, redis."}},
	}, {
		name: "image given as a string",
		src:  "image \"app\" {}\nservice \"web\" {\n  image = \"app\"\n}\n",
		want: []diag{{Pos: "3:11", Summary: "Invalid image reference", Detail: "image = image.app"}},
	}, {
		name: "reference to another kind of block",
		src:  "image \"app\" {}\nservice \"web\" {\n  image = service.app\n}\n",
		want: []diag{{Pos: "3:11", Summary: "Invalid image reference"}},
	}, {
		name: "service without image",
		src:  "service \"web\" {\n  command = [\"x\"]\n}\n",
		want: []diag{{Pos: "1:15", Summary: "Missing required argument"}},
	}, {
		name: "misspelled attribute",
		src:  "image \"app\" {\n  contxt = \".\"\n}\n",
		want: []diag{{Pos: "2:3", Summary: "Unsupported argument", Detail: `Did you mean "context"?`}},
	}, {
		name: "unknown block type",
		src:  "imag \"app\" {}\n",
		want: []diag{{Pos: "1:1", Summary: "Unsupported block type", Detail: `Did you mean "image"?`}},
	}, {
		name: "missing context",
		src:  "image \"app\" {\n  context = \"nowhere\"\n}\n",
		want: []diag{{Pos: "2:13", Summary: "Missing build context", Detail: "does not exist"}},
	}, {
		name: "missing dockerfile",
		src:  "image \"app\" {\n  dockerfile = \"Prod.Dockerfile\"\n}\n",
		want: []diag{{Pos: "2:16", Summary: "Missing Dockerfile", Detail: "Prod.Dockerfile"}},
	}, {
		name: "default dockerfile missing points at the block",
		src:  "image \"app\" {\n  context = \"empty\"\n}\n",
		want: []diag{{Pos: "1:1", Summary: "Missing Dockerfile"}},
	}, {
		name: "invalid tag points at the element",
		src:  "image \"app\" {\n  tags = [\"app:ok\", \"App:Bad\"]\n}\n",
		want: []diag{{Pos: "2:21", Summary: "Invalid image tag", Detail: `"App:Bad"`}},
	}, {
		name: "tag with a digest",
		src:  "image \"app\" {\n  tags = [\"app@sha256:" + strings.Repeat("a", 64) + "\"]\n}\n",
		want: []diag{{Pos: "2:11", Summary: "Invalid image tag", Detail: "cannot hold a digest"}},
	}, {
		name: "args of the wrong type",
		src:  "image \"app\" {\n  args = [\"A=1\"]\n}\n",
		want: []diag{{Pos: "2:10", Summary: "Incorrect attribute value type"}},
	}, {
		name: "invalid build arg name",
		src:  "image \"app\" {\n  args = { \"A B\" = \"1\" }\n}\n",
		want: []diag{{Pos: "2:10", Summary: "Invalid build argument name"}},
	}, {
		name: "duplicate image",
		src:  "image \"app\" {}\nimage \"app\" {}\n",
		want: []diag{{Pos: "2:7", Summary: "Duplicate image block", Detail: "forge.hcl:1,1-12"}},
	}, {
		name: "duplicate service",
		src: "image \"app\" {}\nservice \"web\" { image = image.app }\n" +
			"service \"web\" { image = image.app }\n",
		want: []diag{{Pos: "3:9", Summary: "Duplicate service block"}},
	}, {
		name: "name unusable in references",
		src:  "image \"my app\" {}\n",
		want: []diag{{Pos: "1:7", Summary: "Invalid image name"}},
	}, {
		name: "variables are not declared",
		src:  "image \"app\" {\n  target = var.stage\n}\n",
		want: []diag{{Pos: "2:12", Summary: "Variables not allowed"}},
	}, {
		name: "null list element",
		src:  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n  command = [\"a\", null]\n}\n",
		want: []diag{{Pos: "4:13", Summary: "Null value not allowed"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := loadSource(t, tt.src)
			if diff := cmp.Diff(tt.want, summarize(diags), diagComparer); diff != "" {
				t.Errorf("Load() diagnostics mismatch (-want +got):\n%s", diff)
			}
		})
	}
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

func summarize(diags hcl.Diagnostics) []diag {
	var out []diag
	for _, d := range diags {
		pos := "none"
		if d.Subject != nil {
			if filepath.Base(d.Subject.Filename) != "forge.hcl" {
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
	cfg, diags := NewParser().Load(filepath.Join(t.TempDir(), "forge.hcl"))
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
	return NewParser().Load(path)
}

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, diags := NewParser().Load(path)
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
