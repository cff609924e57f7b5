package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-build/forge/pkg/check"
)

func TestCheckCLI(t *testing.T) {
	file := filepath.Join("..", "..", "pkg", "check", "testdata", "broken", "forge.hcl")
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-f", file, "--json", "--no-buildkit"}, &stdout, &stderr)
	if code != exitFailure {
		t.Fatalf("forge check (broken): exit %d, want %d\n%s", code, exitFailure, stderr.String())
	}
	var findings []check.Finding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("forge check --json: %v\n%s", err, stdout.String())
	}
	rules := map[string]bool{}
	for _, f := range findings {
		rules[f.Rule] = true
	}
	for _, want := range []string{check.SecretBuildArg, check.RuntimeStepInBuild, check.RunsAsRoot,
		check.BindMountOverImage, check.MissingDockerignore} {
		if !rules[want] {
			t.Errorf("forge check (broken) lacks %s: %v", want, rules)
		}
	}

	stdout.Reset()
	code = run([]string{"check", "-f", filepath.Join("..", "..", "examples", "django", "forge.hcl"), "--no-buildkit"},
		&stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "0 error(s), 0 warning(s)") {
		t.Errorf("forge check (examples/django): exit %d\n%s", code, stdout.String())
	}
}

func TestBuildStopsOnCheckErrors(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":     "image \"app\" {\n  args = { API_TOKEN = \"abc\" }\n}\n",
		"Dockerfile":    "FROM scratch\nUSER 1000\n",
		".dockerignore": ".git\n",
	})
	file := filepath.Join(project, "forge.hcl")
	// A builder that cannot be reached shows whether the build got past
	// the checks.
	e := &env{t: t, vars: []string{"BUILDKIT_HOST=tcp://" + closedPort(t), "PATH=/usr/bin:/bin"}}
	res := e.forge("build", "-f", file)
	if res.code != exitUsage || !strings.Contains(res.stderr, "secret-build-arg") ||
		!strings.Contains(res.stderr, "--no-check") {
		t.Errorf("forge build with a check error: exit %d, want %d\n%s", res.code, exitUsage, res.stderr)
	}
	// The check's error is the one report of the argument: the planner's
	// warning about it is left out.
	if n := strings.Count(res.stderr, "API_TOKEN"); n != 1 {
		t.Errorf("forge build names API_TOKEN %d times, want once:\n%s", n, res.stderr)
	}
	if res := e.forge("build", "-f", file, "--no-check"); res.code != exitBuilder {
		t.Errorf("forge build --no-check: exit %d, want %d (past the checks, at the builder)\n%s",
			res.code, exitBuilder, res.stderr)
	}
}

func TestCheckRunsBuildKitLint(t *testing.T) {
	requireDaemon(t)
	project := writeProject(t, map[string]string{
		"forge.hcl":     "image \"app\" {}\n",
		"Dockerfile":    "FROM scratch as base\nUSER appuser\n",
		".dockerignore": ".git\n",
	})
	e := newEnv(t)
	if res := e.forge("builder", "start"); res.code != 0 {
		t.Fatalf("forge builder start: exit %d\n%s", res.code, res.stderr)
	}
	res := e.forge("check", "-f", filepath.Join(project, "forge.hcl"), "--json")
	if res.code != 0 {
		t.Fatalf("forge check: exit %d\n%s", res.code, res.stderr)
	}
	var findings []check.Finding
	if err := json.Unmarshal([]byte(res.stdout), &findings); err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].Rule != "buildkit-lint:FromAsCasing" || findings[0].Location.Line != 1 {
		t.Errorf("forge check findings = %+v, want BuildKit's FromAsCasing at line 1", findings)
	}
}

func TestCheckReportsTagConflicts(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl": "image \"a\" {\n  tags = [\"app:1\"]\n}\n" +
			"image \"b\" {\n  target = \"other\"\n  tags = [\"app:1\"]\n}\n",
		"Dockerfile":    "FROM scratch AS other\nUSER 1000\n",
		".dockerignore": ".git\n",
	})
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-f", filepath.Join(project, "forge.hcl"), "--json", "--no-buildkit"}, &stdout, &stderr)
	var findings []check.Finding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil || code != exitFailure {
		t.Fatalf("forge check: exit %d, %v\n%s%s", code, err, stdout.String(), stderr.String())
	}
	if len(findings) != 1 || findings[0].Rule != check.TagConflict {
		t.Errorf("forge check findings = %+v, want one %s", findings, check.TagConflict)
	}
}

func TestCheckReportsAMatrixFindingOnce(t *testing.T) {
	// The two images of the matrix share the context, which lacks a
	// .dockerignore: one finding in the text, one per image in JSON.
	dir := writeProject(t, map[string]string{
		"forge.hcl": "image \"app\" {\n  matrix = { v = [\"1\", \"2\"] }\n  name   = \"app-${v}\"\n" +
			"  args   = { V = v }\n}\n",
		"Dockerfile": "FROM scratch\nUSER 1000\n",
	})
	file := filepath.Join(dir, "forge.hcl")
	var stdout, stderr bytes.Buffer
	run([]string{"check", "-f", file, "--no-buildkit"}, &stdout, &stderr)
	if n := strings.Count(stdout.String(), check.MissingDockerignore); n != 1 ||
		!strings.Contains(stdout.String(), "0 error(s), 1 warning(s)") {
		t.Errorf("forge check printed %d %s findings, want 1:\n%s", n, check.MissingDockerignore, stdout.String())
	}
	stdout.Reset()
	run([]string{"check", "-f", file, "--no-buildkit", "--json"}, &stdout, &stderr)
	var findings []check.Finding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("forge check --json: %v\n%s", err, stdout.String())
	}
	images := map[string]bool{}
	for _, f := range findings {
		if f.Rule == check.MissingDockerignore {
			images[f.Image] = true
		}
	}
	if !images["app-1"] || !images["app-2"] {
		t.Errorf("forge check --json reports %s for images %v, want app-1 and app-2", check.MissingDockerignore, images)
	}
}

// TestCheckReportsPlanErrors checks that a configuration the planner
// refuses for a reason other than a claimed tag fails forge check as an
// invalid configuration, with the planner's located diagnostic, and is not
// passed off as a tag-conflict finding.
func TestCheckReportsPlanErrors(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl": `image "a1" { context = "a" }
image "a2" {
  context    = "a"
  depends_on = [image.b]
}
image "b" {
  context  = "b"
  contexts = { a = image.a1 }
}
`,
		"a/Dockerfile": "FROM scratch\n", "a/.dockerignore": ".git\n",
		"b/Dockerfile": "FROM scratch\n", "b/.dockerignore": ".git\n",
	})
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-f", filepath.Join(project, "forge.hcl"), "--no-buildkit"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "forge.hcl:1:1: error") ||
		!strings.Contains(stderr.String(), "Dependency cycle between merged images") ||
		strings.Contains(stdout.String()+stderr.String(), check.TagConflict) {
		t.Errorf("forge check (merged cycle): exit %d, want %d with the cycle located\nstdout:\n%s\nstderr:\n%s",
			code, exitUsage, stdout.String(), stderr.String())
	}
}
