package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/plan"
)

const testDigest = digest.Digest("sha256:1111111111111111111111111111111111111111111111111111111111111111")

func sharedGraph(t *testing.T, targets ...string) *plan.Graph {
	t.Helper()
	cfg, diags := plan.NewParser().Load(filepath.Join("..", "plan", "testdata", "shared", "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg, targets...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestRecord(t *testing.T) {
	g := sharedGraph(t)
	m := New()
	err := m.Record(g, map[string]Built{"app": {Digest: testDigest}, "broker": {Digest: testDigest}})
	if err != nil {
		t.Fatalf("Record() error: %v", err)
	}
	wantApp := &Artifact{
		Images: []string{"app"},
		Key:    g.Node("app").Key.String(),
		Tags:   []string{"registry.example.com/app:dev", "app:latest"},
		Digest: testDigest.String(),
		Inputs: Inputs{Context: "app", Dockerfile: "app/Dockerfile", Args: map[string]string{"VERSION": "1.2"}},
	}
	if diff := cmp.Diff(wantApp, m.Artifacts["app"]); diff != "" {
		t.Errorf("Record() app artifact mismatch (-want +got):\n%s", diff)
	}
	wantServices := map[string]*Service{
		"web": {Artifact: "app", Image: "registry.example.com/app:dev@" + testDigest.String(),
			Command: []string{"gunicorn", "site.wsgi"}, Env: map[string]string{"DEBUG": "1"}},
		"worker": {Artifact: "app", Image: "registry.example.com/app:dev@" + testDigest.String(),
			Env: map[string]string{"QUEUE": "default"}},
		"beat": {Artifact: "app", Image: "registry.example.com/app:dev@" + testDigest.String()},
	}
	if diff := cmp.Diff(wantServices, m.Services); diff != "" {
		t.Errorf("Record() services mismatch (-want +got):\n%s", diff)
	}
}

func TestRecordServicesAndTasks(t *testing.T) {
	cfg, diags := plan.NewParser().Load(filepath.Join("..", "plan", "testdata", "full", "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg, "web", "redis")
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	if err := m.Record(g, map[string]Built{"app": {Digest: testDigest}, "base": {Digest: testDigest}}); err != nil {
		t.Fatalf("Record() error: %v", err)
	}
	pinned := "registry.example.com/team/app:v1.0@" + testDigest.String()
	wantWeb := &Service{
		Artifact: "app", Image: pinned,
		Command: []string{"gunicorn", "site.wsgi"}, Entrypoint: []string{"/entrypoint.sh"},
		WorkingDir: "/app", User: "appuser",
		Env:       map[string]string{"DJANGO_DEBUG": "False"},
		SecretEnv: []string{"DJANGO_SECRET_KEY"},
		EnvFiles:  []string{"app.env"},
		Ports:     []string{"127.0.0.1:8000:8000", "9000/udp"},
		Volumes:   []string{"./shared:/app/shared:ro,z", "static:/app/staticfiles", ".:/src:Z"},
		DependsOn: []string{"redis"},
	}
	if diff := cmp.Diff(wantWeb, m.Services["web"]); diff != "" {
		t.Errorf("Record() web mismatch (-want +got):\n%s", diff)
	}
	wantMigrate := &Task{Artifact: "app", Image: pinned, Command: []string{"python", "manage.py", "migrate"},
		Env: map[string]string{"DJANGO_SETTINGS_MODULE": "site.settings"}, SecretEnv: []string{"DJANGO_SECRET_KEY"},
		When: "release"}
	if diff := cmp.Diff(wantMigrate, m.Tasks["migrate"]); diff != "" {
		t.Errorf("Record() migrate mismatch (-want +got):\n%s", diff)
	}
	if got := m.Artifacts["app"].Inputs.Secrets; !cmp.Equal(got, []string{"npm", "cert"}) {
		t.Errorf("Record() secrets = %v, want their ids only", got)
	}
}

func TestRecordKeepsOthersAndDropsUndeclared(t *testing.T) {
	m := New()
	m.Artifacts["broker"] = &Artifact{Tags: []string{"broker:latest"}, Digest: "sha256:old"}
	m.Artifacts["gone"] = &Artifact{Tags: []string{"gone:latest"}, Digest: "sha256:old"}
	m.Services["gone"] = &Service{Artifact: "gone"}
	m.Services["orphan"] = &Service{Artifact: "gone"}

	if err := m.Record(sharedGraph(t, "web"), map[string]Built{"app": {Digest: testDigest}}); err != nil {
		t.Fatalf("Record() error: %v", err)
	}
	if got := m.Artifacts["broker"]; got == nil || got.Digest != "sha256:old" {
		t.Errorf("Record() broker = %+v, want the earlier record kept", got)
	}
	for _, name := range []string{"gone"} {
		if _, ok := m.Artifacts[name]; ok {
			t.Errorf("Record() kept artifact %s, which the configuration no longer declares", name)
		}
	}
	for _, name := range []string{"gone", "orphan"} {
		if _, ok := m.Services[name]; ok {
			t.Errorf("Record() kept service %s", name)
		}
	}
}

func TestRecordReusedKeepsWhatItsBuildDid(t *testing.T) {
	g := sharedGraph(t, "app")
	m := New()
	// The build that made the image pushed it with provenance, a cache
	// export and a digest per platform.
	err := m.Record(g, map[string]Built{"app": {Digest: testDigest, Pushed: true, Provenance: "max",
		CacheTo:         []plan.Cache{{Type: "registry", Attrs: map[string]string{"ref": "r/cache"}}},
		PlatformDigests: map[string]string{"linux/amd64": testDigest.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	built := *m.Artifacts["app"]
	// A later build finds it unchanged, loads it, and asks for nothing else.
	err = m.Record(g, map[string]Built{"app": {Digest: testDigest, Loaded: "podman", Reused: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := built
	want.Loaded = "podman"
	if diff := cmp.Diff(&want, m.Artifacts["app"]); diff != "" {
		t.Errorf("Record() of a reused image mismatch (-want +got):\n%s", diff)
	}
	// A build that solves it again records only what that build did.
	if err := m.Record(g, map[string]Built{"app": {Digest: testDigest}}); err != nil {
		t.Fatal(err)
	}
	if got := m.Artifacts["app"]; got.Pushed || got.Provenance != "" || got.PlatformDigests != nil {
		t.Errorf("Record() of a new build kept the earlier build's facts: %+v", got)
	}
}

func TestRecordMissingDigest(t *testing.T) {
	err := New().Record(sharedGraph(t, "app"), nil)
	if err == nil {
		t.Fatal("Record() with no digest succeeded, want an error")
	}
}

func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	m := New()
	if err := m.Record(sharedGraph(t, "app"), map[string]Built{"app": {Digest: testDigest}}); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, m); err != nil {
		t.Fatalf("Write() error: %v", err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatalf("Read() error: %v", err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("Read(Write(m)) mismatch (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("Write() left %d files in its directory, want only the manifest", len(entries))
	}
}

func TestWriteFailureKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultName)
	if err := Write(path, New()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() == 0 {
		// root writes through permissions; a missing directory fails alike.
		path = filepath.Join(dir, "missing", DefaultName)
	}
	if err := Write(path, New()); err == nil {
		t.Fatal("Write() into an unwritable directory succeeded")
	}
	after, _ := os.ReadFile(filepath.Join(dir, DefaultName))
	if string(before) != string(after) {
		t.Errorf("failed Write() changed the previous manifest")
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		check         func(error) bool
	}{
		{"future version", `{"version": 2, "artifacts": {}}`, func(err error) bool {
			var v *VersionError
			return errors.As(err, &v) && v.Version == 2
		}},
		{"no version", `{"artifacts": {}}`, func(err error) bool {
			var v *VersionError
			return errors.As(err, &v) && v.Version == 0
		}},
		{"not json", `{"version": 1,`, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "not valid JSON")
		}},
		{"null artifacts", `{"version": 1, "artifacts": null, "services": {}}`, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "schema")
		}},
		{"null artifact", `{"version": 1, "artifacts": {"app": null}, "services": {}}`, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "schema")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(path); !tt.check(err) {
				t.Errorf("Read(%s) error = %v", tt.content, err)
			}
			// Update leaves a manifest it cannot read as it is.
			err := Update(path, func(m *Manifest) error { return nil })
			if data, _ := os.ReadFile(path); err == nil || string(data) != tt.content {
				t.Errorf("Update(%s) = %v and left %s", tt.content, err, data)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "absent.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(absent) error = %v, want fs.ErrNotExist", err)
	}
}

func TestSchemaValidatesWrittenManifests(t *testing.T) {
	cfg, diags := plan.NewParser().Load(filepath.Join("..", "plan", "testdata", "full", "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	m.Config = "forge.hcl"
	built := Built{Digest: testDigest, ConfigDigest: testDigest, Fingerprint: testDigest, Pushed: true,
		Loaded: "podman", Provenance: "min"}
	if err := m.Record(g, map[string]Built{"base": built, "app": built, "inline": built}); err != nil {
		t.Fatal(err)
	}
	m.Artifacts["app"].Promotions = []Promotion{{Tag: "app:v1", At: "2026-12-03T10:00:00Z"}}
	path := filepath.Join(t.TempDir(), DefaultName)
	if err := Write(path, m); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if err := Validate(data, path); err != nil {
		t.Errorf("Validate(a written manifest) = %v", err)
	}
}

func TestSchemaRejects(t *testing.T) {
	valid := `{"version": 1, "artifacts": {}, "services": {}}`
	if err := Validate([]byte(valid), "m.json"); err != nil {
		t.Fatalf("Validate(minimal) = %v", err)
	}
	tests := []struct {
		name, doc, want string
	}{
		{"unknown major version", `{"version": 2, "artifacts": {}, "services": {}}`, "version 2 is not supported"},
		{"unpinned service image", `{"version": 1, "artifacts": {}, "services": {"web": {"artifact": "a", "image": "app:1"}}}`, "does not match"},
		{"unknown field", `{"version": 1, "artifacts": {}, "services": {}, "secrets": {"KEY": "v"}}`, "does not match"},
		{"task without schedule", `{"version": 1, "artifacts": {}, "services": {}, "tasks": {"m": {"artifact": "a", "image": "a@sha256:00", "command": ["x"]}}}`, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate([]byte(tt.doc), "m.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate(%s) = %v, want an error containing %q", tt.doc, err, tt.want)
			}
		})
	}
}

func TestSchemaPromotionTime(t *testing.T) {
	doc := `{"version": 1, "services": {}, "artifacts": {"a": {"images": ["a"], "tags": ["a:1"],
		"digest": "sha256:00", "key": "sha256:00", "inputs": {"context": "."},
		"promotions": [{"tag": "a:2", "at": "AT"}]}}}`
	for at, valid := range map[string]bool{
		"2026-12-03T10:00:00Z":      true,
		"2026-12-03T10:00:00+01:00": true,
		"yesterday":                 false,
		"2026-12-03 10:00":          false,
	} {
		err := Validate([]byte(strings.Replace(doc, "AT", at, 1)), "m.json")
		if valid && err != nil || !valid && (err == nil || !strings.Contains(err.Error(), "date-time")) {
			t.Errorf("Validate(promotion at %q) = %v, want valid = %v", at, err, valid)
		}
	}
}

func TestUpdateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := Update(path, func(m *Manifest) error {
				name := fmt.Sprintf("app%d", i)
				m.Artifacts[name] = &Artifact{Images: []string{name}, Tags: []string{name + ":1"},
					Digest: testDigest.String(), Key: testDigest.String()}
				return nil
			})
			if err != nil {
				t.Errorf("Update() error: %v", err)
			}
		}()
	}
	wg.Wait()
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != 20 {
		t.Errorf("after 20 concurrent updates the manifest holds %d artifacts, want 20", len(m.Artifacts))
	}
}

func TestWriteRefusesWhatItCouldNotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultName)
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := New()
	m.Artifacts["app"] = &Artifact{Images: []string{"app"}, Digest: testDigest.String(), Key: testDigest.String()}
	err := Write(path, m)
	if err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("Write(an artifact without tags) = %v, want a schema error", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "previous" {
		t.Errorf("Write() changed the file to %q after refusing", data)
	}
}
