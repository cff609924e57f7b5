package plan

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMatrix(t *testing.T) {
	// image is what the test compares of each declared image.
	type image struct {
		Name    string
		Context string
		Args    map[string]string
		Tags    []string
	}
	tests := []struct {
		name   string
		config string
		want   []image
	}{
		{
			name: "every combination, keys sorted, the last changing fastest",
			config: `
variable "pythons" {
  default = ["3.11", "3.12"]
}
image "app" {
  matrix = {
    variant = ["slim", "full"]
    python  = var.pythons
  }
  name = "app-${replace(python, ".", "")}-${variant}"
  args = { PYTHON = python, VARIANT = variant }
  tags = ["example/app:${python}-${variant}"]
}
`,
			want: []image{
				{"app-311-slim", ".", map[string]string{"PYTHON": "3.11", "VARIANT": "slim"}, []string{"example/app:3.11-slim"}},
				{"app-311-full", ".", map[string]string{"PYTHON": "3.11", "VARIANT": "full"}, []string{"example/app:3.11-full"}},
				{"app-312-slim", ".", map[string]string{"PYTHON": "3.12", "VARIANT": "slim"}, []string{"example/app:3.12-slim"}},
				{"app-312-full", ".", map[string]string{"PYTHON": "3.12", "VARIANT": "full"}, []string{"example/app:3.12-full"}},
			},
		},
		{
			name: "objects as values",
			config: `
image "svc" {
  matrix = {
    component = [{ name = "api", dir = "api" }, { name = "worker", dir = "worker" }]
  }
  name    = component.name
  context = component.dir
  tags    = ["example/${component.name}:1"]
}
`,
			want: []image{
				{"api", "api", nil, []string{"example/api:1"}},
				{"worker", "worker", nil, []string{"example/worker:1"}},
			},
		},
		{
			name: "one combination keeps the label",
			config: `
image "app" {
  matrix = { release = ["1.0"] }
  args   = { RELEASE = release }
}
`,
			want: []image{{"app", ".", map[string]string{"RELEASE": "1.0"}, []string{"app:latest"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDirs(t, tt.config, "api", "worker")
			cfg := mustLoad(t, path)
			var got []image
			for _, img := range cfg.Images {
				rel, _ := filepath.Rel(cfg.Dir, img.Context)
				got = append(got, image{img.Name, rel, img.Args, img.Tags})
			}
			if diff := cmp.Diff(tt.want, got, ignoreDecl); diff != "" {
				t.Errorf("images (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMatrixImagesAreReferencedAndMerged(t *testing.T) {
	// The matrix variable os does not change the build: both images are
	// one node, which the service refers to by either name.
	path := writeDirs(t, `
image "base" {
  matrix = { os = ["a", "b"] }
  name   = "base-${os}"
  tags   = ["example/base:${os}"]
}
service "web" {
  image = image.base-b
}
`)
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 1 {
		t.Fatalf("New() made %d nodes, want the two identical images merged into 1", len(g.Nodes))
	}
	want := []string{"example/base:a", "example/base:b"}
	if diff := cmp.Diff(want, g.Nodes[0].Image.Tags); diff != "" {
		t.Errorf("merged tags (-want +got):\n%s", diff)
	}
	if n := g.Node(g.Services[0].Image); n != g.Nodes[0] {
		t.Errorf("service web runs %v, want the merged node", n)
	}
}

func TestMatrixTooManyImages(t *testing.T) {
	var config string
	for i := range 9 {
		config += fmt.Sprintf("image \"m%d\" {\n  matrix = { a = range(1000) }\n  name = \"m%d-${a}\"\n}\n", i, i)
	}
	_, diags := NewParser().Parse([]byte(config), filepath.Join(t.TempDir(), "forge.hcl"), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Too many images" || diags[0].Subject.Start.Line != 34 {
		t.Errorf("Parse() of 9,000 matrix images = %v, want one \"Too many images\" on line 34, the ninth matrix", diags)
	}
}
