package main

// End-to-end tests of what happens when things go wrong mid-build: an
// interrupt, a builder that dies, many builds at once.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/manifest"
)

// slowProject has one image whose build sleeps, after a first image that
// builds quickly, and a manifest from an earlier build of the quick one.
func slowProject(t *testing.T) (string, *env) {
	t.Helper()
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "quick" {
  context = "quick"
  tags    = ["forge.test/quick:1"]
}
image "slow" {
  context = "slow"
  tags    = ["forge.test/slow:1"]
}
`,
		"quick/Dockerfile": "FROM scratch\nCOPY Dockerfile /\n",
		"slow/Dockerfile":  busyboxDockerfile + "RUN [\"/bin/sh\", \"-c\", \"sleep 60\"]\n",
	})
	writeBusybox(t, filepath.Join(project, "slow"))
	e := newEnv(t)
	if res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "quick", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("forge build quick: exit %d\n%s", res.code, res.stderr)
	}
	return project, e
}

// startForge starts forge in the background and returns the command.
func startForge(t *testing.T, e *env, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(forgeBin, args...)
	cmd.Env = e.vars
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitForStep waits until stderr shows a step running.
func waitForStep(t *testing.T, stderr *bytes.Buffer, text string) {
	t.Helper()
	if !waitFor(60*time.Second, func() bool { return strings.Contains(stderr.String(), text) }) {
		t.Fatalf("the build never reached %q:\n%s", text, stderr.String())
	}
}

// checkUntouched fails unless the manifest is byte-identical to before and
// no temporary file was left next to it.
func checkUntouched(t *testing.T, project string, before []byte) {
	t.Helper()
	after, _ := os.ReadFile(filepath.Join(project, manifest.DefaultName))
	if !bytes.Equal(before, after) {
		t.Errorf("the manifest changed:\n%s", after)
	}
	entries, _ := os.ReadDir(project)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestInterruptedBuild(t *testing.T) {
	requireDaemon(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			project, e := slowProject(t)
			before, _ := os.ReadFile(filepath.Join(project, manifest.DefaultName))
			cmd, stderr := startForge(t, e, "build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain")
			waitForStep(t, stderr, "sleep 60")
			start := time.Now()
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			elapsed := time.Since(start)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
				t.Errorf("forge build after %v: %v, want exit %d\n%s", sig, err, exitInterrupted, stderr.String())
			}
			if elapsed > 2*time.Second {
				t.Errorf("forge build took %s to stop after %v, want under 2s", elapsed, sig)
			}
			checkUntouched(t, project, before)
		})
	}
}

func TestBuilderKilledMidBuild(t *testing.T) {
	requireDaemon(t)
	project, e := slowProject(t)
	before, _ := os.ReadFile(filepath.Join(project, manifest.DefaultName))
	cmd, stderr := startForge(t, e, "build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain")
	waitForStep(t, stderr, "sleep 60")

	pidFile := filepath.Join(e.dir, "state", "forge", "builder", "buildkitd.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &pid); err != nil {
		t.Fatal(err)
	}
	// A killed buildkitd leaves its mounts behind; undo them before the
	// test's directory is removed.
	t.Cleanup(func() { unmountUnder(e.dir) })
	syscall.Kill(pid, syscall.SIGKILL)

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitBuilder {
			t.Errorf("forge build with its builder killed: %v, want exit %d", err, exitBuilder)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("forge build hung after its builder was killed:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "forge: building image slow: cannot reach BuildKit") {
		t.Errorf("forge build did not say why it failed:\n%s", stderr.String())
	}
	checkUntouched(t, project, before)
}

func TestConcurrentBuildsOfOneProject(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "app" {
  tags = ["forge.test/concurrent:1"]
}
service "web" { image = image.app }
`,
		"Dockerfile":    "FROM scratch\nCOPY Dockerfile /\n",
		".dockerignore": "forge.manifest.json\n",
	})
	e := newEnv(t)
	file := filepath.Join(project, "forge.hcl")
	var wg sync.WaitGroup
	results := make([]result, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.forge("build", "-f", file, "--progress", "quiet")
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 0 {
			t.Errorf("concurrent build %d: exit %d\n%s", i, res.code, res.stderr)
		}
	}
	data, err := os.ReadFile(filepath.Join(project, manifest.DefaultName))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest.Manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Services["web"] == nil {
		t.Errorf("after 20 concurrent builds the manifest is %v:\n%s", err, data)
	}
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

func TestManifestOnFullOrReadOnlyDisk(t *testing.T) {
	requireDaemon(t)
	disk := t.TempDir()
	if err := syscall.Mount("tmpfs", disk, "tmpfs", 0, "size=256k"); err != nil {
		t.Fatalf("mounting a small tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(disk, syscall.MNT_DETACH) })
	project := writeProject(t, map[string]string{
		"forge.hcl":     "image \"app\" {\n  tags = [\"forge.test/disk:1\"]\n}\nservice \"web\" { image = image.app }\n",
		"Dockerfile":    "FROM scratch\nCOPY data.txt /\n",
		"data.txt":      "one\n",
		".dockerignore": ".git\n",
	})
	file := filepath.Join(project, "forge.hcl")
	manifestPath := filepath.Join(disk, "forge.manifest.json")
	e := newEnv(t)
	if res := e.forge("build", "-f", file, "--manifest", manifestPath, "--progress", "quiet"); res.code != 0 {
		t.Fatalf("first build: exit %d\n%s", res.code, res.stderr)
	}
	before, _ := os.ReadFile(manifestPath)

	// Fill the disk, then change an input so that the manifest must change.
	filler, _ := os.Create(filepath.Join(disk, "filler"))
	for {
		if _, err := filler.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	filler.Close()
	os.WriteFile(filepath.Join(project, "data.txt"), []byte("two\n"), 0o644)
	res := e.forge("build", "-f", file, "--manifest", manifestPath, "--progress", "quiet")
	if res.code == 0 || !strings.Contains(res.stderr, "no space left") {
		t.Errorf("build onto a full disk: exit %d, want a failure naming the cause\n%s", res.code, res.stderr)
	}
	checkUntouched(t, disk, before)

	os.Remove(filepath.Join(disk, "filler"))
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remounting read-only: %v", err)
	}
	res = e.forge("build", "-f", file, "--manifest", manifestPath, "--progress", "quiet")
	if res.code == 0 || !strings.Contains(res.stderr, "read-only file system") {
		t.Errorf("build onto a read-only disk: exit %d, want a failure naming the cause\n%s", res.code, res.stderr)
	}
	checkUntouched(t, disk, before)
	// A manifest that cannot be written stops the build before it solves,
	// like one in a directory that does not exist.
	res = e.forge("build", "-f", file, "--manifest", filepath.Join(disk, "missing", "m.json"), "--progress", "quiet")
	if res.code == 0 || !strings.Contains(res.stderr, "no such file or directory") {
		t.Errorf("build with a manifest in a missing directory: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 2)
}

func TestSymlinkOutOfContextIsNotFollowed(t *testing.T) {
	requireDaemon(t)
	canary := fmt.Sprintf("host-only-canary-%d", time.Now().UnixNano())
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte(canary), 0o600); err != nil {
		t.Fatal(err)
	}
	project := writeProject(t, map[string]string{
		"forge.hcl":     "image \"app\" {\n  tags = [\"forge.test/symlink:1\"]\n}\n",
		"Dockerfile":    "FROM scratch\nCOPY . /ctx/\n",
		".dockerignore": ".git\n",
	})
	if err := os.Symlink(outside, filepath.Join(project, "escape")); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "app.tar")
	e := newEnv(t)
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet",
		"--output", "type=oci,dest="+archive)
	if res.code != 0 {
		t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
	}
	if imageContains(t, archive, canary) {
		t.Error("a symlink in the context carried a file from outside it into the image")
	}
}

func TestUnreadableDockerConfigIsReported(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  tags = [\"forge.test/docker-config:1\"]\n}\n",
		"Dockerfile": "FROM scratch\nCOPY Dockerfile /\n",
	})
	dockerConfig := t.TempDir()
	if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(`{"auths": {`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.vars = append(e.vars, "DOCKER_CONFIG="+dockerConfig)
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet")
	if res.code != exitFailure || !strings.Contains(res.stderr, filepath.Join(dockerConfig, "config.json")) {
		t.Fatalf("forge build with a malformed docker config: exit %d, want %d and the file named\n%s",
			res.code, exitFailure, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(project, manifest.DefaultName)); !os.IsNotExist(err) {
		t.Errorf("a manifest was written by a build that did not run (%v)", err)
	}
	checkSolves(t, e, 0)
}

func TestFileChangedDuringBuildIsNotTrusted(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":     "image \"app\" {\n  tags = [\"forge.test/changed:1\"]\n}\n",
		"Dockerfile":    busyboxDockerfile + "RUN sleep 3\nCOPY data.txt /\n",
		"data.txt":      "one\n",
		".dockerignore": ".git\n",
	})
	writeBusybox(t, project)
	file := filepath.Join(project, "forge.hcl")
	e := newEnv(t)
	done := make(chan result, 1)
	go func() { done <- e.forge("build", "-f", file, "--progress", "quiet") }()
	time.Sleep(1500 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(project, "data.txt"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.code != 0 || !strings.Contains(res.stderr, "files changed while it was built") {
		t.Fatalf("forge build with a file changed mid-build: exit %d\n%s", res.code, res.stderr)
	}
	if art := readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"]; art.Fingerprint != "" {
		t.Errorf("recorded fingerprint %s for files the build may not have read", art.Fingerprint)
	}
	// Nothing changes now, but the record cannot vouch for the image: it is
	// built again, and then trusted.
	for range 2 {
		if res := e.forge("build", "-f", file, "--progress", "quiet"); res.code != 0 {
			t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
		}
	}
	checkSolves(t, e, 2)
}
