package plan

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/opencontainers/go-digest"
)

var ignoreDecl = cmp.Options{
	cmpopts.IgnoreFields(Image{}, "DeclRange"),
	cmpopts.IgnoreFields(Service{}, "DeclRange"),
	cmpopts.IgnoreFields(Task{}, "DeclRange"),
	cmpopts.IgnoreUnexported(Image{}, Service{}),
	cmpopts.EquateEmpty(),
}

func TestLoadEveryAttribute(t *testing.T) {
	path := filepath.Join("testdata", "full", "forge.hcl")
	cfg := mustLoad(t, path)
	dir := cfg.Dir
	appDir := filepath.Join(dir, "app")
	const registry = "registry.example.com/team"

	tests := []struct {
		name string
		got  any
		want any
	}{{
		name: "image app",
		got:  cfg.Image("app"),
		want: &Image{
			Name:        "app",
			Context:     appDir,
			Dockerfile:  filepath.Join(appDir, "Dockerfile"),
			Target:      "runtime",
			Args:        map[string]string{"RELEASE": "1.0", "BUILD_NAME": "APP"},
			Labels:      map[string]string{"org.opencontainers.image.version": "v1.0"},
			Annotations: map[string]string{"org.opencontainers.image.source": "https://example.com/app"},
			Tags:        []string{registry + "/app:v1.0", "app:latest"},
			Platforms:   []string{"linux/amd64", "linux/arm64"},
			CacheFrom: []Cache{
				{Type: "registry", Attrs: map[string]string{"ref": registry + "/cache:app"}},
				{Type: "registry", Attrs: map[string]string{"ref": registry + "/app:latest"}},
			},
			CacheTo: []Cache{{Type: "local", Attrs: map[string]string{"dest": "/tmp/cache", "mode": "max"}}},
			Contexts: map[string]NamedContext{
				"base":   {Kind: ContextImage, Image: "base"},
				"shared": {Kind: ContextLocal, Path: filepath.Join(dir, "shared")},
				"debian": {Kind: ContextOCILayout, Path: filepath.Join(dir, "layout"),
					Digest: digest.Digest("sha256:" + repeat("c", 64))},
				"alpine": {Kind: ContextDockerImage, Ref: "alpine:3.20"},
				"repo":   {Kind: ContextURL, Ref: "https://github.com/example/repo.git"},
			},
			Secrets: []Secret{{ID: "npm", Env: "NPM_TOKEN"}, {ID: "cert", File: filepath.Join(dir, "app.env")}},
			SSH:     []SSH{{ID: "default"}, {ID: "github", Paths: []string{"/keys/id_ed25519"}}},
			NoCache: true,
			Pull:    true,
			Network: "none",
		},
	}, {
		name: "image inline",
		got:  cfg.Image("inline"),
		want: &Image{
			Name:             "inline",
			Context:          dir,
			DockerfileInline: "FROM scratch\nCOPY . /\n",
			Tags:             []string{"inline:latest"},
			DependsOn:        []string{"app"},
		},
	}, {
		name: "service web",
		got:  cfg.Service("web"),
		want: &Service{
			Name:       "web",
			Image:      "app",
			Command:    []string{"gunicorn", "site.wsgi"},
			Entrypoint: []string{"/entrypoint.sh"},
			WorkingDir: "/app",
			User:       "appuser",
			Env:        map[string]string{"DJANGO_DEBUG": "False"},
			SecretEnv:  []string{"DJANGO_SECRET_KEY"},
			EnvFiles:   []string{filepath.Join(dir, "app.env")},
			Ports:      []string{"127.0.0.1:8000:8000", "9000/udp"},
			Volumes: []Volume{
				{Source: filepath.Join(dir, "shared"), Target: "/app/shared", Bind: true, ReadOnly: true, SELinux: "z"},
				{Source: "static", Target: "/app/staticfiles"},
				{Source: dir, Target: "/src", Bind: true, SELinux: "Z"},
			},
			DependsOn: []string{"redis"},
		},
	}, {
		name: "task migrate",
		got:  cfg.Task("migrate"),
		want: &Task{
			Name:      "migrate",
			Image:     "app",
			Command:   []string{"python", "manage.py", "migrate"},
			Env:       map[string]string{"DJANGO_SETTINGS_MODULE": "site.settings"},
			SecretEnv: []string{"DJANGO_SECRET_KEY"},
			When:      "release",
		},
	}, {
		name: "task collectstatic",
		got:  cfg.Task("collectstatic").When,
		want: "start",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got, ignoreDecl); diff != "" {
				t.Errorf("Load(%s) %s mismatch (-want +got):\n%s", path, tt.name, diff)
			}
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []diag
	}{{
		name: "secret-looking build arg",
		src:  "image \"app\" {\n  args = { DJANGO_SECRET_KEY = \"x\", RELEASE = \"1\" }\n}\n",
		want: []diag{{Pos: "2:12", Summary: "Build argument looks like a secret", Detail: "secrets attribute"}},
	}, {
		name: "secret-looking runtime env",
		src: "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
			"  env = { API_TOKEN = \"abc\" }\n}\n",
		want: []diag{{Pos: "4:11", Summary: "Environment variable looks like a secret", Detail: "secret_env"}},
	}, {
		name: "near miss: ordinary names",
		src: "image \"app\" {\n  args = { KEYBOARD = \"us\", TOKENIZER = \"bert\" }\n}\n" +
			"service \"web\" {\n  image = image.app\n  env = { SECRET_KEY_FILE_PATH = \"/run/secrets/key\" }\n" +
			"  secret_env = [\"DJANGO_SECRET_KEY\"]\n}\n",
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := loadSource(t, tt.src)
			if diags.HasErrors() {
				t.Fatalf("Load() errors: %v", diags)
			}
			got := summarize(cfg.Filename, diags...)
			if diff := cmp.Diff(tt.want, got, diagComparer, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Load() warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
