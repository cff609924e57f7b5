package plan

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

func TestNew(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	tests := []struct {
		name         string
		targets      []string
		wantNodes    map[string][]string // node name → its services
		wantServices []string
	}{{
		name:    "everything",
		targets: nil,
		wantNodes: map[string][]string{
			"app":    {"web", "worker", "beat"},
			"broker": nil,
		},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:         "one service builds its image and updates its siblings",
		targets:      []string{"worker"},
		wantNodes:    map[string][]string{"app": {"web", "worker", "beat"}},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:         "services sharing an image name it once",
		targets:      []string{"web", "beat", "app"},
		wantNodes:    map[string][]string{"app": {"web", "worker", "beat"}},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:      "an image no service uses",
		targets:   []string{"broker"},
		wantNodes: map[string][]string{"broker": nil},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(cfg, tt.targets...)
			if err != nil {
				t.Fatalf("New(%q) error: %v", tt.targets, err)
			}
			gotNodes := make(map[string][]string)
			for _, n := range g.Nodes {
				if _, dup := gotNodes[n.Name]; dup {
					t.Errorf("New(%q) has node %s twice", tt.targets, n.Name)
				}
				gotNodes[n.Name] = n.Services
			}
			if diff := cmp.Diff(tt.wantNodes, gotNodes); diff != "" {
				t.Errorf("New(%q) nodes mismatch (-want +got):\n%s", tt.targets, diff)
			}
			var gotServices []string
			for _, svc := range g.Services {
				gotServices = append(gotServices, svc.Name)
			}
			if diff := cmp.Diff(tt.wantServices, gotServices); diff != "" {
				t.Errorf("New(%q) services mismatch (-want +got):\n%s", tt.targets, diff)
			}
		})
	}
}

func TestNewUnknownTarget(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	tests := []struct {
		target, suggestion string
	}{
		{"workr", "worker"},
		{"brokr", "broker"},
		{"postgres", ""},
	}
	for _, tt := range tests {
		_, err := New(cfg, "web", tt.target)
		var unknown *UnknownTargetError
		if !errors.As(err, &unknown) {
			t.Fatalf("New(web, %s) error = %v, want *UnknownTargetError", tt.target, err)
		}
		if unknown.Name != tt.target || unknown.Suggestion != tt.suggestion {
			t.Errorf("New(web, %s) = %+v, want name %q and suggestion %q",
				tt.target, unknown, tt.target, tt.suggestion)
		}
	}
}

const mergeConfig = `
image "base" {
  dockerfile = "Base.Dockerfile"
  tags       = ["base:1"]
}

image "app" {
  args     = { RELEASE = "1" }
  contexts = { base = image.base }
  tags     = ["app:1"]
}

# Declares exactly app's inputs under another name and tag.
image "app_again" {
  args       = { RELEASE = "1" }
  contexts   = { base = image.base }
  tags       = ["app:latest", "app:1"]
  cache_from = ["type=registry,ref=cache/app"]
}

# Differs from app by one build argument.
image "app_next" {
  args     = { RELEASE = "2" }
  contexts = { base = image.base }
  tags     = ["app:2"]
}

# A base identical to base under another name: images built on either
# are identical too.
image "base_copy" {
  dockerfile = "Base.Dockerfile"
}

image "app_on_copy" {
  args     = { RELEASE = "1" }
  contexts = { base = image.base_copy }
}

image "tests" {
  depends_on = [image.app_next]
}

service "web"    { image = image.app }
service "worker" { image = image.app_again }
service "next"   { image = image.app_next }
`

func loadMerge(t *testing.T) *Config {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM base\n")
	writeFile(t, filepath.Join(dir, "Base.Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, mergeConfig)
	return mustLoad(t, path)
}

// nodeView is what the merge tests compare of a node.
type nodeView struct {
	Images   []string
	Tags     []string
	Deps     []string
	Services []string
	Export   bool
}

func viewNodes(g *Graph) map[string]nodeView {
	out := make(map[string]nodeView)
	for _, n := range g.Nodes {
		v := nodeView{Images: n.Images, Tags: n.Image.Tags, Services: n.Services, Export: n.Export}
		for _, d := range n.Deps {
			v.Deps = append(v.Deps, d.Name)
		}
		out[n.Name] = v
	}
	return out
}

func TestNewMergesIdenticalInputs(t *testing.T) {
	cfg := loadMerge(t)
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New() error: %v", err)
	}
	want := map[string]nodeView{
		"base": {Images: []string{"base", "base_copy"}, Tags: []string{"base:1", "base_copy:latest"}, Export: true},
		"app": {Images: []string{"app", "app_again", "app_on_copy"},
			Tags: []string{"app:1", "app:latest", "app_on_copy:latest"}, Deps: []string{"base"},
			Services: []string{"web", "worker"}, Export: true},
		"app_next": {Images: []string{"app_next"}, Tags: []string{"app:2"}, Deps: []string{"base"},
			Services: []string{"next"}, Export: true},
		"tests": {Images: []string{"tests"}, Tags: []string{"tests:latest"}, Deps: []string{"app_next"}, Export: true},
	}
	if diff := cmp.Diff(want, viewNodes(g), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("New() nodes mismatch (-want +got):\n%s", diff)
	}
	if got := g.Node("app_again").Image.CacheFrom; len(got) != 1 {
		t.Errorf("merged node cache_from = %v, want app_again's entry", got)
	}
	if g.Node("app").Key == g.Node("app_next").Key {
		t.Error("app and app_next share a key although a build arg differs")
	}
}

func TestNewDependencyOrder(t *testing.T) {
	g, err := New(loadMerge(t))
	if err != nil {
		t.Fatal(err)
	}
	pos := make(map[string]int)
	for i, n := range g.Nodes {
		pos[n.Name] = i
	}
	for _, n := range g.Nodes {
		for _, d := range n.Deps {
			if pos[d.Name] >= pos[n.Name] {
				t.Errorf("node %s comes before its dependency %s", n.Name, d.Name)
			}
		}
	}
}

func TestNewDependencyExports(t *testing.T) {
	tests := []struct {
		target       string
		wantExport   map[string]bool
		wantServices []string
	}{
		// base is only app's named context: built inside app's solve.
		{"app", map[string]bool{"app": true, "base": false}, []string{"web", "worker"}},
		// tests depends_on app_next, which it uses by tag: built and exported
		// first, and the service running it is recorded.
		{"tests", map[string]bool{"tests": true, "app_next": true, "base": false}, []string{"next"}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			g, err := New(loadMerge(t), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]bool)
			for _, n := range g.Nodes {
				got[n.Name] = n.Export
			}
			if diff := cmp.Diff(tt.wantExport, got); diff != "" {
				t.Errorf("New(%s) exports mismatch (-want +got):\n%s", tt.target, diff)
			}
			var services []string
			for _, svc := range g.Services {
				services = append(services, svc.Name)
			}
			if diff := cmp.Diff(tt.wantServices, services); diff != "" {
				t.Errorf("New(%s) services mismatch (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestNewTagConflict(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "image \"a\" {\n  tags = [\"app:1\"]\n}\n"+
		"image \"b\" {\n  target = \"other\"\n  tags   = [\"x:1\", \"docker.io/library/app:1\"]\n}\n")
	_, err := New(mustLoad(t, path))
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("New() error = %v, want diagnostics", err)
	}
	want := []diag{{Pos: "6:20", Summary: "Tag produced by two different builds", Detail: "Images a and b"}}
	if diff := cmp.Diff(want, summarize(path, diags...), diagComparer); diff != "" {
		t.Errorf("New() diagnostics mismatch (-want +got):\n%s", diff)
	}
}

func TestNewTagConflictFromSet(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "image \"a\" {\n  tags = [\"app:1\"]\n}\n"+
		"image \"b\" {\n  target = \"other\"\n}\n")
	cfg, diags := NewParser().Load(path, LoadOptions{Set: []string{"b.tags=app:1"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, err := New(cfg)
	if !errors.As(err, &diags) || len(diags) != 1 {
		t.Fatalf("New() error = %v, want one diagnostic", err)
	}
	if diags[0].Subject != nil || !strings.Contains(diags[0].Detail, "--set") {
		t.Errorf("New() = %v at %v, want no place in forge.hcl and a detail naming --set",
			diags[0], diags[0].Subject)
	}
}

func TestNewMergedTagSpelledTwice(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "image \"a\" {\n  tags = [\"ab\"]\n}\nimage \"b\" {\n  tags = [\"docker.io/library/ab:latest\"]\n}\n")
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatalf("New() error = %v, want the twins merged", err)
	}
	if got := g.Nodes[0].Image.Tags; !cmp.Equal(got, []string{"ab"}) {
		t.Errorf("merged tags = %v, want one spelling of the one tag", got)
	}
}

// writeDirs writes forge.hcl with config into a new project holding a
// Dockerfile in each of dirs, and returns forge.hcl's path.
func writeDirs(t *testing.T, config string, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range append(dirs, ".") {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, d, "Dockerfile"), "FROM scratch\n")
	}
	path := filepath.Join(root, "forge.hcl")
	writeFile(t, path, config)
	return path
}

func TestNewOrdersMergedNodes(t *testing.T) {
	// app1 and app2 merge, and the merged node takes app2's depends_on:
	// it must come after base although app1 is declared first.
	path := writeDirs(t, `
image "app1" { context = "app" }
image "base" { context = "base" }
image "app2" {
  context    = "app"
  tags       = ["app2:latest"]
  depends_on = [image.base]
}
`, "app", "base")
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, n := range g.Nodes {
		order = append(order, n.Name)
	}
	if want := []string{"base", "app1"}; !cmp.Equal(order, want) {
		t.Errorf("node order = %v, want %v", order, want)
	}
}

func TestNewMergedCycle(t *testing.T) {
	// Each block is fine alone, but a1 and a2 merge into one build that
	// b needs as a context and that needs b by depends_on.
	path := writeDirs(t, `
image "a1" { context = "a" }
image "a2" {
  context    = "a"
  tags       = ["a2:latest"]
  depends_on = [image.b]
}
image "b" {
  context  = "b"
  contexts = { a = image.a1 }
}
`, "a", "b")
	_, err := New(mustLoad(t, path))
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("New() error = %v, want a cycle diagnostic", err)
	}
	want := []diag{{Pos: "2:1", Summary: "Dependency cycle between merged images", Detail: "image.a1 and image.a2"}}
	if diff := cmp.Diff(want, summarize(path, diags...), diagComparer); diff != "" {
		t.Errorf("New() diagnostics mismatch (-want +got):\n%s", diff)
	}
}

func TestNewDependsOnThroughNamedContext(t *testing.T) {
	// b is only c's (and d's) named context, built inside their solves,
	// but b uses a by its tags: a is exported whichever way b is needed.
	path := writeDirs(t, `
image "a" { context = "a" }
image "b" {
  context    = "b"
  depends_on = [image.a]
}
image "c" {
  context  = "c"
  contexts = { b = image.b }
}
image "d" {
  context    = "d"
  contexts   = { c = image.c }
  depends_on = [image.b]
}
`, "a", "b", "c", "d")
	tests := []struct {
		target string
		want   map[string]bool
	}{
		{"c", map[string]bool{"a": true, "b": false, "c": true}},
		// d needs c as a context and b by tag: b, first reached as c's
		// context, becomes exported, and so does a.
		{"d", map[string]bool{"a": true, "b": true, "c": false, "d": true}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			g, err := New(mustLoad(t, path), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]bool)
			for _, n := range g.Nodes {
				got[n.Name] = n.Export
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("New(%s) exports mismatch (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

func TestNewKeepsContextKindsApart(t *testing.T) {
	// The same text names a registry image in one block and a directory
	// in the other: different inputs, two builds.
	path := writeDirs(t, `
image "x" {
  context  = "app"
  contexts = { base = "docker-image://base" }
}
image "y" {
  context  = "app"
  tags     = ["y:latest"]
  contexts = { base = "./base" }
}
`, "app", "base")
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes) != 2 {
		t.Errorf("New() merged a docker-image context with a local one: %d node(s)", len(g.Nodes))
	}
}

// TestNewNamesMergedNodesInFileOrder checks that a merged node is named
// after its first block in the file, even when a dependency pulls a later
// block forward.
func TestNewNamesMergedNodesInFileOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "image \"app\" {\n  target = \"app\"\n  depends_on = [image.base_ci]\n}\n"+
		"image \"base\" {}\nimage \"base_ci\" {}\n")
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatal(err)
	}
	n := g.Node("base_ci")
	if n == nil || n.Name != "base" || !slices.Equal(n.Images, []string{"base", "base_ci"}) {
		t.Errorf("merged node = %+v, want base with images base, base_ci", n)
	}
	if names := nodeNames(g.Nodes); !slices.Equal(names, []string{"base", "app"}) {
		t.Errorf("node order = %v, want base before app, which needs it", names)
	}
}

func nodeNames(nodes []*Node) []string {
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	return names
}

// TestNewKeepsURLCredentialsApart checks that two URL contexts that differ
// only where the plan redacts them are different inputs, and that merged
// caches differing only in a credential are both kept.
func TestNewKeepsURLCredentialsApart(t *testing.T) {
	path := writeDirs(t, `
image "v1" {
  context    = "app"
  contexts   = { src = "https://dl.example.com/get?key=release-1.tar.gz" }
  tags       = ["app:v1"]
}
image "v2" {
  context    = "app"
  contexts   = { src = "https://dl.example.com/get?key=release-2.tar.gz" }
  tags       = ["app:v2"]
}
image "c1" {
  context    = "app"
  cache_from = ["type=s3,bucket=b,secret_access_key=one"]
  tags       = ["c:1"]
}
image "c2" {
  context    = "app"
  cache_from = ["type=s3,bucket=b,secret_access_key=two"]
  tags       = ["c:2"]
}
`, "app")
	g, err := New(mustLoad(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if g.Node("v1") == g.Node("v2") {
		t.Error("New() merged two URL contexts that differ in a redacted query parameter")
	}
	if n := g.Node("c1"); n != g.Node("c2") || len(n.Image.CacheFrom) != 2 {
		t.Errorf("c1 and c2: want one node importing both caches, got node %+v", n)
	}
}
