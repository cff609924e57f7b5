package compose

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/forge-build/forge/pkg/plan"
)

var update = flag.Bool("update", false, "rewrite the import golden files")

// TestImport imports each testdata/import/NAME.yaml and compares the result
// with NAME.hcl and the problems with NAME.problems. Run with -update to
// rewrite them. Each golden forge.hcl must load without errors in place.
func TestImport(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "import", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs in testdata/import: %v", err)
	}
	for _, input := range inputs {
		base := strings.TrimSuffix(input, ".yaml")
		t.Run(filepath.Base(base), func(t *testing.T) {
			got, err := Import(context.Background(), []string{input}, ImportOptions{})
			if err != nil {
				t.Fatalf("Import(%s) = %v", input, err)
			}
			compareGolden(t, base+".hcl", got.HCL)
			compareGolden(t, base+".problems", problemLines(got.Problems))
			loadConfig(t, base+".hcl")
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestImport -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func problemLines(problems []Problem) []byte {
	var b bytes.Buffer
	for _, p := range problems {
		b.WriteString(p.String() + "\n")
	}
	return b.Bytes()
}

// loadConfig loads a forge.hcl with forge's own parser and fails the test
// on any error diagnostic.
func loadConfig(t *testing.T, path string) *plan.Config {
	t.Helper()
	cfg, diags := plan.NewParser().Load(path, plan.LoadOptions{})
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			t.Errorf("%s: %v", path, d)
		}
	}
	if cfg == nil || diags.HasErrors() {
		t.FailNow()
	}
	return cfg
}

// TestImportSharesOneBuild checks that services with identical build
// sections, and a service naming the image they build, run one build node.
func TestImportSharesOneBuild(t *testing.T) {
	tests := []struct {
		input    string
		services []string
	}{
		{"django", []string{"celery_beat", "celery_worker", "web"}},
		{"envfile", []string{"web", "worker"}},
		{"extends", []string{"api", "worker"}},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			cfg := loadConfig(t, filepath.Join("testdata", "import", tt.input+".hcl"))
			g, err := plan.New(cfg)
			if err != nil {
				t.Fatalf("plan.New(%s) = %v", tt.input, err)
			}
			if len(g.Nodes) != 1 {
				t.Fatalf("plan.New(%s) has %d nodes, want 1", tt.input, len(g.Nodes))
			}
			got := slices.Sorted(slices.Values(g.Nodes[0].Services))
			if diff := cmp.Diff(tt.services, got); diff != "" {
				t.Errorf("services of the node (-want +got):\n%s", diff)
			}
		})
	}
}

// TestImportReadsNoEnvironment checks that nothing from the environment
// reaches the output: neither build args without a value, nor pass-through
// runtime variables, nor ${VAR} references.
func TestImportReadsNoEnvironment(t *testing.T) {
	names := []string{
		"COMMIT_SHA", "NPM_TOKEN", "QUEUE_URL", "API_TOKEN", "DOMAIN", "DJANGO_SECRET_KEY",
	}
	for _, name := range names {
		t.Setenv(name, "leaked-"+name)
	}
	for _, input := range []string{"envfile", "django"} {
		path := filepath.Join("testdata", "import", input+".yaml")
		got, err := Import(context.Background(), []string{path}, ImportOptions{})
		if err != nil {
			t.Fatalf("Import(%s) = %v", input, err)
		}
		if bytes.Contains(got.HCL, []byte("leaked-")) {
			t.Errorf("Import(%s) copied a value from the environment:\n%s", input, got.HCL)
		}
	}
}

// TestImportNeverMakesRuntimeEnvBuildArgs checks that a service's runtime
// environment and env files never become build args, even when a build arg
// of the same name has no value.
func TestImportNeverMakesRuntimeEnvBuildArgs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM scratch\n",
		"app.env":    "RELEASE=from-env-file\n",
		"compose.yaml": `services:
  app:
    build:
      context: .
      args: [RELEASE]
    env_file: app.env
    environment:
      RELEASE: from-environment
`,
	})
	_, cfg := importProject(t, dir)
	if arg := cfg.Image("app").Args["RELEASE"]; arg != "" {
		t.Errorf("args.RELEASE = %q, want \"\"", arg)
	}
	if env := cfg.Service("app").Env["RELEASE"]; env != "from-environment" {
		t.Errorf("env.RELEASE = %q, want from-environment", env)
	}
}

// TestImportProblemFiles checks that a problem names the file that sets the
// key: with an override file, the last one.
func TestImportProblemFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile":            "FROM scratch\n",
		"compose.yaml":          "services:\n  app:\n    build: .\n    restart: always\n",
		"compose.override.yaml": "services:\n  app:\n    privileged: true\n    restart: \"no\"\n",
	})
	paths := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "compose.override.yaml")}
	got, err := Import(context.Background(), paths, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const msg = "not carried over: forge.hcl has no equivalent"
	want := []Problem{
		{File: paths[1], Service: "app", Key: "privileged", Message: msg},
		{File: paths[1], Service: "app", Key: "restart", Message: msg},
	}
	if diff := cmp.Diff(want, got.Problems); diff != "" {
		t.Errorf("Import problems (-want +got):\n%s", diff)
	}
	header := "# Generated by forge import from compose.yaml, compose.override.yaml;"
	if !bytes.HasPrefix(got.HCL, []byte(header)) {
		t.Errorf("Import header = %q", bytes.SplitN(got.HCL, []byte("\n"), 2)[0])
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
	}{
		{"no file", nil},
		{"missing file", []string{filepath.Join(t.TempDir(), "compose.yaml")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Import(context.Background(), tt.paths, ImportOptions{}); err == nil {
				t.Errorf("Import(%q) = nil error, want one", tt.paths)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"web", "web"},
		{"celery.worker", "celery_worker"},
		{"1web", "web"},
		{"${IMAGE}", "IMAGE"},
		{"---", "fallback"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, "fallback"); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRefName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"redis:7", "redis"},
		{"registry.example.com:5000/team/app:1.2", "app"},
		{"ghcr.io/example/app@sha256:0123", "app"},
		{"${REGISTRY}/app:${TAG}", "app"},
	}
	for _, tt := range tests {
		if got := refName(tt.in); got != tt.want {
			t.Errorf("refName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestImporterPath(t *testing.T) {
	im := &importer{dir: "/home/u/src/proj", home: "/home/u"}
	tests := []struct {
		path  string
		tilde bool
		want  string
	}{
		{"/home/u/src/proj", false, "."},
		{"/home/u/src/proj/app", false, "app"},
		{"/home/u/src/shared", true, "../shared"},
		{"/home/u/.ssh/id_ed25519", true, "~/.ssh/id_ed25519"},
		{"/home/u/.ssh/id_ed25519", false, "../../.ssh/id_ed25519"},
		{"/var/run/docker.sock", true, "/var/run/docker.sock"},
	}
	for _, tt := range tests {
		if got := im.path(tt.path, tt.tilde); got != tt.want {
			t.Errorf("path(%q, %v) = %q, want %q", tt.path, tt.tilde, got, tt.want)
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHeredoc(t *testing.T) {
	tests := []struct{ text, want string }{
		{"FROM alpine\n", "FROM alpine\n"},
		{"FROM alpine", "FROM alpine\n"},
		{"ENV A=${B} C=%{D}\n", "ENV A=${B} C=%{D}\n"},
		{"RUN cat <<EOT\nhi\nEOT\n", "RUN cat <<EOT\nhi\nEOT\n"},
	}
	for _, tt := range tests {
		src := append([]byte("x = "), heredoc(tt.text).Bytes()...)
		src = append(src, '\n')
		file, diags := hclsyntax.ParseConfig(src, "test.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("heredoc(%q) does not parse: %v\n%s", tt.text, diags, src)
		}
		attrs, _ := file.Body.JustAttributes()
		got, diags := attrs["x"].Expr.Value(nil)
		if diags.HasErrors() || got.AsString() != tt.want {
			t.Errorf("heredoc(%q) evaluates to %#v (%v), want %q", tt.text, got, diags, tt.want)
		}
	}
}

func TestDefaultTags(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		want []string
	}{
		{"web", nil, nil},
		{"celery_beat", nil, nil},
		{"web", []string{"example/web:1"}, []string{"example/web:1"}},
		{"MyApp", nil, []string{"myapp:latest"}},
		{"api___v2-", nil, []string{"api-v2:latest"}},
	}
	for _, tt := range tests {
		if got := defaultTags(&buildGroup{name: tt.name, tags: tt.tags}); !slices.Equal(got, tt.want) {
			t.Errorf("defaultTags(%q, %q) = %q, want %q", tt.name, tt.tags, got, tt.want)
		}
	}
}

// TestImportCommentsStayComments checks that compose names and values that
// end up in comments cannot write configuration of their own.
func TestImportCommentsStayComments(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM scratch\n",
		"compose.yaml": `services:
  app:
    build:
      context: .
      args: ["NO_VALUE\nimage \"from_args\" {}\n#"]
    image: "external:1\nimage \"from_image\" {}"
    environment:
      "BAD\nimage \"from_env\" {}\n#": x
`,
	})
	got, err := Import(context.Background(), []string{filepath.Join(dir, "compose.yaml")}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// forge refuses the odd argument name later, with a located error;
	// here only the file's structure matters.
	f, diags := hclsyntax.ParseConfig(got.HCL, "forge.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("ParseConfig(import) = %v\n%s", diags, got.HCL)
	}
	for _, block := range f.Body.(*hclsyntax.Body).Blocks {
		if len(block.Labels) > 0 && strings.HasPrefix(block.Labels[0], "from_") {
			t.Errorf("a compose value wrote block %s %s:\n%s", block.Type, block.Labels[0], got.HCL)
		}
	}
}

// TestImportRunnerOfAnotherSpelling checks that a service running, by
// another spelling, the image another service builds runs that build.
func TestImportRunnerOfAnotherSpelling(t *testing.T) {
	got, cfg := importCompose(t, `services:
  web:
    build: .
    image: app:latest
  worker:
    image: docker.io/library/app
`)
	if svc := cfg.Service("worker"); svc == nil || svc.Image != cfg.Service("web").Image {
		t.Errorf("worker does not run web's image:\n%s", got.HCL)
	}
}

// TestImportLeavesOutVariableEntries checks that volumes and ports that
// need compose variables are left out and reported, and the rest imported.
func TestImportLeavesOutVariableEntries(t *testing.T) {
	got, cfg := importCompose(t, `services:
  web:
    build: .
    volumes:
      - "${DATA_DIR:-/srv/data}:/data:Z"
      - ./static:/static:z
      - type: bind
        source: ${CACHE_DIR}
        target: /cache
    ports:
      - "${PORT:-8000}:8000"
      - "9000:9000"
`)
	web := cfg.Service("web")
	if len(web.Volumes) != 1 || !slices.Equal(web.Ports, []string{"9000:9000"}) {
		t.Errorf("web volumes %v, ports %v: want only the entries without variables", web.Volumes, web.Ports)
	}
	var reported []string
	for _, p := range got.Problems {
		reported = append(reported, p.Key+": "+p.Message)
	}
	for _, name := range []string{"DATA_DIR", "CACHE_DIR", "PORT"} {
		if !slices.ContainsFunc(reported, func(r string) bool { return strings.Contains(r, name) }) {
			t.Errorf("no problem reports the entry using %s: %v", name, reported)
		}
	}
}

// importProject imports dir/compose.yaml and parses the result as
// dir/forge.hcl.
func importProject(t *testing.T, dir string) (*Imported, *plan.Config) {
	t.Helper()
	got, err := Import(context.Background(), []string{filepath.Join(dir, "compose.yaml")}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := plan.NewParser().Parse(got.HCL, filepath.Join(dir, "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Parse(import) = %v\n%s", diags, got.HCL)
	}
	return got, cfg
}

// importCompose imports a project of a Dockerfile and compose.yaml holding
// compose, and parses the result.
func importCompose(t *testing.T, compose string) (*Imported, *plan.Config) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", "compose.yaml": compose})
	return importProject(t, dir)
}

// TestImportReportQuotesNoSecret checks that the report on a value holding
// compose variables never quotes the value of a build arg or variable whose
// name looks like a secret, while it quotes other values.
func TestImportReportQuotesNoSecret(t *testing.T) {
	const canary = "pa${SUFFIX}w0rd-canary"
	got, _ := importCompose(t, `services:
  web:
    build:
      context: .
      args:
        NPM_TOKEN: "`+canary+`"
        GREETING: "hello ${USER}"
    environment:
      DB_PASSWORD: "`+canary+`"
      HOME_DIR: "$HOME/app"
`)
	var quoted []string
	for _, p := range got.Problems {
		if strings.Contains(p.Message, "canary") {
			t.Errorf("problem on %s quotes a secret's value: %s", p.Key, p.Message)
		}
		if strings.Contains(p.Message, `"`) {
			quoted = append(quoted, p.Key)
		}
	}
	slices.Sort(quoted)
	if want := []string{"build.args.GREETING", "environment.HOME_DIR"}; !slices.Equal(quoted, want) {
		t.Errorf("problems quoting their value: %v, want %v", quoted, want)
	}
}

// TestImportUnescapesDollars checks that $$, compose's escape for $, comes
// out as $ where a value has no variables, unreported, and that a value
// with variables is kept as written and reported.
func TestImportUnescapesDollars(t *testing.T) {
	got, cfg := importCompose(t, `services:
  web:
    build:
      context: .
      args: {PRICE: "$$5"}
      labels: {note: "costs $$$$"}
    command: ["sh", "-c", "exec gunicorn --workers $$WORKERS"]
    working_dir: /srv/$${APP}
    environment:
      PATTERN: "^a$$"
      MIXED: "$$HOME and ${HOME}"
`)
	img, web := cfg.Image("web"), cfg.Service("web")
	checks := []struct{ what, got, want string }{
		{"args.PRICE", img.Args["PRICE"], "$5"},
		{"labels.note", img.Labels["note"], "costs $$"},
		{"command", strings.Join(web.Command, " "), "sh -c exec gunicorn --workers $WORKERS"},
		{"working_dir", web.WorkingDir, "/srv/${APP}"},
		{"env.PATTERN", web.Env["PATTERN"], "^a$"},
		{"env.MIXED", web.Env["MIXED"], "$$HOME and ${HOME}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	var keys []string
	for _, p := range got.Problems {
		keys = append(keys, p.Key)
	}
	if want := []string{"environment.MIXED"}; !slices.Equal(keys, want) {
		t.Errorf("problems on %v, want only %v", keys, want)
	}
}

// TestImportKeywordKeys checks that keys HCL reads as keywords come out
// quoted, so that forge.hcl parses and keeps them as names.
func TestImportKeywordKeys(t *testing.T) {
	_, cfg := importCompose(t, `services:
  web:
    build:
      context: .
      args: {for: "1", "null": "2", "true": "3", in: "4", if: "5"}
    environment: {for: a, "null": b, "false": c}
`)
	args := cfg.Image("web").Args
	for name, want := range map[string]string{"for": "1", "null": "2", "true": "3", "in": "4", "if": "5"} {
		if args[name] != want {
			t.Errorf("args[%q] = %q, want %q", name, args[name], want)
		}
	}
	env := cfg.Service("web").Env
	for name, want := range map[string]string{"for": "a", "null": "b", "false": "c"} {
		if env[name] != want {
			t.Errorf("env[%q] = %q, want %q", name, env[name], want)
		}
	}
}

// TestImportReportsDependencyOptions checks that depends_on options forge
// has no equivalent for are reported, and the short form is not.
func TestImportReportsDependencyOptions(t *testing.T) {
	got, _ := importCompose(t, `services:
  db:
    build: .
  cache:
    build: .
  web:
    build: .
    depends_on: [db]
  worker:
    build: .
    depends_on:
      db: {condition: service_started, required: false}
      cache: {condition: service_started, restart: true}
`)
	var reported []string
	for _, p := range got.Problems {
		reported = append(reported, p.Service+" "+p.Key+": "+p.Message)
	}
	want := []string{
		"worker depends_on.cache: restart: true is not carried over: forge does not restart worker when cache restarts",
		"worker depends_on.db: required: false is not carried over: forge always starts db first",
	}
	if diff := cmp.Diff(want, reported); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestImportKeepsValidServiceNames checks that a service whose compose name
// is a forge block name keeps it, even when another name sanitizes to it
// and sorts first.
func TestImportKeepsValidServiceNames(t *testing.T) {
	got, cfg := importCompose(t, `services:
  1web:
    build: .
  web:
    build: .
    command: ["serve"]
  web-2:
    build: .
    command: ["other"]
`)
	if svc := cfg.Service("web"); svc == nil || !slices.Equal(svc.Command, []string{"serve"}) {
		t.Errorf("service web is not compose's web:\n%s", got.HCL)
	}
	if svc := cfg.Service("web-2"); svc == nil || !slices.Equal(svc.Command, []string{"other"}) {
		t.Errorf("service web-2 is not compose's web-2:\n%s", got.HCL)
	}
	if cfg.Service("web-3") == nil {
		t.Errorf("1web is not written as web-3:\n%s", got.HCL)
	}
}

// TestImportTagsAreClaimedOnce checks that two spellings of one tag are one
// claim, and that an image without tags is not named so that its default
// tag, NAME:latest, is another image's: the result plans.
func TestImportTagsAreClaimedOnce(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a/Dockerfile": "FROM scratch\n", "b/Dockerfile": "FROM scratch\n", "c/Dockerfile": "FROM scratch\n",
		"compose.yaml": `services:
  api:
    build: a
    image: docker.io/library/web:latest
  web:
    build: c
  worker:
    build: b
    image: web
  app:
    build: {context: a, target: app, tags: ["docker.io/library/queue"]}
  queue:
    build: {context: b, target: queue}
`,
	})
	got, cfg := importProject(t, dir)
	if _, err := plan.New(cfg); err != nil {
		t.Errorf("plan.New(import) = %v\n%s", err, got.HCL)
	}
	var reported []string
	for _, p := range got.Problems {
		reported = append(reported, p.Service+" "+p.Key)
	}
	if want := []string{"worker image"}; !slices.Equal(reported, want) {
		t.Errorf("problems on %v, want %v", reported, want)
	}
}

// TestImportDropsVariableKeys checks that keys forge does not carry over
// that use compose variables, which would not even load without their
// values, are left out and reported, and the rest is imported.
func TestImportDropsVariableKeys(t *testing.T) {
	got, cfg := importCompose(t, `services:
  web:
    build:
      context: .
      shm_size: ${SHM:-64m}
      no_cache: ${NO_CACHE:-false}
    cpus: ${CPUS:-1.5}
    mem_limit: "512m"
    healthcheck:
      interval: ${INTERVAL}
    command: ["serve"]
`)
	if svc := cfg.Service("web"); svc == nil || !slices.Equal(svc.Command, []string{"serve"}) {
		t.Fatalf("service web not imported:\n%s", got.HCL)
	}
	var keys []string
	for _, p := range got.Problems {
		keys = append(keys, p.Key)
	}
	slices.Sort(keys)
	want := []string{"build.no_cache", "build.shm_size", "cpus", "healthcheck", "mem_limit"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems on %v, want %v", keys, want)
	}
}

// TestImportReportsVariablesInBuildKeys checks that compose variables in
// the build keys forge carries over as strings are reported.
func TestImportReportsVariablesInBuildKeys(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": `services:
  web:
    build:
      context: .
      dockerfile: Dockerfile.${FLAVOR}
      target: ${TARGET:-prod}
      platforms: ["linux/${ARCH}"]
      cache_from: ["type=registry,ref=reg/cache:${BRANCH}"]
      cache_to: ["type=registry,ref=reg/cache:main"]
`})
	got, err := Import(context.Background(), []string{filepath.Join(dir, "compose.yaml")}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range got.Problems {
		keys = append(keys, p.Key)
	}
	slices.Sort(keys)
	want := []string{"build.cache_from", "build.dockerfile", "build.platforms", "build.target"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems on %v, want %v", keys, want)
	}
}

// TestImportRebasesLayoutContexts checks that an OCI layout context with a
// relative directory, read by compose from the project directory, points
// at the same directory from where forge.hcl is written.
func TestImportRebasesLayoutContexts(t *testing.T) {
	dir := t.TempDir()
	const dgst = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	writeFiles(t, dir, map[string]string{"app/Dockerfile": "FROM base\n", "app/compose.yaml": `services:
  web:
    build:
      context: .
      additional_contexts:
        base: oci-layout://./store@` + dgst + `
        tagged: oci-layout://layouts/debian:bookworm
        fixed: oci-layout:///srv/store@` + dgst + `
`})
	got, err := Import(context.Background(), []string{filepath.Join(dir, "app", "compose.yaml")},
		ImportOptions{OutputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"oci-layout://app/store@` + dgst + `"`,
		`"oci-layout://app/layouts/debian:bookworm"`,
		`"oci-layout:///srv/store@` + dgst + `"`,
	} {
		if !bytes.Contains(got.HCL, []byte(want)) {
			t.Errorf("forge.hcl lacks %s:\n%s", want, got.HCL)
		}
	}
}
