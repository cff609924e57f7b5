package fingerprint

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/plan"
)

const config = `
variable "release" {
  default = "1"
}
image "base" {
  context = "base"
}
image "app" {
  context  = "app"
  args     = { RELEASE = var.release }
  contexts = { base = image.base, assets = "assets" }
}
`

// project writes a fresh project and returns its directory.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"forge.hcl":             config,
		"base/Dockerfile":       "FROM scratch\n",
		"app/Dockerfile":        "FROM base\nCOPY . /app\n",
		"app/main.py":           "print('hi')\n",
		"app/.dockerignore":     "staticfiles\n",
		"app/staticfiles/a.css": "body {}\n",
		"assets/logo.svg":       "<svg/>\n",
		"assets/.dockerignore":  "drafts\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// appNode plans the project in dir and returns the node of image app.
func appNode(t *testing.T, dir string, vars ...string) *plan.Node {
	t.Helper()
	cfg, diags := plan.NewParser().Load(filepath.Join(dir, "forge.hcl"), plan.LoadOptions{Values: plan.Values{Vars: vars}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg, "app")
	if err != nil {
		t.Fatal(err)
	}
	return g.Node("app")
}

func fingerprint(t *testing.T, dir string, vars ...string) string {
	t.Helper()
	forgeFiles := []string{filepath.Join(dir, "app", "forge.manifest.json"), filepath.Join(dir, "assets", "meta.json")}
	fp, err := Node(t.Context(), appNode(t, dir, vars...), forgeFiles, nil)
	if err != nil {
		t.Fatalf("Node() error: %v", err)
	}
	return fp.String()
}

func TestNodeChangesWithEveryInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		vars   []string
	}{
		{"a context file's content", func(t *testing.T, dir string) { writeFile(t, dir, "app/main.py", "print('bye')\n") }, nil},
		{"a new context file", func(t *testing.T, dir string) { writeFile(t, dir, "app/extra.py", "") }, nil},
		{"a removed context file", func(t *testing.T, dir string) { remove(t, dir, "app/main.py") }, nil},
		{"a file mode", func(t *testing.T, dir string) { chmod(t, dir, "app/main.py", 0o755) }, nil},
		{"the Dockerfile", func(t *testing.T, dir string) { writeFile(t, dir, "app/Dockerfile", "FROM base\n") }, nil},
		{"the .dockerignore", func(t *testing.T, dir string) { writeFile(t, dir, "app/.dockerignore", "") }, nil},
		{"a build arg", func(*testing.T, string) {}, []string{"release=2"}},
		{"a local named context", func(t *testing.T, dir string) { writeFile(t, dir, "assets/logo.svg", "<svg></svg>") }, nil},
		{"a local named context's .dockerignore", func(t *testing.T, dir string) { writeFile(t, dir, "assets/.dockerignore", "") }, nil},
		{"an image context's Dockerfile", func(t *testing.T, dir string) { writeFile(t, dir, "base/Dockerfile", "FROM scratch\nENV A=1\n") }, nil},
		{"a symlink's target", func(t *testing.T, dir string) {
			if err := os.Symlink("main.py", filepath.Join(dir, "app", "link")); err != nil {
				t.Fatal(err)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t)
			before := fingerprint(t, dir)
			tt.change(t, dir)
			if after := fingerprint(t, dir, tt.vars...); after == before {
				t.Errorf("fingerprint unchanged after changing %s", tt.name)
			}
		})
	}
}

func TestNodeIgnoresWhatTheBuildDoesNotSee(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
	}{
		{"an ignored file", func(t *testing.T, dir string) { writeFile(t, dir, "app/staticfiles/b.css", "x") }},
		{"a file outside every context", func(t *testing.T, dir string) { writeFile(t, dir, "README.md", "x") }},
		{"a file forge writes", func(t *testing.T, dir string) { writeFile(t, dir, "app/forge.manifest.json", "{}") }},
		{"a file forge writes in a named context", func(t *testing.T, dir string) { writeFile(t, dir, "assets/meta.json", "{}") }},
		{"a file a named context's .dockerignore leaves out", func(t *testing.T, dir string) {
			writeFile(t, dir, "assets/drafts/logo.svg", "<svg/>")
		}},
		{"a modification time", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "app", "main.py")
			if err := os.Chtimes(path, time0, time0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t)
			before := fingerprint(t, dir)
			tt.change(t, dir)
			if after := fingerprint(t, dir); after != before {
				t.Errorf("fingerprint changed after changing %s", tt.name)
			}
		})
	}
}

var time0 = time.Unix(0, 0)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, dir, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
		t.Fatal(err)
	}
}

func TestCacheAgreesAndNoticesChanges(t *testing.T) {
	dir := project(t)
	old := time.Now().Add(-time.Hour)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		return os.Chtimes(p, old, old)
	})
	app := appNode(t, dir)
	cachePath := filepath.Join(t.TempDir(), "digests")
	compute := func(cache *Cache) string {
		fp, err := Node(t.Context(), app, nil, cache)
		if err != nil {
			t.Fatal(err)
		}
		return fp.String()
	}
	uncached := compute(nil)
	cache := OpenCache(cachePath)
	// Files changed within two seconds of a build are not cached: this
	// cache is opened as if the build started later.
	cache.started = time.Now().Add(5 * time.Second)
	if got := compute(cache); got != uncached {
		t.Fatalf("fingerprint with an empty cache = %s, want %s", got, uncached)
	}
	if err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	if got := compute(OpenCache(cachePath)); got != uncached {
		t.Errorf("fingerprint from a saved cache = %s, want %s", got, uncached)
	}
	// The cache answers for a file whose stat is unchanged: a wrong digest
	// planted in it shows through.
	path := filepath.Join(dir, "app", "main.py")
	planted := OpenCache(cachePath)
	tree := planted.tree(filepath.Join(dir, "app"))
	entry, ok := tree.loaded["main.py"]
	if !ok {
		t.Fatalf("the saved cache has no entry for %s", path)
	}
	entry.Digest = strings.Repeat("0", 64)
	tree.loaded["main.py"] = entry
	if compute(planted) == uncached {
		t.Error("the saved cache was not used: the file was read again")
	}
	// A file rewritten in place with its old size and modification time
	// still has a new change time: the cache does not answer for it.
	if err := os.WriteFile(path, []byte("print('ho')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	rewritten := compute(nil)
	if rewritten == uncached {
		t.Fatal("the rewritten file did not change the fingerprint")
	}
	if got := compute(OpenCache(cachePath)); got != rewritten {
		t.Error("the cache hid a file rewritten with its old size and modification time")
	}
	// Same size, new content, a new modification time: the cache must not
	// answer for it.
	writeFile(t, dir, "app/main.py", "print('by')\n")
	if got := compute(OpenCache(cachePath)); got == uncached {
		t.Error("the cache hid a changed file")
	}
}

// TestCacheKeepsWhatExists checks that the cache forgets removed files,
// keeps files the last build did not look at while they are unchanged,
// and removes the files of trees no build has used for MaxTreeAge.
func TestCacheKeepsWhatExists(t *testing.T) {
	dir := project(t)
	old := time.Now().Add(-time.Hour)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		return os.Chtimes(p, old, old)
	})
	cacheDir := filepath.Join(t.TempDir(), "digests")
	root := filepath.Join(dir, "app")
	build := func() map[string]cacheEntry {
		t.Helper()
		cache := OpenCache(cacheDir)
		// The files changed less than two seconds ago (their change
		// times cannot be set back): open as if the build started later.
		cache.started = time.Now().Add(5 * time.Second)
		if _, err := Node(t.Context(), appNode(t, dir), nil, cache); err != nil {
			t.Fatal(err)
		}
		if err := cache.Save(); err != nil {
			t.Fatal(err)
		}
		return OpenCache(cacheDir).tree(root).loaded
	}
	if files := build(); len(files) != 3 {
		t.Fatalf("cached files of app = %v, want Dockerfile, .dockerignore and main.py", keys(files))
	}
	remove(t, dir, "app/main.py")
	if files := build(); len(files) != 2 || files["main.py"] != (cacheEntry{}) {
		t.Errorf("cached files after removing main.py = %v, want it forgotten", keys(files))
	}

	// A file the build's filter no longer lets through stays cached while
	// it is unchanged: another image may read the tree through another
	// filter.
	writeFile(t, dir, "app/.dockerignore", "staticfiles\nDockerfile\n")
	os.Chtimes(filepath.Join(dir, "app/.dockerignore"), old, old)
	if _, ok := build()["Dockerfile"]; !ok {
		t.Error("the cache forgot an unchanged file the build's filter left out")
	}

	// A tree unused for MaxTreeAge is removed; the tree in use is kept,
	// however old its file.
	stale := filepath.Join(cacheDir, treeFileName("/gone"))
	if err := os.WriteFile(stale, []byte(`{"root": "/gone", "files": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	longAgo := time.Now().Add(-MaxTreeAge - time.Hour)
	for _, p := range []string{stale, filepath.Join(cacheDir, treeFileName(root))} {
		if err := os.Chtimes(p, longAgo, longAgo); err != nil {
			t.Fatal(err)
		}
	}
	build()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the file of a tree unused for %v is still there (stat: %v)", MaxTreeAge, err)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, treeFileName(root))); err != nil {
		t.Errorf("the file of the tree in use was removed: %v", err)
	}
}

func keys(m map[string]cacheEntry) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestSinceSeesFilesChangedDuringTheBuild(t *testing.T) {
	dir := project(t)
	app := appNode(t, dir)
	since := func(t0 time.Time) string {
		fp, err := Since(t.Context(), app, nil, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		return fp.String()
	}
	// Timestamps come from a clock that ticks coarsely: leave a margin.
	time.Sleep(50 * time.Millisecond)
	started := time.Now()
	if got, want := since(started), fingerprint(t, dir); got != want {
		t.Fatalf("Since() of untouched files = %q, want the fingerprint %s", got, want)
	}
	// Changes to a file of the context, of the Dockerfile, of a named
	// context, or of the image a named context names, all count; the
	// context's ignored files do not.
	for _, file := range []string{"app/staticfiles/a.css", "app/main.py", "app/Dockerfile", "assets/logo.svg",
		"base/Dockerfile"} {
		started := rewriteLater(t, filepath.Join(dir, file))
		got := since(started)
		if ignored := file == "app/staticfiles/a.css"; ignored != (got != "") {
			t.Errorf("after rewriting %s, Since() = %q", file, got)
		}
	}
}

// TestSinceSeesIgnoreFilesAndLinkedDockerfiles checks that a change during
// the build to a .dockerignore that excludes itself, or to the file a
// symlinked Dockerfile points to, counts as a change.
func TestSinceSeesIgnoreFilesAndLinkedDockerfiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"forge.hcl":            "image \"app\" {\n  context = \"app\"\n  contexts = { assets = \"assets\" }\n}\n",
		"real/Dockerfile":      "FROM scratch\nCOPY . /app\n",
		"app/main.py":          "print('hi')\n",
		"app/.dockerignore":    ".dockerignore\n",
		"assets/logo.svg":      "<svg/>\n",
		"assets/.dockerignore": ".dockerignore\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../real/Dockerfile", filepath.Join(dir, "app", "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	app := appNode(t, dir)
	for _, file := range []string{"app/.dockerignore", "assets/.dockerignore", "real/Dockerfile"} {
		started := rewriteLater(t, filepath.Join(dir, file))
		if fp, err := Since(t.Context(), app, nil, nil, started); err != nil || fp != "" {
			t.Errorf("after rewriting %s, Since() = %q, %v; want no fingerprint", file, fp, err)
		}
	}
}

// rewriteLater returns a start time, then rewrites the file at path after
// it with the same content and times: only its change time moves.
func rewriteLater(t *testing.T, path string) time.Time {
	t.Helper()
	// Timestamps come from a clock that ticks coarsely: leave a margin.
	time.Sleep(50 * time.Millisecond)
	started := time.Now()
	time.Sleep(50 * time.Millisecond)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, info.ModTime(), info.ModTime())
	return started
}
