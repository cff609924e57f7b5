package main

// End-to-end tests: they run the forge binary against a real buildkitd that
// forge itself starts, and check the daemon's own records of what happened.
// They need root, runc and a buildkitd (bin/buildkitd, or $FORGE_BUILDKITD).
// Outside CI a machine without them skips these tests; with CI=true a
// missing piece fails them.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"

	"github.com/forge-build/forge/pkg/manifest"
)

var (
	forgeBin     string // the forge binary under test
	buildkitdBin string
	e2eMissing   string // why the end-to-end tests cannot run, or ""
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "forge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	forgeBin = filepath.Join(dir, "forge")
	build := exec.Command("go", "build", "-o", forgeBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building forge:", err)
		return 1
	}
	buildkitdBin, e2eMissing = findBuildkitd()
	code := m.Run()
	// A full run must have validated the manifests it wrote.
	fullRun := flag.Lookup("test.run").Value.String() == ""
	if code == 0 && fullRun && e2eMissing == "" && manifestsValidated.Load() == 0 {
		fmt.Fprintln(os.Stderr, "no manifest written by the end-to-end tests was validated")
		return 1
	}
	return code
}

func findBuildkitd() (bin, missing string) {
	if os.Geteuid() != 0 {
		return "", "the local builder needs root"
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return "", "runc is not on PATH (make tools)"
	}
	bin = os.Getenv("FORGE_BUILDKITD")
	if bin == "" {
		bin, _ = filepath.Abs(filepath.Join("..", "..", "bin", "buildkitd"))
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Sprintf("no buildkitd at %s (make tools)", bin)
	}
	return bin, ""
}

// requireDaemon skips the test when the end-to-end tests cannot run here,
// and fails it instead when running in CI.
func requireDaemon(t *testing.T) {
	t.Helper()
	if e2eMissing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("end-to-end test cannot run in CI: %s", e2eMissing)
	}
	t.Skipf("end-to-end test skipped: %s", e2eMissing)
}

// env is an isolated user environment: its own XDG directories, hence its
// own local builder, and no BUILDKIT_HOST.
type env struct {
	t       *testing.T
	dir     string
	vars    []string
	builder string // the local builder's address
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, builder: "unix://" + filepath.Join(dir, "run", "forge", "buildkitd.sock")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUILDKIT_HOST=") && !strings.HasPrefix(kv, "XDG_") &&
			!strings.HasPrefix(kv, "FORGE_") {
			e.vars = append(e.vars, kv)
		}
	}
	e.vars = append(e.vars,
		"XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"FORGE_BUILDKITD="+buildkitdBin,
	)
	t.Cleanup(func() {
		if res := e.forge("builder", "stop"); res.code != 0 {
			t.Errorf("forge builder stop: exit %d\n%s", res.code, res.stderr)
		}
	})
	return e
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (e *env) forge(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, forgeBin, args...)
	cmd.Env = e.vars
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		e.t.Fatalf("running forge %s: %v", strings.Join(args, " "), err)
	}
	validateManifests(e.t, args)
	return res
}

// validateManifests checks every manifest a forge command may have written
// against the manifest schema, so that the whole suite proves the schema
// describes what forge writes.
func validateManifests(t *testing.T, args []string) {
	t.Helper()
	var paths []string
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-f", "--file":
			paths = append(paths, filepath.Join(filepath.Dir(args[i+1]), manifest.DefaultName))
		case "--manifest":
			paths = append(paths, args[i+1])
		}
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if err := manifest.Validate(data, path); err != nil {
			t.Errorf("forge %s wrote an invalid manifest: %v", strings.Join(args, " "), err)
		}
		manifestsValidated.Add(1)
	}
}

// manifestsValidated counts the manifests validateManifests checked.
var manifestsValidated atomic.Int64

// history returns every build record the daemon at addr holds.
func history(t *testing.T, addr string) []*controlapi.BuildHistoryRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	if err != nil {
		t.Fatalf("listing build history: %v", err)
	}
	var records []*controlapi.BuildHistoryRecord
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return records
		}
		if err != nil {
			t.Fatalf("listing build history: %v", err)
		}
		if ev.Record != nil {
			records = append(records, ev.Record)
		}
	}
}

// writeProject writes files (path → content) under a new project directory
// and returns it.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
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

const sharedImageConfig = `
image "app" {
  context = "app"
  args    = { RELEASE = "2024.1" }
  tags    = ["forge.test/app:dev", "forge.test/app:2024.1", "registry.forge.test/team/app:latest"]
}

service "web" {
  image   = image.app
  command = ["serve", "--port", "8000"]
  env     = { DJANGO_DEBUG = "False" }
}

service "celery_worker" {
  image = image.app
  env   = { CELERY_WORKER_REDIRECT_STDOUTS = "False" }
}

service "celery_beat" {
  image = image.app
}
`

func TestBuildSharedImageOnce(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": sharedImageConfig,
		"app/Dockerfile": "FROM scratch\nARG RELEASE\nLABEL release=$RELEASE\n" +
			"COPY . /app/\n",
		"app/hello.txt": "hello\n",
	})
	e := newEnv(t)

	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain")
	if res.code != 0 {
		t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "starting forge's local builder") {
		t.Errorf("forge build did not say it started the local builder; stderr:\n%s", res.stderr)
	}

	records := history(t, e.builder)
	if len(records) != 1 {
		t.Fatalf("daemon history holds %d solves, want 1", len(records))
	}
	rec := records[0]
	checkSingleExport(t, rec, []string{"forge.test/app:dev", "forge.test/app:2024.1",
		"registry.forge.test/team/app:latest"})
	if got := rec.FrontendAttrs["build-arg:RELEASE"]; got != "2024.1" {
		t.Errorf("solve build-arg:RELEASE = %q, want %q", got, "2024.1")
	}
	for key := range rec.FrontendAttrs {
		if strings.Contains(key, "DJANGO_DEBUG") || strings.Contains(key, "CELERY") {
			t.Errorf("runtime env reached the build: frontend attribute %s", key)
		}
	}

	if rec.Result == nil || rec.Result.Results[0] == nil {
		t.Fatalf("solve record has no result for its export: %v", rec.Result)
	}
	exported := rec.Result.Results[0]
	m, err := manifest.Read(filepath.Join(project, manifest.DefaultName))
	if err != nil {
		t.Fatal(err)
	}
	checkManifest(t, m, exported.Digest)
	if !strings.Contains(res.stdout, exported.Digest) {
		t.Errorf("forge build stdout does not name the digest:\n%s", res.stdout)
	}
}

func checkSingleExport(t *testing.T, rec *controlapi.BuildHistoryRecord, tags []string) {
	t.Helper()
	if len(rec.Exporters) != 1 || rec.Exporters[0].Type != client.ExporterImage {
		t.Fatalf("solve exporters = %v, want one image export", rec.Exporters)
	}
	if got, want := rec.Exporters[0].Attrs["name"], strings.Join(tags, ","); got != want {
		t.Errorf("image export name = %q, want %q", got, want)
	}
}

func checkManifest(t *testing.T, m *manifest.Manifest, dgst string) {
	t.Helper()
	art := m.Artifacts["app"]
	if art == nil || art.Digest != dgst {
		t.Fatalf("manifest artifact app = %+v, want digest %s", art, dgst)
	}
	if art.Inputs.Args["RELEASE"] != "2024.1" {
		t.Errorf("manifest artifact args = %v, want RELEASE", art.Inputs.Args)
	}
	if len(m.Services) != 3 {
		t.Errorf("manifest has %d services, want 3", len(m.Services))
	}
	want := "forge.test/app:dev@" + dgst
	for name, svc := range m.Services {
		if svc.Image != want || svc.Artifact != "app" {
			t.Errorf("service %s runs %s (artifact %s), want %s (app)", name, svc.Image, svc.Artifact, want)
		}
		for k, v := range svc.Env {
			if _, isArg := art.Inputs.Args[k]; isArg || v == "2024.1" {
				t.Errorf("service %s env holds build arg %s=%s", name, k, v)
			}
		}
	}
	for k := range art.Inputs.Args {
		if strings.HasPrefix(k, "DJANGO") || strings.HasPrefix(k, "CELERY") {
			t.Errorf("artifact args hold runtime env %s", k)
		}
	}
}

func TestBuildHonoursDockerignore(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":             "image \"app\" {}\n",
		"Dockerfile":            "FROM scratch\nCOPY staticfiles/admin.css /\n",
		".dockerignore":         "staticfiles\n",
		"staticfiles/admin.css": "body {}\n",
	})
	e := newEnv(t)

	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain")
	if res.code != 1 {
		t.Fatalf("forge build copying an ignored file: exit %d, want 1\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "staticfiles/admin.css") || !strings.Contains(res.stderr, "not found") {
		t.Errorf("forge build did not report the ignored file as missing:\n%s", res.stderr)
	}
	if _, err := os.Stat(filepath.Join(project, manifest.DefaultName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed build wrote a manifest (stat: %v)", err)
	}

	if err := os.WriteFile(filepath.Join(project, ".dockerignore"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := e.forge("build", "-f", filepath.Join(project, "forge.hcl")); res.code != 0 {
		t.Fatalf("forge build without the ignore rule: exit %d\n%s", res.code, res.stderr)
	}
}

func TestBuilderLifecycle(t *testing.T) {
	requireDaemon(t)
	e := newEnv(t)

	if res := e.forge("builder", "status"); res.code != 0 || !strings.HasPrefix(res.stdout, "stopped") {
		t.Fatalf("forge builder status before start = exit %d, %q; want stopped", res.code, res.stdout)
	}
	if res := e.forge("builder", "start"); res.code != 0 || !strings.HasPrefix(res.stdout, "running") {
		t.Fatalf("forge builder start = exit %d, %q\n%s", res.code, res.stdout, res.stderr)
	}
	if res := e.forge("builder", "start"); res.code != 0 {
		t.Fatalf("second forge builder start = exit %d\n%s", res.code, res.stderr)
	}
	if res := e.forge("builder", "status"); !strings.HasPrefix(res.stdout, "running") {
		t.Errorf("forge builder status after start = %q, want running", res.stdout)
	}
	if res := e.forge("builder", "stop"); res.code != 0 || res.stdout != "stopped\n" {
		t.Errorf("forge builder stop = exit %d, %q; want stopped", res.code, res.stdout)
	}
	if res := e.forge("builder", "status"); !strings.HasPrefix(res.stdout, "stopped") {
		t.Errorf("forge builder status after stop = %q, want stopped", res.stdout)
	}
}

func TestBuildUnreachableBuilder(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {}\n",
		"Dockerfile": "FROM scratch\n",
	})
	tests := []struct {
		name string
		args []string
		env  string
	}{
		{"missing socket", []string{"--builder", "unix:///nonexistent/buildkitd.sock"}, ""},
		{"closed TCP port", []string{"--builder", "tcp://" + closedPort(t)}, ""},
		{"BUILDKIT_HOST", nil, "BUILDKIT_HOST=tcp://" + closedPort(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{t: t, vars: append(os.Environ(), tt.env)}
			args := append([]string{"build", "-f", filepath.Join(project, "forge.hcl")}, tt.args...)
			res := e.forge(args...)
			if res.code != exitBuilder {
				t.Errorf("forge build: exit %d, want %d\n%s", res.code, exitBuilder, res.stderr)
			}
			if !strings.Contains(res.stderr, "cannot reach BuildKit") || !strings.Contains(res.stderr, "hint:") {
				t.Errorf("forge build stderr lacks a clear message and hint:\n%s", res.stderr)
			}
			if res.elapsed > 5*time.Second {
				t.Errorf("forge build took %s to give up, want under 5s", res.elapsed)
			}
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBuildInvalidConfig(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.ap\n}\n",
		"Dockerfile": "FROM scratch\n",
	})
	e := &env{t: t, vars: os.Environ()}
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"))
	if res.code != exitUsage {
		t.Errorf("forge build: exit %d, want %d", res.code, exitUsage)
	}
	for _, want := range []string{"forge.hcl:3:11: error: Reference to undeclared image", "Reference to undeclared image", `Did you mean "app"?`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("forge build stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}
