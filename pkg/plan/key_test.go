package plan

import (
	"os"
	"path/filepath"
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
