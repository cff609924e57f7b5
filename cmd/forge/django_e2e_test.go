package main

// End-to-end test of examples/django: forge builds it, podman-compose runs
// it from the compose file forge writes, and the release tasks, the web
// server, the static files and the Celery worker all do their job.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/manifest"
)

// exampleBase returns the OCI layout standing in for debian:bookworm-slim,
// made (once, then cached) by the example's own script.
func exampleBase(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("FORGE_EXAMPLE_BASE"); dir != "" {
		return dir
	}
	script, _ := filepath.Abs(filepath.Join("..", "..", "examples", "django", "base", "make-base.sh"))
	cmd := exec.Command(script)
	cmd.Env = append(os.Environ(), "FORGE="+forgeBin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make-base.sh: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDjangoExample(t *testing.T) {
	requireDaemon(t)
	podmanEnv := requirePodmanCompose(t)
	base := exampleBase(t)
	project := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "examples", "django"), project)
	file := filepath.Join(project, "forge.hcl")
	secret := fmt.Sprintf("django-secret-%d", time.Now().UnixNano())
	name := fmt.Sprintf("dj%d", time.Now().UnixNano()%1e9)

	e := newEnv(t)
	e.vars = append(e.vars, podmanEnv...)
	e.vars = append(e.vars, "FORGE_VAR_base_layout="+base)
	sh := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = project
		cmd.Env = append(e.vars, "DJANGO_SECRET_KEY="+secret)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(name string, args ...string) string {
		t.Helper()
		out, err := sh(name, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	compose := func(args ...string) string {
		t.Helper()
		return must("podman-compose", append([]string{"-p", name, "-f", "compose.forge.yaml"}, args...)...)
	}
	t.Cleanup(func() { sh("podman-compose", "-p", name, "-f", "compose.forge.yaml", "down", "-t", "1", "-v") })

	// Build once: one solve for the three Django services, one for Redis.
	res := e.forge("build", "-f", file, "--load=podman", "--progress", "plain")
	if res.code != 0 {
		t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 2)
	m := readManifestFile(t, filepath.Join(project, manifest.DefaultName))
	app := m.Artifacts["app"]
	if user := strings.TrimSpace(must("podman", "image", "inspect", "--format", "{{.Config.User}}", app.Tags[0])); user != "appuser" {
		t.Errorf("the image runs as %q, want appuser", user)
	}

	if res := e.forge("compose", "-f", file); res.code != 0 {
		t.Fatalf("forge compose: exit %d\n%s", res.code, res.stderr)
	}

	// Release: the broker first, then the release tasks, then the services.
	compose("up", "-d", "redis")
	for _, task := range []string{"migrate", "collectstatic"} {
		if out := compose("run", "--rm", task); strings.Contains(out, "Permission denied") {
			t.Errorf("task %s hit a permission error:\n%s", task, out)
		}
	}
	compose("up", "-d", "web", "celery_worker", "celery_beat")

	for _, path := range []string{"/", "/static/pages/site.css", "/admin/login/"} {
		if code := httpStatus(t, "http://127.0.0.1:8000"+path); code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}
	web := containerOf(t, must, name, "web")
	owners := must("podman", "exec", web, "stat", "-c", "%U", "/app/data/db.sqlite3", "/app/staticfiles/staticfiles.json")
	if strings.TrimSpace(strings.ReplaceAll(owners, "appuser", "")) != "" {
		t.Errorf("files written by the tasks are owned by %q, want appuser", owners)
	}
	// The code is root's: the app cannot change what was built.
	if code := strings.TrimSpace(must("podman", "exec", web, "stat", "-c", "%U", "/app/manage.py", "/app/mysite")); code != "root\nroot" {
		t.Errorf("the code is owned by %q, want root", code)
	}

	must("podman", "exec", web, "python3", "manage.py", "test_email")
	worker := containerOf(t, must, name, "celery_worker")
	if !waitFor(30*time.Second, func() bool {
		out, _ := sh("podman", "logs", worker)
		return strings.Contains(out, "Subject: forge example: test email")
	}) {
		out, _ := sh("podman", "logs", worker)
		t.Errorf("the worker's log has no test email:\n%s", out)
	}

	// The runtime secret is in no build input and no layer.
	saved := filepath.Join(t.TempDir(), "app.tar")
	must("podman", "save", "--format", "oci-archive", "-o", saved, app.Tags[0])
	if imageContains(t, saved, secret) {
		t.Error("DJANGO_SECRET_KEY's value is in the image")
	}
	data, _ := os.ReadFile(filepath.Join(project, manifest.DefaultName))
	if strings.Contains(string(data), secret) {
		t.Error("DJANGO_SECRET_KEY's value is in the manifest")
	}
}

// containerOf returns the ID of the running container of a compose service.
func containerOf(t *testing.T, must func(string, ...string) string, project, service string) string {
	t.Helper()
	id := strings.TrimSpace(must("podman", "ps", "--filter", "label=com.docker.compose.project="+project,
		"--filter", "label=com.docker.compose.service="+service, "--format", "{{.ID}}"))
	if id == "" {
		t.Fatalf("service %s is not running", service)
	}
	return strings.Fields(id)[0]
}

// httpStatus GETs url until the server answers or 60 seconds pass.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	var code int
	waitFor(60*time.Second, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
		return true
	})
	return code
}

func waitFor(limit time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if ok() {
			return true
		}
		time.Sleep(500 * time.Millisecond)
	}
	return false
}
