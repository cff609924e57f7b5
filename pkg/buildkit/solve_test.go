package buildkit

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"

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
	opt, err := solveOpt(n, Outputs{}, newRequest())
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

func TestSolveOptEveryAttribute(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	shared := filepath.Join(dir, "shared")
	for _, d := range []string{layout, shared} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img := &plan.Image{
		Name:             "app",
		Context:          dir,
		DockerfileInline: "FROM scratch\n",
		Args:             map[string]string{"A": "1"},
		Labels:           map[string]string{"team": "core"},
		Annotations:      map[string]string{"org.opencontainers.image.source": "https://example.com"},
		Tags:             []string{"app:1"},
		Platforms:        []string{"linux/amd64", "linux/arm64"},
		CacheFrom:        []plan.Cache{{Type: "registry", Attrs: map[string]string{"ref": "r/cache"}}},
		CacheTo:          []plan.Cache{{Type: "inline", Attrs: map[string]string{}}},
		Contexts: map[string]plan.NamedContext{
			"alpine": {Kind: plan.ContextDockerImage, Ref: "alpine:3.20"},
			"shared": {Kind: plan.ContextLocal, Path: shared},
			"debian": {Kind: plan.ContextOCILayout, Path: layout, Digest: digest.Digest("sha256:" + strings.Repeat("c", 64))},
			"repo":   {Kind: plan.ContextURL, Ref: "https://example.com/repo.git"},
		},
		Secrets: []plan.Secret{{ID: "npm", Env: "NPM_TOKEN"}},
		NoCache: true,
		Pull:    true,
		Network: "host",
	}
	req := newRequest()
	defer req.close()
	opt, err := solveOpt(&plan.Node{Name: "app", Image: img}, Outputs{}, req)
	if err != nil {
		t.Fatalf("solveOpt() error: %v", err)
	}
	wantAttrs := map[string]string{
		"filename":           "Dockerfile",
		"build-arg:A":        "1",
		"label:team":         "core",
		"platform":           "linux/amd64,linux/arm64",
		"no-cache":           "",
		"image-resolve-mode": "pull",
		"force-network-mode": "host",
		"context:alpine":     "docker-image://alpine:3.20",
		"context:shared":     "local:" + locals{}.named("shared"),
		"context:debian":     "oci-layout://" + locals{}.named("debian") + "@sha256:" + strings.Repeat("c", 64),
		"context:repo":       "https://example.com/repo.git",
	}
	if diff := cmp.Diff(wantAttrs, opt.FrontendAttrs); diff != "" {
		t.Errorf("solveOpt() frontend attrs mismatch (-want +got):\n%s", diff)
	}
	if got := opt.Exports[0].Attrs["annotation.org.opencontainers.image.source"]; got != "https://example.com" {
		t.Errorf("solveOpt() export annotation = %q", got)
	}
	if len(opt.CacheImports) != 1 || len(opt.CacheExports) != 1 || opt.CacheExports[0].Type != "inline" {
		t.Errorf("solveOpt() caches = %v / %v", opt.CacheImports, opt.CacheExports)
	}
	if opt.LocalMounts[locals{}.named("shared")] == nil || opt.OCIStores[locals{}.named("debian")] == nil {
		t.Errorf("solveOpt() mounts %v, OCI stores %v: want the named contexts", opt.LocalMounts, opt.OCIStores)
	}
	if !slices.Contains(opt.AllowedEntitlements, "network.host") {
		t.Errorf("solveOpt() entitlements = %v, want network.host", opt.AllowedEntitlements)
	}
	// auth, and the secret provider
	if len(opt.Session) != 2 {
		t.Errorf("solveOpt() session attachables = %d, want auth and secrets", len(opt.Session))
	}
	for key, value := range opt.FrontendAttrs {
		if strings.Contains(key, "NPM_TOKEN") || strings.Contains(value, "NPM_TOKEN") {
			t.Errorf("secret source leaked into frontend attribute %s=%s", key, value)
		}
	}
}

func TestExportEntries(t *testing.T) {
	load := func(*plan.Node) (io.WriteCloser, error) { return nil, nil }
	files := &FileOutput{Type: "oci", Dest: "out.tar", Compression: "zstd", CompressionLevel: "3"}
	dir := &FileOutput{Type: "oci", Dest: "out", Dir: true}
	// export is one expected export: its type and the attributes that
	// matter here ("-" for an attribute that must be absent).
	type export struct {
		typ   string
		attrs map[string]string
	}
	image := func(push string) export {
		return export{client.ExporterImage, map[string]string{"push": push, "compression": "-", "annotation.a": "1"}}
	}
	tests := []struct {
		name string
		out  Outputs
		want []export
	}{
		{"nothing asked", Outputs{}, []export{image("-")}},
		{"push", Outputs{Push: true}, []export{image("true")}},
		{"load only: one uncompressed tarball", Outputs{Load: load}, []export{
			{client.ExporterDocker, map[string]string{"compression": "uncompressed", "force-compression": "true",
				"annotation.a": "1"}},
		}},
		{"push and load: the pushed layers", Outputs{Push: true, Load: load}, []export{
			image("true"),
			{client.ExporterDocker, map[string]string{"compression": "-", "annotation.a": "1"}},
		}},
		// The file comes first: the last export's digest is the one
		// the solve returns, and it must be the image's.
		{"file", Outputs{Files: files}, []export{
			{client.ExporterOCI, map[string]string{"compression": "zstd", "force-compression": "true",
				"compression-level": "3"}},
			image("-"),
		}},
		{"push and file", Outputs{Push: true, Files: files}, []export{
			{client.ExporterOCI, map[string]string{"compression": "zstd", "annotation.a": "1"}},
			image("true"),
		}},
		// A layout directory is indexed with the loaded image: it holds
		// the same, uncompressed, layers.
		{"load and directory", Outputs{Load: load, Files: dir}, []export{
			{client.ExporterOCI, map[string]string{"tar": "false", "compression": "uncompressed",
				"force-compression": "true", "annotation.a": "1"}},
			{client.ExporterDocker, map[string]string{"compression": "uncompressed"}},
		}},
		{"push and directory", Outputs{Push: true, Files: dir}, []export{
			{client.ExporterOCI, map[string]string{"tar": "false", "compression": "-", "annotation.a": "1"}},
			image("true"),
		}},
	}
	n := &plan.Node{Name: "app", Image: &plan.Image{Tags: []string{"r/app:1", "r/app:latest"},
		Annotations: map[string]string{"a": "1"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest()
			defer req.close()
			got, err := req.exportEntries(n, tt.out)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("exports = %v, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Type != w.typ {
					t.Errorf("export %d is %s, want %s", i, got[i].Type, w.typ)
				}
				if name := got[i].Attrs["name"]; name != "r/app:1,r/app:latest" {
					t.Errorf("%s export name = %q, want every tag", got[i].Type, name)
				}
				for k, v := range w.attrs {
					have, ok := got[i].Attrs[k]
					if v == "-" && ok || v != "-" && have != v {
						t.Errorf("%s export: %s = %q, want %q", got[i].Type, k, have, v)
					}
				}
			}
		})
	}
}

func TestWaitForLooksThroughContextNodes(t *testing.T) {
	// c uses b as a named context, built inside c's solve; b uses a, an
	// exported image, by its tags: c waits for a.
	a := &plan.Node{Name: "a", Export: true}
	b := &plan.Node{Name: "b", Deps: []*plan.Node{a}}
	c := &plan.Node{Name: "c", Export: true, Deps: []*plan.Node{b}}
	done := map[*plan.Node]chan struct{}{a: make(chan struct{}), c: make(chan struct{})}
	waited := make(chan error, 1)
	go func() { waited <- waitFor(context.Background(), c.Deps, done) }()
	select {
	case err := <-waited:
		t.Fatalf("waitFor returned (%v) before a was done", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(done[a])
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waitFor did not return once a was done")
	}
}

func TestSolveOptImageTree(t *testing.T) {
	dir := t.TempDir()
	image := func(name string, mod func(*plan.Image)) *plan.Node {
		img := &plan.Image{Name: name, Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
			Tags: []string{name + ":1"}}
		mod(img)
		return &plan.Node{Name: name, Image: img, Images: []string{name}}
	}
	// app uses base as a named context; both read the npm secret and
	// forward the default SSH agent, and base runs on the host's network.
	base := image("base", func(img *plan.Image) {
		img.Secrets = []plan.Secret{{ID: "npm", Env: "NPM_TOKEN"}}
		img.SSH = []plan.SSH{{ID: "default"}}
		img.Network = "host"
	})
	app := image("app", func(img *plan.Image) {
		img.Secrets = []plan.Secret{{ID: "npm", Env: "NPM_TOKEN"}, {ID: "pip", File: filepath.Join(dir, "pip.conf")}}
		img.SSH = []plan.SSH{{ID: "default"}}
		img.Contexts = map[string]plan.NamedContext{"base": {Kind: plan.ContextImage, Image: "base"}}
	})
	app.Deps = []*plan.Node{base}
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("SSH_AUTH_SOCK", sock)
	if err := os.WriteFile(filepath.Join(dir, "pip.conf"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opt, err := solveOpt(app, Outputs{Provenance: "max"}, newRequest())
	if err != nil {
		t.Fatalf("solveOpt() error: %v", err)
	}
	// A session holds one provider per service: two secret providers
	// would stop the process.
	if len(opt.Session) != 3 {
		t.Errorf("solveOpt() session attachables = %d, want auth, one secrets and one ssh provider", len(opt.Session))
	}
	if !slices.Contains(opt.AllowedEntitlements, "network.host") {
		t.Errorf("solveOpt() entitlements = %v, want network.host for base", opt.AllowedEntitlements)
	}

	// The same id with another source cannot be served to both.
	base.Image.Secrets[0].Env = "OTHER_TOKEN"
	if _, err := solveOpt(app, Outputs{}, newRequest()); err == nil || !strings.Contains(err.Error(), `"npm"`) {
		t.Errorf("solveOpt() with a secret id of two sources: %v, want an error naming it", err)
	}

	// An image app only depends_on is solved on its own: its secrets and
	// network are none of this solve's business.
	base.Image.Secrets[0].Env = "NPM_TOKEN"
	base.Image.Network = ""
	tools := image("tools", func(img *plan.Image) {
		img.Secrets = []plan.Secret{{ID: "npm", Env: "TOOLS_TOKEN"}}
		img.Network = "host"
	})
	app.Deps = append(app.Deps, tools)
	opt, err = solveOpt(app, Outputs{}, newRequest())
	if err != nil {
		t.Fatalf("solveOpt() with a depends_on dependency: %v", err)
	}
	if len(opt.AllowedEntitlements) != 0 {
		t.Errorf("solveOpt() entitlements = %v, want none: only tools, built apart, uses the host network",
			opt.AllowedEntitlements)
	}
}

func TestExportFileIsPublishedOnlyAfterTheSolve(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.tar")
	if err := os.WriteFile(dest, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(req *request) {
		w, err := req.createAtomic(dest)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("partial"))
		// BuildKit closes the writer whether or not the export finished.
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A solve that fails after the writer was closed leaves dest as it was.
	req := newRequest()
	write(req)
	req.close()
	if data, _ := os.ReadFile(dest); string(data) != "previous" {
		t.Errorf("after a failed solve %s holds %q, want the previous file", dest, data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed solve left %d files, want only %s", len(entries), dest)
	}
	// A solve that succeeds publishes it.
	req = newRequest()
	write(req)
	if err := req.publish(); err != nil {
		t.Fatal(err)
	}
	req.close()
	if data, _ := os.ReadFile(dest); string(data) != "partial" {
		t.Errorf("after a solve %s holds %q, want what the export wrote", dest, data)
	}
}

func TestLocalExportIsMergedOnlyAfterTheSolve(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "app"), []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &plan.Node{Name: "app", Image: &plan.Image{Tags: []string{"r/app:1"}}}
	export := func(req *request) {
		e, err := req.fileExport(n, &FileOutput{Type: client.ExporterLocal, Dest: dest}, false)
		if err != nil {
			t.Fatal(err)
		}
		if e.OutputDir == dest {
			t.Fatalf("the local export writes straight into %s", dest)
		}
		if err := os.WriteFile(filepath.Join(e.OutputDir, "app"), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	req := newRequest()
	export(req)
	req.close()
	if data, _ := os.ReadFile(filepath.Join(dest, "app")); string(data) != "previous" {
		t.Errorf("after a failed solve %s/app holds %q, want the previous file", dest, data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("a failed solve left %d entries next to %s, want none", len(entries)-1, dest)
	}
	req = newRequest()
	export(req)
	if err := req.publish(); err != nil {
		t.Fatal(err)
	}
	req.close()
	if data, _ := os.ReadFile(filepath.Join(dest, "app")); string(data) != "partial" {
		t.Errorf("after a solve %s/app holds %q, want what the export wrote", dest, data)
	}
}

// TestCommandLineCachesNameTheImage checks that {image} in a cache given
// on the command line stands for each image's name, and that the list
// shared by every image is left alone.
func TestCommandLineCachesNameTheImage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := Outputs{
		CacheFrom: []plan.Cache{{Type: "registry", Attrs: map[string]string{"ref": "r/cache:{image}"}}},
		CacheTo:   []plan.Cache{{Type: "local", Attrs: map[string]string{"dest": "/c/{image}", "mode": "max"}}},
	}
	for _, name := range []string{"api", "web"} {
		img := &plan.Image{Name: name, Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}
		req := newRequest()
		opt, err := solveOpt(&plan.Node{Name: name, Image: img}, out, req)
		req.close()
		if err != nil {
			t.Fatal(err)
		}
		if got := opt.CacheImports[0].Attrs["ref"]; got != "r/cache:"+name {
			t.Errorf("%s imports %q, want r/cache:%s", name, got, name)
		}
		if got := opt.CacheExports[0].Attrs; got["dest"] != "/c/"+name || got["mode"] != "max" {
			t.Errorf("%s exports %v, want dest /c/%s", name, got, name)
		}
	}
	if out.CacheTo[0].Attrs["dest"] != "/c/{image}" {
		t.Errorf("the command line's cache was changed: %v", out.CacheTo[0].Attrs)
	}
}

// TestGHACacheTakesTheRunnersService checks that a GitHub Actions cache
// gets the runner's cache service and token unless it names its own, and
// that the plan's cache is left without them.
func TestGHACacheTakesTheRunnersService(t *testing.T) {
	t.Setenv("ACTIONS_RUNTIME_TOKEN", "runner-token")
	t.Setenv("ACTIONS_CACHE_URL", "https://cache.example/")
	t.Setenv("ACTIONS_RESULTS_URL", "https://results.example/")
	plain := plan.Cache{Type: "gha", Attrs: map[string]string{"scope": "app"}}
	own := plan.Cache{Type: "gha", Attrs: map[string]string{"token": "mine", "url": "https://mine.example/"}}
	reg := plan.Cache{Type: "registry", Attrs: map[string]string{"ref": "r/cache"}}
	got := caches([]plan.Cache{plain, own, reg})
	want := []map[string]string{
		{"scope": "app", "token": "runner-token",
			"url": "https://cache.example/", "url_v2": "https://results.example/"},
		{"token": "mine", "url": "https://mine.example/", "url_v2": "https://results.example/"},
		{"ref": "r/cache"},
	}
	for i, w := range want {
		if diff := cmp.Diff(w, got[i].Attrs); diff != "" {
			t.Errorf("cache %d attributes (-want +got):\n%s", i, diff)
		}
	}
	if _, ok := plain.Attrs["token"]; ok {
		t.Error("the plan's cache now holds the runner's token")
	}
}

// TestBuildTurnsPanicsIntoErrors checks that a panic while building one
// image fails the build with an error naming the image, instead of ending
// the process.
func TestBuildTurnsPanicsIntoErrors(t *testing.T) {
	n := &plan.Node{Name: "app", Export: true, Image: &plan.Image{Name: "app"}}
	g := &plan.Graph{Nodes: []*plan.Node{n}}
	c := &Client{}
	_, err := c.Build(t.Context(), g, Options{Skip: func(context.Context, *plan.Node) (*Result, bool) {
		panic("skip check broke")
	}})
	if err == nil || !strings.Contains(err.Error(), "building image app: internal error: skip check broke") {
		t.Errorf("Build() with a panicking skip check = %v, want an internal error naming the image", err)
	}
}
