package check

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/forge-build/forge/pkg/plan"
)

// project writes files under a new directory and returns the directory.
// Every project gets a Dockerfile-free .dockerignore unless it sets one.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCheck(t *testing.T, dir string, opts Options) []Finding {
	t.Helper()
	cfg, diags := plan.NewParser().Load(filepath.Join(dir, "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Load: %v", diags)
	}
	if opts.SELinuxEnforcing == nil {
		opts.SELinuxEnforcing = func() bool { return false }
	}
	return Run(cfg, opts)
}

// short is a finding as the tests compare it: rule, file base name and
// line:col.
type short struct{ Rule, At string }

func shorten(findings []Finding) []short {
	var out []short
	for _, f := range findings {
		out = append(out, short{f.Rule, fmt.Sprintf("%s:%d:%d", filepath.Base(f.Location.File), f.Location.Line, f.Location.Column)})
	}
	return out
}

const userDockerfile = "FROM scratch\nCOPY . /app\nUSER appuser\n"

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []short
	}{{
		name: "secret build arg in forge.hcl",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {\n  args = { RELEASE = \"1\", DJANGO_SECRET_KEY = \"x\" }\n}\n",
			"Dockerfile": userDockerfile,
		},
		want: []short{{SecretBuildArg, "forge.hcl:2:27"}},
	}, {
		name: "near miss: a file path to a secret, a version",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {\n  args = { SECRET_KEY_FILE = \"/run/secrets/key\", VERSION = \"1.2.3\" }\n}\n",
			"Dockerfile": userDockerfile,
		},
	}, {
		name: "token value in a Dockerfile ENV",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nENV NPM_CONFIG_REGISTRY_AUTH=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nUSER appuser\n",
		},
		want: []short{{SecretBuildArg, "Dockerfile:2:1"}},
	}, {
		name: "near miss: ordinary ENV",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nENV PYTHONUNBUFFERED=1 PATH=/usr/local/bin:/usr/bin\nUSER appuser\n",
		},
	}, {
		name: "RUN uses runtime-only env",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "FROM scratch\nRUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
		want: []short{{RuntimeEnvInBuild, "Dockerfile:2:1"}},
	}, {
		name: "near miss: the variable is also an ARG",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "FROM scratch\nARG DATABASE_URL\nRUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
	}, {
		name: "an ARG before FROM is not in a RUN's scope",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "ARG DATABASE_URL=x\nFROM scratch\nRUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
		want: []short{{RuntimeEnvInBuild, "Dockerfile:3:1"}},
	}, {
		name: "another stage's ARG is not in a RUN's scope",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "FROM scratch AS base\nARG DATABASE_URL\n" +
				"FROM base\nRUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
		want: []short{{RuntimeEnvInBuild, "Dockerfile:4:1"}},
	}, {
		name: "an ARG is in scope from where it is declared",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "FROM scratch\nRUN echo $DATABASE_URL > /db\nARG DATABASE_URL\n" +
				"RUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
		want: []short{{RuntimeEnvInBuild, "Dockerfile:2:1"}},
	}, {
		name: "near miss: a parent stage's ENV is inherited",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { DATABASE_URL = \"postgres://db/app\" }\n}\n",
			"Dockerfile": "FROM scratch AS base\nENV DATABASE_URL=sqlite://\n" +
				"FROM base\nRUN echo $DATABASE_URL > /db\nUSER appuser\n",
		},
	}, {
		name: "near miss: the service sets variables every build has",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  env = { PATH = \"/app/bin:/usr/bin\", https_proxy = \"http://proxy:3128\" }\n}\n",
			"Dockerfile": "FROM scratch\nRUN PATH=$PATH:/opt/bin curl -x \"$https_proxy\" example.com\nUSER appuser\n",
		},
	}, {
		name: "near miss: a file named migrate is installed, and a comment names it",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN chmod +x /app/bin/migrate && mv /app/bin/migrate /usr/local/bin/ " +
				"# run migrate at release\nUSER appuser\n",
		},
	}, {
		name: "near miss: FROM names its stage through an ARG",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "ARG VARIANT=prod\nFROM scratch AS base-prod\nUSER appuser\n" +
				"FROM scratch AS base-dev\nFROM base-${VARIANT}\nCOPY . /app\n",
		},
	}, {
		name: "FROM names its stage through an ARG the image sets",
		files: map[string]string{
			"forge.hcl": "image \"app\" {\n  args = { VARIANT = \"dev\" }\n}\n" +
				"service \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "ARG VARIANT=prod\nFROM scratch AS base-prod\nUSER appuser\n" +
				"FROM scratch AS base-dev\nFROM base-${VARIANT}\nCOPY . /app\n",
		},
		want: []short{{RunsAsRoot, "forge.hcl:4:1"}},
	}, {
		name: "collectstatic at build time",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN python3 manage.py collectstatic --noinput\nUSER appuser\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:2:1"}},
	}, {
		name: "near miss: a path or module named like a runtime step",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN chmod +x /usr/local/bin/migrate.sh\n" +
				"RUN go install github.com/golang-migrate/migrate/v4/cmd/migrate@latest\nUSER appuser\n",
		},
	}, {
		name: "runtime step run by path",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN ./manage.py migrate && bin/collectstatic\nUSER appuser\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:2:1"}, {RuntimeStepInBuild, "Dockerfile:2:1"}},
	}, {
		name: "near miss: ENV settings about secrets",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nENV PASSWORD_MIN_LENGTH=8 TOKEN_REFRESH=true\nUSER appuser\n",
		},
	}, {
		name: "a directive at the end of a RUN line is the shell's comment",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN echo hi # forge:ignore=runtime-step-in-build\n" +
				"RUN python3 manage.py migrate\nUSER appuser\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:3:1"}},
	}, {
		name: "a directive listing rules with spaces",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\n# forge:ignore=runs-as-root, runtime-step-in-build\n" +
				"RUN python3 manage.py migrate\nUSER appuser\n",
		},
	}, {
		name: "directives with a reason after the rules",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n# forge:ignore=runs-as-root the entrypoint drops root\n" +
				"service \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "FROM scratch\n# forge:ignore=runtime-step-in-build, secret-build-arg: run once at build\n" +
				"RUN python3 manage.py migrate\n",
		},
	}, {
		name: "a directive inside a heredoc is the script's comment",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n",
			"Dockerfile": "# syntax=docker/dockerfile:1\nFROM scratch\n" +
				"RUN <<EOF\n# forge:ignore=runtime-step-in-build\n" +
				"echo hi\nEOF\nRUN python3 manage.py migrate\nUSER appuser\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:7:1"}},
	}, {
		name: "runtime step in a heredoc",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "# syntax=docker/dockerfile:1\nFROM scratch\nRUN <<EOF\npython3 manage.py collectstatic\nEOF\nUSER appuser\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:3:1"}},
	}, {
		name: "near miss: a stage the target does not need",
		files: map[string]string{
			"forge.hcl": "image \"app\" {\n  target = \"prod\"\n}\n",
			"Dockerfile": "FROM scratch AS prod\nCOPY . /app\nUSER appuser\n" +
				"FROM prod AS dev\nRUN python3 manage.py migrate\nENV API_TOKEN=abcdefghijklmnopqrstuvwxyz\n",
		},
	}, {
		name: "a stage takes its parent's user",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "FROM scratch AS base\nUSER appuser\nFROM base\nCOPY . /app\n",
		},
	}, {
		name: "a stage takes its parent's files",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\".:/app\"]\n}\n",
			"Dockerfile": "FROM scratch AS base\nWORKDIR /app\nCOPY . .\nFROM base\nUSER appuser\n",
		},
		want: []short{{BindMountOverImage, "forge.hcl:4:14"}},
	}, {
		name: "configured runtime step",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN rake db:seed\nUSER appuser\n",
		},
		opts: Options{RuntimeSteps: []string{"db:seed"}},
		want: []short{{RuntimeStepInBuild, "Dockerfile:2:1"}},
	}, {
		name: "near miss: a word that contains the step",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\n",
			"Dockerfile": "FROM scratch\nRUN pip install django-migrate-sql-tool\nUSER appuser\n",
		},
	}, {
		name: "root image used by a service",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "FROM scratch\nCOPY . /app\n",
		},
		want: []short{{RunsAsRoot, "forge.hcl:2:1"}},
	}, {
		name: "near miss: the service sets a user",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n  user = \"1000\"\n}\n",
			"Dockerfile": "FROM scratch\nCOPY . /app\n",
		},
	}, {
		name: "bind mount over what the image built",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"./data:/srv/data\", \".:/app\"]\n}\n",
			"Dockerfile": userDockerfile,
		},
		want: []short{{BindMountOverImage, "forge.hcl:4:34"}},
	}, {
		name: "bind mount over what the image built, target with a trailing slash",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n  volumes = [\".:/app/\"]\n}\n",
			"Dockerfile": userDockerfile,
		},
		want: []short{{BindMountOverImage, "forge.hcl:4:14"}},
	}, {
		name: "a service that sets user root",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n  user  = \"0:0\"\n}\n",
			"Dockerfile": userDockerfile,
		},
		want: []short{{RunsAsRoot, "forge.hcl:2:1"}},
	}, {
		name: "SELinux label missing where others have one",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"./media:/srv/media:z\", \"./logs:/srv/logs\"]\n}\n",
			"Dockerfile": userDockerfile,
		},
		want: []short{{BindMountSELinux, "forge.hcl:4:38"}},
	}, {
		name: "SELinux enforced by the host",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"./logs:/srv/logs\"]\n}\n",
			"Dockerfile": userDockerfile,
		},
		opts: Options{SELinuxEnforcing: func() bool { return true }},
		want: []short{{BindMountSELinux, "forge.hcl:4:14"}},
	}, {
		name: "near miss: no SELinux anywhere, named volumes",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"./logs:/srv/logs\", \"static:/app/staticfiles\"]\n}\n",
			"Dockerfile": userDockerfile,
		},
	}, {
		name: "tag claimed by two builds",
		files: map[string]string{
			"forge.hcl": "image \"a\" {\n  tags = [\"app:1\"]\n}\nimage \"b\" {\n  target = \"x\"\n" +
				"  tags = [\"app:1\"]\n}\n",
			"Dockerfile": "FROM scratch AS x\nUSER appuser\n",
		},
		want: []short{{TagConflict, "forge.hcl:6:11"}},
	}, {
		name: "no .dockerignore",
		files: map[string]string{
			"forge.hcl":      "image \"app\" {\n  context = \"src\"\n}\n",
			"src/Dockerfile": userDockerfile,
		},
		want: []short{{MissingDockerignore, "forge.hcl:2:13"}},
	}, {
		name: ".dockerignore misses a mounted directory",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"static:/app/staticfiles\"]\n}\n",
			"Dockerfile":            userDockerfile,
			".dockerignore":         ".git\n",
			"staticfiles/admin.css": "",
		},
		want: []short{{DockerignoreMisses, ".dockerignore:1:0"}},
	}, {
		name: "near miss: .dockerignore excludes it",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\nservice \"web\" {\n  image = image.app\n" +
				"  volumes = [\"static:/app/staticfiles\"]\n}\n",
			"Dockerfile":            userDockerfile,
			".dockerignore":         "staticfiles/\n",
			"staticfiles/admin.css": "",
		},
	}, {
		name: "ignored per line in the Dockerfile and per block in forge.hcl",
		files: map[string]string{
			"forge.hcl": "image \"app\" {}\n# forge:ignore=runs-as-root\nservice \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "FROM scratch\n# forge:ignore=runtime-step-in-build\n" +
				"RUN python3 manage.py migrate\nRUN python3 manage.py collectstatic\n",
		},
		want: []short{{RuntimeStepInBuild, "Dockerfile:4:1"}},
	}, {
		name: "ignored for the whole Dockerfile",
		files: map[string]string{
			"forge.hcl":  "image \"app\" {}\nservice \"web\" {\n  image = image.app\n}\n",
			"Dockerfile": "# forge:ignore=runs-as-root\nFROM scratch\nCOPY . /app\n",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := tt.files
			if _, ok := files[".dockerignore"]; !ok && !strings.Contains(tt.name, "no .dockerignore") {
				files[".dockerignore"] = ".git\n"
			}
			got := shorten(runCheck(t, project(t, files), tt.opts))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Run() findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBrokenProjectYieldsEveryFinding(t *testing.T) {
	got := shorten(runCheck(t, filepath.Join("testdata", "broken"), Options{SELinuxEnforcing: func() bool { return true }}))
	want := []short{
		{SecretBuildArg, "forge.hcl:4:5"},
		{RunsAsRoot, "forge.hcl:7:1"},
		{BindMountOverImage, "forge.hcl:9:14"},
		{BindMountSELinux, "forge.hcl:9:14"},
		{RuntimeStepInBuild, "Dockerfile:4:1"},
		{MissingDockerignore, "forge.hcl:1:1"},
	}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b short) bool { return a.Rule+a.At < b.Rule+b.At })); diff != "" {
		t.Errorf("Run(broken) mismatch (-want +got):\n%s", diff)
	}
}

func TestDjangoExampleIsClean(t *testing.T) {
	findings := runCheck(t, filepath.Join("..", "..", "examples", "django"), Options{})
	if len(findings) > 0 {
		t.Errorf("Run(examples/django) = %+v, want no findings", findings)
	}
}
