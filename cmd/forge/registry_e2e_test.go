package main

// End-to-end tests against a real registry: push, skip-if-unchanged,
// release, and what happens when the registry is down.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/registry"
)

// testRegistry is a distribution registry on a loopback port.
type testRegistry struct {
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRegistry starts a registry with its own storage, stopped when the
// test ends.
func startRegistry(t *testing.T) *testRegistry {
	t.Helper()
	bin := os.Getenv("FORGE_TEST_REGISTRY")
	if bin == "" {
		bin, _ = filepath.Abs(filepath.Join("..", "..", "bin", "registry"))
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("end-to-end test cannot run in CI: no registry at %s (make tools)", bin)
		}
		t.Skipf("end-to-end test skipped: no registry at %s (make tools)", bin)
	}
	dir := t.TempDir()
	addr := closedPort(t)
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &testRegistry{addr: addr, log: &lockedBuffer{}}
	r.cmd = exec.Command(bin, "serve", cfgPath)
	r.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("registry did not answer on %s:\n%s", addr, r.log.String())
	return nil
}

func (r *testRegistry) stop() {
	if r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
}

func readManifestFile(t *testing.T, path string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func registryDigest(t *testing.T, ref string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dgst, err := registry.Digest(ctx, ref)
	if err != nil {
		t.Fatalf("registry lookup of %s: %v", ref, err)
	}
	return dgst.String()
}

func TestPushSkipAndRelease(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	repo := reg.addr + "/forge/app"
	project := writeProject(t, map[string]string{
		"forge.hcl": fmt.Sprintf(`
image "app" {
  args     = { RELEASE = "1" }
  tags     = ["%[1]s:1", "%[1]s:latest"]
  # A local named context holding the manifest: the manifest each build
  # writes must not make the next one rebuild.
  contexts = { project = "." }
}
service "web" { image = image.app }
`, repo),
		"Dockerfile": "FROM scratch\nARG RELEASE\nCOPY main.txt /main.txt\nCOPY --from=project . /project/\n",
		"main.txt":   "first\n",
	})
	file := filepath.Join(project, "forge.hcl")
	manifestPath := filepath.Join(project, manifest.DefaultName)
	e := newEnv(t)

	// First build: one solve, both tags pushed by it.
	res := e.forge("build", "-f", file, "--push", "--json", "--progress", "plain")
	if res.code != 0 {
		t.Fatalf("forge build --push: exit %d\n%s", res.code, res.stderr)
	}
	var rep buildReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("forge build --json output: %v\n%s", err, res.stdout)
	}
	built := rep.Artifacts[0].Digest
	for _, tag := range []string{repo + ":1", repo + ":latest"} {
		if got := registryDigest(t, tag); got != built {
			t.Errorf("registry %s = %s, want the built %s", tag, got, built)
		}
	}
	if !readManifestFile(t, manifestPath).Artifacts["app"].Pushed {
		t.Error("manifest does not record the push")
	}
	checkSolves(t, e, 1)

	// Nothing changed: no solve at all.
	res = e.forge("build", "-f", file, "--push", "--json", "--progress", "plain")
	if res.code != 0 {
		t.Fatalf("second forge build: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, `"skipped": true`) || !strings.Contains(res.stderr, "not rebuilt") {
		t.Errorf("second forge build did not report a skip:\n%s\n%s", res.stdout, res.stderr)
	}
	checkSolves(t, e, 1)

	// A changed input: one more solve.
	if err := os.WriteFile(filepath.Join(project, "main.txt"), []byte("second\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := e.forge("build", "-f", file, "--push", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("third forge build: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 2)
	rebuilt := readManifestFile(t, manifestPath).Artifacts["app"].Digest
	if rebuilt == built {
		t.Fatal("a changed file gave the same digest")
	}

	// Release: a new tag on the recorded digest, and no layer uploaded.
	logBefore := len(reg.log.String())
	res = e.forge("release", "-f", file, "--tag", "v1.0.0")
	if res.code != 0 {
		t.Fatalf("forge release: exit %d\n%s", res.code, res.stderr)
	}
	if got := registryDigest(t, repo+":v1.0.0"); got != rebuilt {
		t.Errorf("released tag points at %s, want %s", got, rebuilt)
	}
	if uploads := reg.log.String()[logBefore:]; strings.Contains(uploads, "blobs/uploads") {
		t.Errorf("forge release uploaded blobs:\n%s", uploads)
	}
	m := readManifestFile(t, manifestPath)
	if p := m.Artifacts["app"].Promotions; len(p) != 1 || p[0].Tag != repo+":v1.0.0" {
		t.Errorf("manifest promotions = %+v, want %s:v1.0.0", p, repo)
	}
	checkSolves(t, e, 2)

	// The registry goes away: push and release fail, the manifest stays.
	before, _ := os.ReadFile(manifestPath)
	reg.stop()
	if err := os.WriteFile(filepath.Join(project, "main.txt"), []byte("third\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := e.forge("build", "-f", file, "--push", "--progress", "quiet"); res.code == 0 {
		t.Error("forge build --push with the registry down succeeded")
	}
	if res := e.forge("release", "-f", file, "--tag", "v2.0.0"); res.code == 0 || res.elapsed > 30*time.Second {
		t.Errorf("forge release with the registry down: exit %d after %s, want a failure", res.code, res.elapsed)
	}
	if after, _ := os.ReadFile(manifestPath); !bytes.Equal(before, after) {
		t.Error("a failed push or release changed the manifest")
	}
}

// checkSolves fails the test unless the builder's history holds n solves.
func checkSolves(t *testing.T, e *env, n int) {
	t.Helper()
	if got := len(history(t, e.builder)); got != n {
		t.Errorf("builder history holds %d solves, want %d", got, n)
	}
}

func TestPushMultiPlatformRecordsEachPlatform(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	repo := reg.addr + "/forge/multi"
	project := writeProject(t, map[string]string{
		"forge.hcl": fmt.Sprintf(`image "app" {
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%s:1"]
}
`, repo),
		// No RUN step: nothing needs to execute for the foreign platform.
		"Dockerfile":    "FROM scratch\nCOPY Dockerfile /\n",
		".dockerignore": ".git\n",
	})
	e := newEnv(t)
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--push", "--progress", "quiet")
	if res.code != 0 {
		t.Fatalf("forge build --push (two platforms): exit %d\n%s", res.code, res.stderr)
	}
	art := readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"]
	if len(art.PlatformDigests) != 2 || art.PlatformDigests["linux/amd64"] == "" || art.PlatformDigests["linux/arm64"] == "" {
		t.Fatalf("manifest platform digests = %v, want linux/amd64 and linux/arm64", art.PlatformDigests)
	}
	for p, d := range art.PlatformDigests {
		if got := registryDigest(t, repo+"@"+d); got != d || d == art.Digest {
			t.Errorf("platform %s digest %s: registry has %s (index %s)", p, d, got, art.Digest)
		}
	}
}

// TestPushWithFileOutputRecordsThePushedDigest checks that a push with a
// file output written differently (zstd layers, no annotations) records
// the digest the registry holds, not the file's.
func TestPushWithFileOutputRecordsThePushedDigest(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	repo := reg.addr + "/forge/withfile"
	project := writeProject(t, map[string]string{
		"forge.hcl": fmt.Sprintf(`
image "app" {
  tags        = ["%s:1"]
  annotations = { "org.opencontainers.image.title" = "app" }
}
`, repo),
		"Dockerfile": "FROM scratch\nCOPY main.txt /main.txt\n",
		"main.txt":   "content\n",
	})
	file := filepath.Join(project, "forge.hcl")
	e := newEnv(t)
	archive := filepath.Join(t.TempDir(), "app.tar")
	res := e.forge("build", "-f", file, "--push", "--progress", "quiet",
		"--output", "type=oci,dest="+archive+",compression=zstd")
	if res.code != 0 {
		t.Fatalf("forge build --push --output: exit %d\n%s", res.code, res.stderr)
	}
	recorded := readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"].Digest
	if pushed := registryDigest(t, repo+":1"); recorded != pushed {
		t.Errorf("manifest records %s, the registry holds %s", recorded, pushed)
	}
	if _, err := os.Stat(archive); err != nil {
		t.Errorf("the file output is missing: %v", err)
	}

	// With an attestation the pushed image is an index, and its
	// configuration digest comes from the registry.
	res = e.forge("build", "-f", file, "--push", "--no-cache", "--provenance", "min", "--progress", "quiet")
	if res.code != 0 {
		t.Fatalf("forge build --push --provenance: exit %d\n%s", res.code, res.stderr)
	}
	art := readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"]
	if want, err := registry.ConfigDigest(t.Context(), repo+":1"); err != nil || want == "" ||
		art.ConfigDigest != want.String() {
		t.Errorf("manifest records configuration %q, the registry's image has %q (%v)", art.ConfigDigest, want, err)
	}

	// A layout directory is indexed with the pushed image, whose blobs it
	// holds.
	layout := filepath.Join(t.TempDir(), "layout")
	res = e.forge("build", "-f", file, "--push", "--no-cache", "--progress", "quiet",
		"--output", "type=oci,dest="+layout+",tar=false")
	if res.code != 0 {
		t.Fatalf("forge build --push --output tar=false: exit %d\n%s", res.code, res.stderr)
	}
	recorded = readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"].Digest
	if pushed := registryDigest(t, repo+":1"); recorded != pushed {
		t.Errorf("manifest records %s, the registry holds %s", recorded, pushed)
	}
	data, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) == 0 ||
		index.Manifests[0].Digest != recorded {
		t.Fatalf("layout index.json = %s, want the recorded %s", data, recorded)
	}
	blob := filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(recorded, "sha256:"))
	if _, err := os.Stat(blob); err != nil {
		t.Errorf("the layout lacks the manifest its index names: %v", err)
	}
}

// TestImageContextWithCacheImport checks that an image built on another
// image block, which forge solves through a gateway build, can import a
// cache, and that both images' caches are exported and imported again.
func TestImageContextWithCacheImport(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": fmt.Sprintf(`
image "base" {
  dockerfile = "base.Dockerfile"
  tags       = ["%[1]s/base:1"]
}
image "app" {
  contexts   = { base = image.base }
  cache_from = ["type=registry,ref=%[1]s/cache:app"]
  cache_to   = ["type=registry,ref=%[1]s/cache:app,mode=max"]
  tags       = ["%[1]s/ctx:1"]
}
`, reg.addr),
		"base.Dockerfile": "FROM scratch\nCOPY main.txt /main.txt\n",
		"Dockerfile":      "FROM base\nCOPY app.txt /app.txt\n",
		"main.txt":        "base\n",
		"app.txt":         "app\n",
	})
	file := filepath.Join(project, "forge.hcl")
	e := newEnv(t)
	for i := range 2 {
		if res := e.forge("build", "-f", file, "--push", "--no-cache", "--progress", "quiet"); res.code != 0 {
			t.Fatalf("forge build %d of an image context with a cache import: exit %d\n%s", i+1, res.code, res.stderr)
		}
	}
}

// TestReleaseMovesTagsOnlyWhenForced checks that a release tag already on
// another image is moved only with --force, that the manifest then
// records it on the image it names and no other, and that releasing again
// records nothing twice.
func TestReleaseMovesTagsOnlyWhenForced(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	repo := reg.addr + "/forge/rel"
	project := writeProject(t, map[string]string{
		"forge.hcl": fmt.Sprintf(`
image "a" {
  target = "a"
  tags   = ["%[1]s:a"]
}
image "b" {
  target = "b"
  tags   = ["%[1]s:b"]
}
`, repo),
		"Dockerfile": "FROM scratch AS a\nCOPY a.txt /\nFROM scratch AS b\nCOPY b.txt /\n",
		"a.txt":      "a\n",
		"b.txt":      "b\n",
	})
	file := filepath.Join(project, "forge.hcl")
	manifestPath := filepath.Join(project, manifest.DefaultName)
	e := newEnv(t)
	if res := e.forge("build", "-f", file, "--push", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("forge build --push: exit %d\n%s", res.code, res.stderr)
	}
	m := readManifestFile(t, manifestPath)
	digestA, digestB := m.Artifacts["a"].Digest, m.Artifacts["b"].Digest
	promoted := func(image string) []string {
		var tags []string
		for _, p := range readManifestFile(t, manifestPath).Artifacts[image].Promotions {
			tags = append(tags, p.Tag)
		}
		return tags
	}

	if res := e.forge("release", "-f", file, "--tag", "v1", "a"); res.code != 0 {
		t.Fatalf("forge release a: exit %d\n%s", res.code, res.stderr)
	}
	res := e.forge("release", "-f", file, "--tag", "v1", "b")
	if res.code == 0 || !strings.Contains(res.stderr, "--force") {
		t.Errorf("forge release of a tag another image holds: exit %d, want a refusal naming --force\n%s",
			res.code, res.stderr)
	}
	if got := registryDigest(t, repo+":v1"); got != digestA {
		t.Errorf("after the refusal v1 names %s, want a's %s", got, digestA)
	}
	if res := e.forge("release", "-f", file, "--tag", "v1", "--force", "b"); res.code != 0 {
		t.Fatalf("forge release --force b: exit %d\n%s", res.code, res.stderr)
	}
	if res := e.forge("release", "-f", file, "--tag", "v1", "--tag", "v1", "b"); res.code != 0 {
		t.Fatalf("forge release b again: exit %d\n%s", res.code, res.stderr)
	}
	if got := registryDigest(t, repo+":v1"); got != digestB {
		t.Errorf("v1 names %s, want b's %s", got, digestB)
	}
	if a, b := promoted("a"), promoted("b"); len(a) != 0 || !slices.Equal(b, []string{repo + ":v1"}) {
		t.Errorf("promotions: a %v, b %v; want none on a and v1 once on b", a, b)
	}
}
