package plan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestContentKeyIsPortable(t *testing.T) {
	// The same project, checked out at different depths by users with
	// different home directories: its secret files and SSH keys live in
	// the home directory and in the project.
	const config = `
image "app" {
  secrets = [{ id = "npm", file = "~/.npmrc" }, { id = "ci", file = "ci/token" }]
  ssh     = ["github=~/.ssh/id_ed25519,deploy/key"]
}
`
	key := func(home, project string) string {
		t.Setenv("HOME", home)
		for _, d := range []string{project, filepath.Join(project, "ci"), filepath.Join(project, "deploy")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(project, "Dockerfile"), "FROM scratch\n")
		writeFile(t, filepath.Join(project, "forge.hcl"), config)
		g, err := New(mustLoad(t, filepath.Join(project, "forge.hcl")))
		if err != nil {
			t.Fatal(err)
		}
		return g.Nodes[0].Key.String()
	}
	root := t.TempDir()
	first := key(filepath.Join(root, "home", "ann"), filepath.Join(root, "home", "ann", "src", "app"))
	second := key(filepath.Join(root, "users", "bob"), filepath.Join(root, "ci", "builds", "42", "app"))
	if first != second {
		t.Errorf("the project's key depends on where it is checked out: %s and %s", first, second)
	}
}

func TestContextNamesAsTheFrontendLooksThemUp(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, `image "app" {
  contexts = {
    "docker.io/library/alpine:latest" = "docker-image://alpine:3.20"
    "debian:bookworm-slim"            = "docker-image://debian:12-slim"
    "ghcr.io/acme/base:1"             = "docker-image://ghcr.io/acme/base:2"
    builder                           = "docker-image://golang:1.26"
  }
}
`)
	var names []string
	for name := range mustLoad(t, path).Image("app").Contexts {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"alpine", "builder", "debian:bookworm-slim", "ghcr.io/acme/base:1"}
	if !slices.Equal(names, want) {
		t.Errorf("context names = %v, want %v", names, want)
	}
}
