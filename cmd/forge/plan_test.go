package main

import (
	"bytes"
	"encoding/json"
	"os"
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
