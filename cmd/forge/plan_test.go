package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/forge-build/forge/pkg/plan"
)

const twinsConfig = `
variable "release" {
  default = "1"
}

image "app" {
  args = { RELEASE = var.release }
  tags = ["app:${var.release}"]
}

image "app_copy" {
  args = { RELEASE = var.release }
  tags = ["app:latest"]
}

service "web"    { image = image.app }
service "worker" { image = image.app_copy }
`

func TestPlanJSON(t *testing.T) {
	project := writeProject(t, map[string]string{"forge.hcl": twinsConfig, "Dockerfile": "FROM scratch\n"})
	var stdout, stderr bytes.Buffer
	code := run([]string{"plan", "-f", filepath.Join(project, "forge.hcl"), "--json", "--var", "release=7"},
		&stdout, &stderr)
	if code != 0 {
		t.Fatalf("forge plan: exit %d\n%s", code, stderr.String())
	}
	var d plan.Description
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		t.Fatalf("forge plan --json output is not JSON: %v\n%s", err, stdout.String())
	}
	if len(d.Nodes) != 1 {
		t.Fatalf("forge plan has %d nodes, want the twins merged into 1", len(d.Nodes))
	}
	n := d.Nodes[0]
	want := plan.NodeDescription{
		Name: "app", Key: n.Key, Images: []string{"app", "app_copy"}, MergedBecause: n.MergedBecause,
		Export: true, Tags: []string{"app:7", "app:latest"}, Context: ".", Dockerfile: "Dockerfile",
		Args: map[string]string{"RELEASE": "7"}, Services: []string{"web", "worker"},
	}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("forge plan node mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(n.MergedBecause, "identical build inputs") {
		t.Errorf("forge plan does not say why the twins merged: %q", n.MergedBecause)
	}
	if d.Services["worker"].Node != "app" {
		t.Errorf("worker runs node %q, want app", d.Services["worker"].Node)
	}
}

func TestBuildPrintNeedsNoBuilder(t *testing.T) {
	project := writeProject(t, map[string]string{"forge.hcl": twinsConfig, "Dockerfile": "FROM scratch\n"})
	t.Setenv("BUILDKIT_HOST", "tcp://127.0.0.1:1")
	var printed, planned, stderr bytes.Buffer
	file := filepath.Join(project, "forge.hcl")
	if code := run([]string{"build", "-f", file, "--print"}, &printed, &stderr); code != 0 {
		t.Fatalf("forge build --print: exit %d\n%s", code, stderr.String())
	}
	if code := run([]string{"plan", "-f", file}, &planned, &stderr); code != 0 {
		t.Fatalf("forge plan: exit %d\n%s", code, stderr.String())
	}
	if printed.String() != planned.String() {
		t.Errorf("forge build --print differs from forge plan:\n%s\n---\n%s", printed.String(), planned.String())
	}
	if _, err := os.Stat(filepath.Join(project, "forge.manifest.json")); err == nil {
		t.Error("forge build --print wrote a manifest")
	}
}

func TestPlanWarnsAndSucceeds(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  args = { NPM_TOKEN = \"abc\" }\n}\n",
		"Dockerfile": "FROM scratch\n",
	})
	var stdout, stderr bytes.Buffer
	code := run([]string{"plan", "-f", filepath.Join(project, "forge.hcl")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("forge plan: exit %d\n%s", code, stderr.String())
	}
	if want := "forge.hcl:2:12: warning: Build argument looks like a secret"; !strings.Contains(stderr.String(), want) {
		t.Errorf("forge plan stderr lacks %q:\n%s", want, stderr.String())
	}
}

func TestPlanGitLabelsAndSourceDateEpoch(t *testing.T) {
	project := writeProject(t, map[string]string{"forge.hcl": twinsConfig, "Dockerfile": "FROM scratch\n"})
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", project, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("remote", "add", "origin", "https://user:token@git.example.com/team/app.git")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	head := git("rev-parse", "HEAD")

	tests := []struct {
		name, epoch, wantCreated, wantEpochArg string
	}{
		{"commit time", "", "2026-01-02T03:04:05Z", "1767323045"},
		{"SOURCE_DATE_EPOCH wins", "1700000000", "2023-11-14T22:13:20Z", "1700000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			var stdout, stderr bytes.Buffer
			code := run([]string{"plan", "-f", filepath.Join(project, "forge.hcl"), "--git-labels", "--json"}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("forge plan --git-labels: exit %d\n%s", code, stderr.String())
			}
			var d plan.Description
			if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"org.opencontainers.image.revision": head,
				"org.opencontainers.image.created":  tt.wantCreated,
				"org.opencontainers.image.source":   "https://git.example.com/team/app.git",
			}
			if diff := cmp.Diff(want, d.Nodes[0].Labels); diff != "" {
				t.Errorf("labels mismatch (-want +got):\n%s", diff)
			}
			if got := d.Nodes[0].Args["SOURCE_DATE_EPOCH"]; got != tt.wantEpochArg {
				t.Errorf("SOURCE_DATE_EPOCH build arg = %q, want %q", got, tt.wantEpochArg)
			}
		})
	}
}

func TestInvalidSourceDateEpochIsRefused(t *testing.T) {
	project := writeProject(t, map[string]string{"forge.hcl": twinsConfig, "Dockerfile": "FROM scratch\n"})
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	var stdout, stderr bytes.Buffer
	code := run([]string{"plan", "-f", filepath.Join(project, "forge.hcl")}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "SOURCE_DATE_EPOCH") {
		t.Errorf("forge plan with SOURCE_DATE_EPOCH=yesterday: exit %d, want %d naming it\n%s",
			code, exitUsage, stderr.String())
	}
}

func TestTimestampFollowsSourceDateEpoch(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":  "image \"app\" {\n  labels = { built = timestamp() }\n}\n",
		"Dockerfile": "FROM scratch\n",
	})
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plan", "--json", "-f", filepath.Join(project, "forge.hcl")}, &stdout, &stderr); code != 0 {
		t.Fatalf("forge plan: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"built": "2023-11-14T22:13:20Z"`) {
		t.Errorf("timestamp() does not return SOURCE_DATE_EPOCH:\n%s", stdout.String())
	}
}
