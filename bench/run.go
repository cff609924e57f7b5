package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forge-build/forge/internal/genconfig"
)

// sample is one measured run: wall time and the peak resident memory of
// the processes it ran (the largest one).
type sample struct {
	wall   time.Duration
	peakKB int64
}

// row is one scenario's medians.
type row struct {
	name   string
	wall   time.Duration
	peakKB int64
	note   string
}

// benchEnv is the machinery the scenarios share.
type benchEnv struct {
	cfg      config
	dir      string
	vars     []string
	builder  string
	registry string
	digest   string
	bust     int
	versions string
}

func run(cfg config) ([]row, *benchEnv, error) {
	e, cleanup, err := setup(cfg)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	var scenarios []scenario
	for _, s := range e.scenarios() {
		if cfg.only.MatchString(s.name) {
			scenarios = append(scenarios, s)
		}
	}
	// Runs go round the scenarios, so that a machine that speeds up or
	// slows down over the benchmark (page cache, the builder's state)
	// weighs on every scenario alike.
	samples := make([][]sample, len(scenarios))
	for range cfg.runs {
		for i, s := range scenarios {
			smp, err := s.fn()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", s.name, err)
			}
			samples[i] = append(samples[i], smp)
			fmt.Fprintf(os.Stderr, "%-44s %8.3fs %7.1f MB\n", s.name, smp.wall.Seconds(), float64(smp.peakKB)/1024)
		}
	}
	rows := make([]row, len(scenarios))
	for i, s := range scenarios {
		rows[i] = median(s, samples[i])
	}
	return rows, e, nil
}

type scenario struct {
	name, note string
	fn         func() (sample, error)
}

func (e *benchEnv) scenarios() []scenario {
	var out []scenario
	for _, out1 := range []string{"load", "push"} {
		kind := out1
		// forge sends a load-only image uncompressed; the bare solve, its
		// lower bound, does the same. The per-service solves and bake keep
		// their tools' default, gzip.
		own := ""
		if kind == "load" {
			own = "uncompressed"
		}
		out = append(out, scenario{"bare solve, " + kind, "one BuildKit solve, no forge", func() (sample, error) {
			return e.bare(1, kind, own)
		}})
		for _, n := range []int{1, 3, 10} {
			n := n
			out = append(out, scenario{fmt.Sprintf("forge, N=%d, %s", n, kind), "", func() (sample, error) {
				return e.forgeBuild(n, kind)
			}})
		}
		for _, n := range []int{3, 10} {
			n := n
			out = append(out, scenario{fmt.Sprintf("per-service solves, N=%d, %s", n, kind),
				"one solve and export per service, as compose builds", func() (sample, error) {
					return e.bare(n, kind, "")
				}})
		}
		if e.cfg.buildx == "" {
			continue
		}
		out = append(out, scenario{"buildx bake, N=3, " + kind,
			"compose.yaml with three build: . services", func() (sample, error) {
				return e.bake(3, kind, "")
			}})
		if kind == "load" {
			out = append(out, scenario{"buildx bake uncompressed, N=3, " + kind,
				"the same, told not to compress, as forge", func() (sample, error) {
					return e.bake(3, kind, own)
				}})
		}
	}
	out = append(out,
		scenario{"forge, no-op (nothing changed), push", "fingerprint matches, image in registry", e.noop},
		scenario{"forge plan, 1,000 services", "no builder", e.plan1000},
	)
	return out
}

// median returns the row of scenario s: the medians of its samples.
func median(s scenario, samples []sample) row {
	walls := make([]time.Duration, len(samples))
	peaks := make([]int64, len(samples))
	for i, smp := range samples {
		walls[i], peaks[i] = smp.wall, smp.peakKB
	}
	slices.Sort(walls)
	slices.Sort(peaks)
	return row{name: s.name, wall: walls[len(walls)/2], peakKB: peaks[len(peaks)/2], note: s.note}
}

// setup starts a builder and a registry of the benchmark's own and writes
// the fixture project.
func setup(cfg config) (*benchEnv, func(), error) {
	dir, err := os.MkdirTemp("", "forge-bench-")
	if err != nil {
		return nil, nil, err
	}
	e := &benchEnv{cfg: cfg, dir: dir}
	e.vars = append(os.Environ(),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"FORGE_VAR_base_layout="+cfg.base, "FORGE_PROGRESS=quiet")
	stopRegistry, err := e.startRegistry()
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		e.command(cfg.forge, "builder", "stop").Run()
		stopRegistry()
		os.RemoveAll(dir)
	}
	steps := []func() error{e.startBuilder, e.createBuildx, e.readBase, e.writeFixture, e.writeEngine, e.warm}
	for _, step := range steps {
		if err := step(); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	return e, cleanup, nil
}

func (e *benchEnv) startBuilder() error {
	out, err := e.command(e.cfg.forge, "builder", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("forge builder start: %v\n%s", err, out)
	}
	e.builder = "unix://" + filepath.Join(e.dir, "run", "forge", "buildkitd.sock")
	e.versions = "BuildKit " + moduleVersion(os.Getenv("FORGE_BUILDKITD"), "github.com/moby/buildkit")
	return nil
}

func (e *benchEnv) startRegistry() (func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.registry = l.Addr().String()
	l.Close()
	cfgPath := filepath.Join(e.dir, "registry.yml")
	config := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		filepath.Join(e.dir, "registry"), e.registry)
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(e.cfg.registry, "serve", cfgPath)
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + e.registry + "/v2/"); err == nil {
			resp.Body.Close()
			return stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("the registry did not start")
}

func (e *benchEnv) readBase() error {
	data, err := os.ReadFile(filepath.Join(e.cfg.base, "index.json"))
	if err != nil {
		return err
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(data, &index); err != nil || len(index.Manifests) == 0 {
		return fmt.Errorf("reading %s/index.json: %v", e.cfg.base, err)
	}
	e.digest = index.Manifests[0].Digest
	return nil
}

// writeFixture writes the project: a Debian base plus application files
// of cfg.appMB megabytes, and a step that depends on the BUST argument so
// that each run really builds.
func (e *benchEnv) writeFixture() error {
	ctx := filepath.Join(e.dir, "project")
	if err := os.MkdirAll(filepath.Join(ctx, "app"), 0o755); err != nil {
		return err
	}
	for i := range e.cfg.appMB {
		data := make([]byte, 1<<20)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(ctx, "app", fmt.Sprintf("blob%03d.bin", i)), data, 0o644); err != nil {
			return err
		}
	}
	dockerfile := "FROM debian:bookworm-slim\nARG BUST\nRUN echo \"$BUST\" > /etc/build-id\nCOPY app/ /app/\n"
	files := map[string]string{
		"Dockerfile":    dockerfile,
		".dockerignore": "forge.hcl\nforge.manifest.json\nplan.hcl\n",
		"compose.yaml":  "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(ctx, "plan.hcl"), []byte(genconfig.Services(100, 1000)), 0o644)
}

// warm builds once so that every measured run starts with the base image
// and the context in the builder's cache, as a developer's builder does.
func (e *benchEnv) warm() error {
	_, err := e.forgeBuild(1, "load")
	return err
}

// writeEngine writes the podman that forge's load scenarios find first on
// PATH: it keeps the tarball forge sends to "podman load" in a file, so that
// they time forge's side of a load and not an engine's import, the same
// for every tool.
func (e *benchEnv) writeEngine() error {
	dir := filepath.Join(e.dir, "engine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	script := "#!/bin/sh\n[ \"$1\" = load ] || exit 1\nexec cat >\"$FORGE_BENCH_TARBALL\"\n"
	return os.WriteFile(filepath.Join(dir, "podman"), []byte(script), 0o755)
}

func (e *benchEnv) projectDir() string { return filepath.Join(e.dir, "project") }

// forgeConfig returns a forge.hcl with one image used by n services.
func (e *benchEnv) forgeConfig(n int, kind string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "variable \"base_layout\" {}\n")
	fmt.Fprintf(&b, "image \"app\" {\n  contexts = { \"debian:bookworm-slim\" = \"oci-layout://${var.base_layout}\" }\n")
	fmt.Fprintf(&b, "  tags = [\"%s/bench/forge-%s-%d:latest\"]\n}\n", e.registry, kind, n)
	for i := range n {
		fmt.Fprintf(&b, "service \"svc%d\" {\n  image = image.app\n  command = [\"run\", \"%d\"]\n}\n", i, i)
	}
	return b.String()
}

func (e *benchEnv) forgeBuild(n int, kind string) (sample, error) {
	if err := os.WriteFile(filepath.Join(e.projectDir(), "forge.hcl"), []byte(e.forgeConfig(n, kind)), 0o644); err != nil {
		return sample{}, err
	}
	e.bust++
	args := []string{"build", "-f", filepath.Join(e.projectDir(), "forge.hcl"), "--no-check",
		"--set", fmt.Sprintf("app.args.BUST=%d-%d", time.Now().UnixNano(), e.bust)}
	cmd := e.command(e.cfg.forge, append(args, "--push")...)
	if kind == "load" {
		cmd = e.command(e.cfg.forge, append(args, "--load=podman")...)
		cmd.Env = append(cmd.Env, "PATH="+filepath.Join(e.dir, "engine")+string(filepath.ListSeparator)+os.Getenv("PATH"),
			"FORGE_BENCH_TARBALL="+filepath.Join(e.dir, "forge.tar"))
	}
	return e.timed(cmd)
}

func (e *benchEnv) noop() (sample, error) {
	config := filepath.Join(e.projectDir(), "forge.hcl")
	args := []string{"build", "-f", config, "--no-check", "--push"}
	if err := os.WriteFile(config, []byte(e.forgeConfig(3, "noop")), 0o644); err != nil {
		return sample{}, err
	}
	if _, err := e.timed(e.command(e.cfg.forge, args...)); err != nil {
		return sample{}, err
	}
	return e.timed(e.command(e.cfg.forge, args...))
}

func (e *benchEnv) plan1000() (sample, error) {
	return e.timed(e.command(e.cfg.forge, "plan", "-f", filepath.Join(e.projectDir(), "plan.hcl")))
}

// bare runs n bare solves at once, each exporting the image on its own,
// as builds per service do.
func (e *benchEnv) bare(n int, kind, compression string) (sample, error) {
	self, err := os.Executable()
	if err != nil {
		return sample{}, err
	}
	e.bust++
	bust := fmt.Sprintf("%d-%d", time.Now().UnixNano(), e.bust)
	var cmds []*exec.Cmd
	for i := range n {
		b := bareSolve{addr: e.builder, context: e.projectDir(), layout: e.cfg.base, digest: e.digest,
			bust: bust, output: kind, compression: compression, dest: filepath.Join(e.dir, fmt.Sprintf("bare%d.tar", i)),
			tags: []string{fmt.Sprintf("%s/bench/bare-%d:latest", e.registry, i)}}
		cmds = append(cmds, e.command(self, append([]string{"-bare"}, b.args()...)...))
	}
	return e.timedAll(cmds)
}

func (e *benchEnv) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = e.vars
	return cmd
}

func (e *benchEnv) timed(cmd *exec.Cmd) (sample, error) {
	return e.timedAll([]*exec.Cmd{cmd})
}

// timedAll runs cmds concurrently and returns the wall time until the last
// ends and the largest peak memory among them.
func (e *benchEnv) timedAll(cmds []*exec.Cmd) (sample, error) {
	var mu sync.Mutex
	var s sample
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for _, cmd := range cmds {
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Run()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > s.peakKB {
				s.peakKB = ru.Maxrss
			}
		}()
	}
	wg.Wait()
	s.wall = time.Since(start)
	return s, firstErr
}

// moduleVersion returns the version of module mod that the Go binary bin
// was built with, or "unknown".
func moduleVersion(bin, mod string) string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 3 && fields[1] == mod {
			return fields[2]
		}
	}
	return "unknown"
}

// createBuildx points a buildx builder of the benchmark's own at forge's
// builder, with buildx's remote driver.
func (e *benchEnv) createBuildx() error {
	if e.cfg.buildx == "" {
		return nil
	}
	e.vars = append(e.vars, "BUILDX_CONFIG="+filepath.Join(e.dir, "buildx"), "BUILDX_BAKE_ENTITLEMENTS_FS=0")
	out, err := e.command(e.cfg.buildx, "create", "--name", "forgebench", "--driver", "remote", e.builder).CombinedOutput()
	if err != nil {
		return fmt.Errorf("buildx create: %v\n%s", err, out)
	}
	e.versions += ", buildx " + moduleVersion(e.cfg.buildx, "github.com/docker/buildx")
	return nil
}

// bake runs docker buildx bake on a compose file of n services that each
// say build: . , as a compose project moved to bake would.
func (e *benchEnv) bake(n int, kind, compression string) (sample, error) {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    image: %s/bench/bake-%d:latest\n    build:\n      context: .\n", i, e.registry, i)
		fmt.Fprintf(&b, "      additional_contexts:\n        \"debian:bookworm-slim\": \"oci-layout://%s@%s\"\n",
			e.cfg.base, e.digest)
	}
	file := filepath.Join(e.dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		return sample{}, err
	}
	e.bust++
	args := []string{"bake", "-f", file, "--builder", "forgebench", "--progress", "quiet",
		"--set", fmt.Sprintf("*.args.BUST=%d-%d", time.Now().UnixNano(), e.bust),
		"--set", "*.context=" + e.projectDir()}
	for i := range n {
		if kind == "push" {
			args = append(args, "--set", fmt.Sprintf("s%d.output=type=image,push=true", i))
		} else {
			output := fmt.Sprintf("s%d.output=type=docker,dest=%s", i, filepath.Join(e.dir, fmt.Sprintf("bake%d.tar", i)))
			if compression != "" {
				output += ",compression=" + compression + ",force-compression=true"
			}
			args = append(args, "--set", output)
		}
	}
	return e.timed(e.command(e.cfg.buildx, args...))
}
