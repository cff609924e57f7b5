package main

// End-to-end test of the image-based workflow: a compose project whose
// services each say build: . is imported, built once, written back as a
// compose file pinned by digest, and started with podman-compose.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/manifest"
)

const roundTripCompose = `
services:
  web:
    build: .
    image: %[1]s
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo web up; sleep 600 & wait"]
    environment:
      ROLE: web
  celery_worker:
    build: .
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo worker up; sleep 600 & wait"]
    environment:
      ROLE: worker
      CELERY_WORKER_REDIRECT_STDOUTS: "False"
  celery_beat:
    build: .
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo beat up; sleep 600 & wait"]
    environment:
      ROLE: beat
`

func TestComposeRoundTripWithPodman(t *testing.T) {
	requireDaemon(t)
	podmanEnv := requirePodmanCompose(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	tag := "forge.test/roundtrip-" + suffix + ":1"
	project := writeProject(t, map[string]string{
		"compose.yaml": fmt.Sprintf(roundTripCompose, tag),
		"Dockerfile":   busyboxDockerfile,
	})
	writeBusybox(t, project)
	e := newEnv(t)
	e.vars = append(e.vars, podmanEnv...)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = project
		cmd.Env = e.vars
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command("podman-compose", "-p", "rt"+suffix, "-f", "compose.forge.yaml", "down", "-t", "1")
		cmd.Dir, cmd.Env = project, e.vars
		cmd.Run()
		exec.Command("podman", "rmi", "--force", tag).Run()
	})

	file := filepath.Join(project, "forge.hcl")
	if res := e.forge("import", "-o", file, filepath.Join(project, "compose.yaml")); res.code != 0 {
		t.Fatalf("forge import: exit %d\n%s", res.code, res.stderr)
	}
	if res := e.forge("build", "-f", file, "--load=podman", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 1)
	if res := e.forge("compose", "-f", file); res.code != 0 {
		t.Fatalf("forge compose: exit %d\n%s", res.code, res.stderr)
	}
	composed, _ := os.ReadFile(filepath.Join(project, "compose.forge.yaml"))
	if strings.Contains(string(composed), "build:") {
		t.Errorf("compose.forge.yaml still builds:\n%s", composed)
	}

	run("podman-compose", "-p", "rt"+suffix, "-f", "compose.forge.yaml", "up", "-d")
	m := readManifestFile(t, filepath.Join(project, manifest.DefaultName))
	for _, svc := range []string{"web", "celery_worker", "celery_beat"} {
		id := strings.TrimSpace(run("podman", "ps", "--filter", "label=com.docker.compose.service="+svc,
			"--filter", "label=com.docker.compose.project=rt"+suffix, "--format", "{{.ID}}"))
		if id == "" {
			t.Errorf("service %s is not running", svc)
			continue
		}
		image := strings.TrimSpace(run("podman", "inspect", "--format", "{{.ImageDigest}} {{.Image}}", id))
		art := m.Artifacts[m.Services[svc].Artifact]
		want := art.Digest + " " + strings.TrimPrefix(art.ConfigDigest, "sha256:")
		if image != want {
			t.Errorf("service %s runs image %q, want the built %q", svc, image, want)
		}
	}
}
