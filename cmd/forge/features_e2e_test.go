package main

// End-to-end tests of the image attributes beyond the basics: image and
// OCI-layout named contexts, secrets, inline Dockerfiles, labels. Steps that
// RUN a command use a busybox image assembled from Debian's busybox-static.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/manifest"
)

// busyboxPath is where Debian's busybox-static installs the binary.
const busyboxPath = "/bin/busybox"

func requireBusybox(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(busyboxPath)
	if err == nil {
		return data
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("end-to-end test cannot run in CI: %v (make tools installs busybox-static)", err)
	}
	t.Skipf("end-to-end test skipped: %v (make tools installs busybox-static)", err)
	return nil
}

// busyboxDockerfile makes an image with busybox and its applets in /bin.
const busyboxDockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
`

func TestBuildImageContext(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "base" {
  context = "base"
  tags    = ["forge.test/base:1"]
}
image "app" {
  context  = "app"
  contexts = { base = image.base }
  labels   = { "org.example.role" = "app" }
  tags     = ["forge.test/app:1"]
}
service "web" { image = image.app }
`,
		"base/Dockerfile": busyboxDockerfile,
		"app/Dockerfile": "FROM base\nCOPY hello.txt /app/hello.txt\n" +
			"RUN [\"/bin/sh\", \"-c\", \"test -x /bin/busybox && cat /app/hello.txt > /app/seen.txt\"]\n",
		"app/hello.txt": "hello\n",
	})
	writeBusybox(t, filepath.Join(project, "base"))
	e := newEnv(t)

	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain", "app")
	if res.code != 0 {
		t.Fatalf("forge build app: exit %d\n%s", res.code, res.stderr)
	}
	records := history(t, e.builder)
	if len(records) != 1 {
		t.Fatalf("daemon history holds %d solves, want 1 (base built inside app's solve)", len(records))
	}
	checkSingleExport(t, records[0], []string{"forge.test/app:1"})
	if cfg := records[0].ExporterResponse["containerimage.config"]; !strings.Contains(cfg, `"org.example.role":"app"`) {
		t.Errorf("exported image config lacks the label:\n%s", cfg)
	}
	m, err := manifest.Read(filepath.Join(project, manifest.DefaultName))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Artifacts["base"]; ok {
		t.Error("manifest records base, which was built only as app's context")
	}
}

func TestBuildSecretNeverLeaks(t *testing.T) {
	requireDaemon(t)
	const secret = "s3cr3t-v4lue-0f-th3-t3st"
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "app" {
  secrets = [{ id = "token", env = "FORGE_TEST_TOKEN" }]
  tags    = ["forge.test/secret:1"]
}
`,
		// The step compares the secret's digest, so the Dockerfile does not
		// hold the value it checks for.
		"Dockerfile": busyboxDockerfile +
			"RUN --mount=type=secret,id=token [\"/bin/sh\", \"-c\", " +
			"\"sha256sum /run/secrets/token | grep " + digest.FromString(secret).Encoded() +
			" > /checksum\"]\n",
	})
	writeBusybox(t, project)
	e := newEnv(t)
	e.vars = append(e.vars, "FORGE_TEST_TOKEN="+secret)

	archive := filepath.Join(t.TempDir(), "app.tar")
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain",
		"--output", "type=oci,dest="+archive)
	if res.code != 0 {
		t.Fatalf("forge build with a secret: exit %d\n%s", res.code, strings.ReplaceAll(res.stderr, secret, "***"))
	}
	data, err := os.ReadFile(filepath.Join(project, manifest.DefaultName))
	if err != nil {
		t.Fatal(err)
	}
	rec := history(t, e.builder)[0]
	recJSON, _ := json.Marshal(rec)
	for where, text := range map[string]string{
		"stdout": res.stdout, "stderr": res.stderr, "manifest": string(data), "build record": string(recJSON),
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the secret value appears in the %s", where)
		}
	}
	if imageContains(t, archive, secret) {
		t.Error("the secret value appears in the image (layers, config or history)")
	}

	// The secret is not part of the cache key: rebuild without the cache.
	e.vars = append(e.vars, "FORGE_TEST_TOKEN=wrong")
	res = e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet",
		"--set", "app.no_cache=true")
	if res.code == 0 {
		t.Error("forge build with the wrong secret value succeeded; the RUN step does not read the secret")
	}
}

func TestBuildOCILayoutContextAndInlineDockerfile(t *testing.T) {
	requireDaemon(t)
	busybox := requireBusybox(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "app" {
  dockerfile_inline = <<-EOF
    FROM debian:bookworm-slim
    RUN ["/bin/busybox", "sh", "-c", "/bin/busybox test -x /bin/busybox"]
  EOF
  contexts = { "debian:bookworm-slim" = "oci-layout://layout:bookworm-slim" }
  tags     = ["forge.test/layout:1"]
}
`,
	})
	writeOCILayout(t, filepath.Join(project, "layout"), "bookworm-slim", map[string][]byte{"bin/busybox": busybox})
	e := newEnv(t)

	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain")
	if res.code != 0 {
		t.Fatalf("forge build from an OCI layout: exit %d\n%s", res.code, res.stderr)
	}
}

// imageContains reports whether needle occurs in any blob of an OCI or
// docker archive, compressed layers searched after decompression. It
// streams, so that large images do not need to fit in memory.
func imageContains(t *testing.T, archive, needle string) bool {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	blobs := 0
	for {
		if _, err := tr.Next(); err != nil {
			break
		}
		blobs++
		br := bufio.NewReaderSize(tr, 1<<16)
		var r io.Reader = br
		if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			if zr, err := gzip.NewReader(br); err == nil {
				r = zr
			}
		}
		if streamContains(r, []byte(needle)) {
			return true
		}
	}
	if blobs == 0 {
		t.Fatalf("the archive %s is empty", archive)
	}
	return false
}

// streamContains reports whether needle occurs in r, reading it in chunks
// that overlap by len(needle)-1 bytes.
func streamContains(r io.Reader, needle []byte) bool {
	buf := make([]byte, 0, 1<<20+len(needle))
	chunk := make([]byte, 1<<20)
	for {
		n, err := r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, needle) {
			return true
		}
		if keep := len(needle) - 1; len(buf) > keep {
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
		if err != nil {
			return false
		}
	}
}

func writeBusybox(t *testing.T, dir string) {
	t.Helper()
	data := requireBusybox(t)
	if err := os.WriteFile(filepath.Join(dir, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// writeOCILayout writes an OCI image layout at dir holding one linux/amd64
// image tagged tag, of one layer with files (path → content, mode 0755).
func writeOCILayout(t *testing.T, dir, tag string, files map[string][]byte) {
	t.Helper()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	diffID := digest.FromBytes(layer.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer.Bytes())
	zw.Close()

	layerDesc := writeBlob(t, dir, ocispecs.MediaTypeImageLayerGzip, gz.Bytes())
	config := ocispecs.Image{
		Platform: ocispecs.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
	}
	configDesc := writeBlob(t, dir, ocispecs.MediaTypeImageConfig, mustJSON(t, config))
	man := ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, Config: configDesc,
		Layers: []ocispecs.Descriptor{layerDesc}}
	man.SchemaVersion = 2
	manDesc := writeBlob(t, dir, ocispecs.MediaTypeImageManifest, mustJSON(t, man))
	manDesc.Annotations = map[string]string{ocispecs.AnnotationRefName: tag}
	index := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{manDesc}}
	index.SchemaVersion = 2
	writeFileT(t, filepath.Join(dir, ocispecs.ImageIndexFile), mustJSON(t, index))
	writeFileT(t, filepath.Join(dir, ocispecs.ImageLayoutFile), []byte(`{"imageLayoutVersion":"1.0.0"}`))
}

func writeBlob(t *testing.T, dir, mediaType string, data []byte) ocispecs.Descriptor {
	t.Helper()
	dgst := digest.FromBytes(data)
	writeFileT(t, filepath.Join(dir, "blobs", dgst.Algorithm().String(), dgst.Encoded()), data)
	return ocispecs.Descriptor{MediaType: mediaType, Digest: dgst, Size: int64(len(data))}
}

func writeFileT(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildDependsOnOrder(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "first" {
  context = "first"
  tags    = ["forge.test/first:1"]
}
image "second" {
  context    = "second"
  depends_on = [image.first]
  tags       = ["forge.test/second:1"]
}
`,
		"first/Dockerfile":  busyboxDockerfile + "RUN [\"/bin/sh\", \"-c\", \"sleep 1\"]\n",
		"second/Dockerfile": "FROM scratch\nCOPY Dockerfile /\n",
	})
	writeBusybox(t, filepath.Join(project, "first"))
	e := newEnv(t)

	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain", "second")
	if res.code != 0 {
		t.Fatalf("forge build second: exit %d\n%s", res.code, res.stderr)
	}
	byTag := make(map[string]*controlapi.BuildHistoryRecord)
	for _, rec := range history(t, e.builder) {
		byTag[rec.Exporters[0].Attrs["name"]] = rec
	}
	first, second := byTag["forge.test/first:1"], byTag["forge.test/second:1"]
	if first == nil || second == nil {
		t.Fatalf("daemon history holds %d solves, want first and second exported", len(byTag))
	}
	if second.CreatedAt.AsTime().Before(first.CompletedAt.AsTime()) {
		t.Errorf("second started at %s, before first completed at %s",
			second.CreatedAt.AsTime(), first.CompletedAt.AsTime())
	}
}

// requirePodman returns the environment podman needs here: a
// containers.conf with ulimits low enough for this machine's limits.
func requirePodman(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("end-to-end test cannot run in CI: podman is not installed (make tools)")
		}
		t.Skip("end-to-end test skipped: podman is not installed (make tools)")
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	writeFileT(t, conf, []byte("[containers]\ndefault_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n"))
	return []string{"CONTAINERS_CONF=" + conf}
}

// requirePodmanCompose is requirePodman, and podman-compose too.
func requirePodmanCompose(t *testing.T) []string {
	t.Helper()
	env := requirePodman(t)
	if _, err := exec.LookPath("podman-compose"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("end-to-end test cannot run in CI: podman-compose is not installed (make tools)")
		}
		t.Skip("end-to-end test skipped: podman-compose is not installed (make tools)")
	}
	return env
}

// TestLoadFailureSaysWhy checks that an engine that stops reading the
// tarball fails the build with the engine's own message, not a bare
// broken pipe, and that nothing is recorded.
func TestLoadFailureSaysWhy(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  tags = [\"forge.test/load-fails:1\"]\n}\n",
		"Dockerfile": "FROM scratch\nCOPY big /big\n",
		// Larger than a pipe's buffer, so that a write finds the
		// engine gone.
		"big": strings.Repeat("0123456789abcdef", 1<<16),
	})
	bin := t.TempDir()
	engine := "#!/bin/sh\nhead -c 10 >/dev/null\necho 'Error: storage is read-only (load-canary)' >&2\nexit 125\n"
	if err := os.WriteFile(filepath.Join(bin, "podman"), []byte(engine), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	for i, kv := range e.vars {
		if strings.HasPrefix(kv, "PATH=") {
			e.vars[i] = "PATH=" + bin + ":" + strings.TrimPrefix(kv, "PATH=")
		}
	}
	file := filepath.Join(project, "forge.hcl")
	res := e.forge("build", "-f", file, "--load=podman", "--progress", "quiet")
	if res.code == 0 || !strings.Contains(res.stderr, "load-canary") {
		t.Errorf("forge build with a failing engine: exit %d, want an error quoting the engine\n%s",
			res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(project, manifest.DefaultName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed load wrote a manifest: %v", err)
	}
}

func TestBuildLoadIntoPodman(t *testing.T) {
	requireDaemon(t)
	podmanEnv := requirePodman(t)
	tag := fmt.Sprintf("forge.test/load-%d:1", time.Now().UnixNano())
	project := writeProject(t, map[string]string{
		"forge.hcl":  fmt.Sprintf("image \"app\" {\n  tags = [%q]\n}\n", tag),
		"Dockerfile": busyboxDockerfile + "CMD [\"/bin/sh\", \"-c\", \"echo ran-what-forge-built\"]\n",
	})
	writeBusybox(t, project)
	file := filepath.Join(project, "forge.hcl")
	e := newEnv(t)
	e.vars = append(e.vars, podmanEnv...)
	podman := func(args ...string) (string, error) {
		cmd := exec.Command("podman", args...)
		cmd.Env = append(os.Environ(), podmanEnv...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { podman("rmi", "--force", tag) })

	if res := e.forge("build", "-f", file, "--load=podman", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("forge build --load=podman: exit %d\n%s", res.code, res.stderr)
	}
	out, err := podman("run", "--rm", tag)
	if err != nil || !strings.Contains(out, "ran-what-forge-built") {
		t.Fatalf("podman run %s: %v\n%s", tag, err, out)
	}
	// An image that is only loaded is exported once, as a tarball of
	// uncompressed layers.
	if ex := history(t, e.builder)[0].Exporters; len(ex) != 1 || ex[0].Type != client.ExporterDocker ||
		ex[0].Attrs["compression"] != "uncompressed" {
		t.Errorf("exports of a load-only build: %v, want one docker export of uncompressed layers", ex)
	}
	id, _ := podman("image", "inspect", "--format", "{{.Id}}", tag)
	m := readManifestFile(t, filepath.Join(project, manifest.DefaultName))
	if art := m.Artifacts["app"]; art.Loaded != "podman" || art.ConfigDigest != "sha256:"+strings.TrimSpace(id) {
		t.Errorf("manifest artifact = %+v, want loaded into podman with image ID %s", art, id)
	}

	// Unchanged and still in podman: no solve. Gone from podman: rebuilt.
	e.forge("build", "-f", file, "--load=podman", "--progress", "quiet")
	checkSolves(t, e, 1)
	podman("rmi", "--force", tag)
	if res := e.forge("build", "-f", file, "--load=podman", "--progress", "quiet"); res.code != 0 {
		t.Fatalf("forge build after podman rmi: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 2)
	if _, err := podman("image", "exists", tag); err != nil {
		t.Errorf("the image is not back in podman after the rebuild")
	}
}

func TestBuildProvenance(t *testing.T) {
	requireDaemon(t)
	tests := []struct{ name, config string }{
		{"plain", "image \"app\" {\n  tags = [\"forge.test/provenance:1\"]\n}\n"},
		// Built through a gateway build function, which the daemon does not
		// take attestation attributes from.
		{"image context", "image \"base\" {}\nimage \"app\" {\n  dockerfile_inline = \"FROM base\\nCOPY Dockerfile /\"\n" +
			"  contexts = { base = image.base }\n  tags = [\"forge.test/provenance:2\"]\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project := writeProject(t, map[string]string{
				"forge.hcl":  tt.config,
				"Dockerfile": "FROM scratch\nCOPY Dockerfile /\n",
			})
			dir := filepath.Join(t.TempDir(), "oci")
			e := newEnv(t)
			res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet",
				"--provenance", "min", "--output", "type=local,dest="+dir, "app")
			if res.code != 0 {
				t.Fatalf("forge build --provenance min: exit %d\n%s", res.code, res.stderr)
			}
			// The local exporter writes the provenance next to the image's files.
			data, err := os.ReadFile(filepath.Join(dir, "provenance.json"))
			if err != nil || !strings.Contains(string(data), "slsa") {
				t.Errorf("no SLSA provenance in the export (%v): %.200s", err, data)
			}
		})
	}
}

func TestConcurrentIdenticalBuildsShareOneSolve(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  tags = [\"forge.test/shared:1\"]\n}\n",
		"Dockerfile": busyboxDockerfile + "RUN [\"/bin/sh\", \"-c\", \"sleep 1\"]\n",
	})
	writeBusybox(t, project)
	e := newEnv(t)
	if res := e.forge("builder", "start"); res.code != 0 {
		t.Fatalf("forge builder start: exit %d\n%s", res.code, res.stderr)
	}
	g := planProject(t, project)
	c, err := buildkit.Connect(t.Context(), e.builder, buildkit.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var wg sync.WaitGroup
	digests := make([]string, 3)
	for i := range digests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results, err := c.Build(t.Context(), g, buildkit.Options{})
			if err != nil {
				t.Errorf("Build() error: %v", err)
				return
			}
			digests[i] = results["app"].Digest.String()
		}()
	}
	wg.Wait()
	checkSolves(t, e, 1)
	if digests[0] == "" || digests[0] != digests[1] || digests[1] != digests[2] {
		t.Errorf("concurrent builds returned digests %v, want one", digests)
	}
}

func TestBuildOnHostNetwork(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl": "image \"app\" {\n  network = \"host\"\n  tags = [\"forge.test/host-network:1\"]\n}\n",
		// On the host's network the step sees the host's interfaces.
		"Dockerfile": busyboxDockerfile + "RUN [\"/bin/sh\", \"-c\", \"ip -o link | grep -v ' lo:' | grep -q .\"]\n",
	})
	writeBusybox(t, project)
	e := newEnv(t)
	if res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "plain"); res.code != 0 {
		t.Fatalf("forge build of an image on the host network: exit %d\n%s", res.code, res.stderr)
	}
}

func TestImageContextBuiltForItsUsersPlatform(t *testing.T) {
	requireDaemon(t)
	// base records the platform it was built for in /arch.txt.
	files := map[string]string{
		"base/Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch.txt\n",
		"base/amd64.txt":  "amd64",
		"base/arm64.txt":  "arm64",
		"base/386.txt":    "386",
		"Dockerfile":      "FROM base\nCOPY Dockerfile /app.Dockerfile\n",
	}
	both := `["linux/amd64", "linux/arm64"]`
	tests := []struct {
		name          string
		base, app     string            // platforms attributes; "" names none
		want          map[string]string // file of the local export → architecture
		wantErrorText string
	}{
		// A base that names no platform is built for each of app's.
		{"one", "", `["linux/arm64"]`, map[string]string{"arch.txt": "arm64"}, ""},
		{"two", "", both,
			map[string]string{"linux_amd64/arch.txt": "amd64", "linux_arm64/arch.txt": "arm64"}, ""},
		// A base built for several platforms gives each of app's its own.
		{"multi", both, both,
			map[string]string{"linux_amd64/arch.txt": "amd64", "linux_arm64/arch.txt": "arm64"}, ""},
		{"multi to one", both, `["linux/arm64"]`, map[string]string{"arch.txt": "arm64"}, ""},
		{"multi to default", both, "", map[string]string{"arch.txt": "amd64"}, ""},
		// Checked when the builder's platform is known; a platform named
		// in forge.hcl is checked before the build.
		{"multi to other", `["linux/arm64", "linux/386"]`, "", nil, "not for linux/amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files["forge.hcl"] = "image \"base\" {\n  context = \"base\"\n" + platformsAttr(tt.base) + "}\n" +
				"image \"app\" {\n" + platformsAttr(tt.app) + "  contexts = { base = image.base }\n}\n"
			project := writeProject(t, files)
			dest := filepath.Join(t.TempDir(), "out")
			e := newEnv(t)
			res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet",
				"--output", "type=local,dest="+dest, "app")
			if tt.wantErrorText != "" {
				if res.code == 0 || !strings.Contains(res.stderr, tt.wantErrorText) {
					t.Fatalf("forge build: exit %d, want an error saying %q\n%s", res.code, tt.wantErrorText, res.stderr)
				}
				return
			}
			if res.code != 0 {
				t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
			}
			for file, want := range tt.want {
				if got, err := os.ReadFile(filepath.Join(dest, file)); err != nil || string(got) != want {
					t.Errorf("%s = %q (%v), want base built for %s", file, got, err, want)
				}
			}
		})
	}
}

// platformsAttr returns a platforms attribute line of an image block, or
// nothing for "".
func platformsAttr(list string) string {
	if list == "" {
		return ""
	}
	return "  platforms = " + list + "\n"
}

func TestBuildMatrix(t *testing.T) {
	requireDaemon(t)
	// Three combinations, two of them the same build: two solves, and each
	// image's files show the value it was built with.
	project := writeProject(t, map[string]string{
		"forge.hcl": `
image "app" {
  matrix = { flavour = ["plain", "extra", "plain"], suffix = ["x"] }
  name   = "app-${flavour}"
  args   = { FLAVOUR = flavour }
}
service "web" {
  image = image.app-extra
}
`,
		"Dockerfile": "FROM scratch\nARG FLAVOUR\nCOPY ${FLAVOUR}.txt /flavour.txt\n",
		"plain.txt":  "plain",
		"extra.txt":  "extra",
	})
	e := newEnv(t)
	res := e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet")
	if res.code == 0 || !strings.Contains(res.stderr, `Two combinations of the matrix are named "app-plain"`) {
		t.Fatalf("forge build of a matrix naming two images alike: exit %d, want the duplicate reported\n%s",
			res.code, res.stderr)
	}
	writeFileT(t, filepath.Join(project, "forge.hcl"), []byte(`
image "app" {
  matrix = { flavour = ["plain", "extra"], suffix = ["x"] }
  name   = "app-${flavour}-${suffix}"
  args   = { FLAVOUR = flavour }
}
service "web" {
  image = image.app-extra-x
}
`))
	dest := filepath.Join(t.TempDir(), "out")
	res = e.forge("build", "-f", filepath.Join(project, "forge.hcl"), "--progress", "quiet",
		"--output", "type=local,dest="+dest+"/{image}")
	if res.code != 0 {
		t.Fatalf("forge build: exit %d\n%s", res.code, res.stderr)
	}
	checkSolves(t, e, 2)
	for image, want := range map[string]string{"app-plain-x": "plain", "app-extra-x": "extra"} {
		if got, err := os.ReadFile(filepath.Join(dest, image, "flavour.txt")); err != nil || string(got) != want {
			t.Errorf("%s was built with %q (%v), want %q", image, got, err, want)
		}
	}
	m, err := manifest.Read(filepath.Join(project, manifest.DefaultName))
	if err != nil {
		t.Fatal(err)
	}
	if svc := m.Services["web"]; svc == nil || svc.Artifact != "app-extra-x" {
		t.Errorf("the manifest runs web from %+v, want artifact app-extra-x", svc)
	}
}

// TestLoadWithProvenanceIsSkippedWhenUnchanged checks that an image loaded
// with an attestation, whose export returns no configuration digest,
// records the engine's image ID, so that an unchanged rebuild is skipped.
func TestLoadWithProvenanceIsSkippedWhenUnchanged(t *testing.T) {
	requireDaemon(t)
	podmanEnv := requirePodman(t)
	tag := fmt.Sprintf("forge.test/prov-%d:1", time.Now().UnixNano())
	project := writeProject(t, map[string]string{
		"forge.hcl":     fmt.Sprintf("image \"app\" {\n  tags = [%q]\n}\n", tag),
		"Dockerfile":    "FROM scratch\nCOPY a.txt /a.txt\nUSER 1000\n",
		"a.txt":         "a\n",
		".dockerignore": ".git\n",
	})
	file := filepath.Join(project, "forge.hcl")
	e := newEnv(t)
	e.vars = append(e.vars, podmanEnv...)
	t.Cleanup(func() {
		cmd := exec.Command("podman", "rmi", "--force", tag)
		cmd.Env = append(os.Environ(), podmanEnv...)
		cmd.Run()
	})
	for i := range 2 {
		res := e.forge("build", "-f", file, "--load=podman", "--provenance=min", "--progress", "quiet")
		if res.code != 0 {
			t.Fatalf("forge build %d --load --provenance: exit %d\n%s", i+1, res.code, res.stderr)
		}
	}
	art := readManifestFile(t, filepath.Join(project, manifest.DefaultName)).Artifacts["app"]
	if art.ConfigDigest == "" {
		t.Errorf("the manifest records no configuration digest: %+v", art)
	}
	checkSolves(t, e, 1)
}
