package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/manifest"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		spec    string
		want    buildkit.FileOutput
		wantErr string // a word the error names
	}{
		{spec: "type=docker,dest=a.tar", want: buildkit.FileOutput{Type: "docker", Dest: "a.tar"}},
		{spec: "type=oci,dest=out,tar=false", want: buildkit.FileOutput{Type: "oci", Dest: "out", Dir: true}},
		{spec: "type=local,dest=dir", want: buildkit.FileOutput{Type: "local", Dest: "dir"}},
		{spec: "type=docker,dest=a.tar,compression=zstd,compression-level=3",
			want: buildkit.FileOutput{Type: "docker", Dest: "a.tar", Compression: "zstd", CompressionLevel: "3"}},
		{spec: "type=oci,dest=a.tar,compression=uncompressed",
			want: buildkit.FileOutput{Type: "oci", Dest: "a.tar", Compression: "uncompressed"}},
		{spec: `type=local,"dest=out/a,b"`, want: buildkit.FileOutput{Type: "local", Dest: "out/a,b"}},
		{spec: `type=local,"dest=out`, wantErr: "comma-separated"},
		{spec: "type=docker,dest=a.tar,compression=lz4", wantErr: "compression"},
		{spec: "type=docker,dest=a.tar,compression-level=fast", wantErr: "compression-level"},
		{spec: "type=docker,dest=a.tar,compression-level=23", wantErr: "compression-level"},
		{spec: "type=local,dest=dir,compression=gzip", wantErr: "local"},
		{spec: "type=docker,dest=a.tar,tar=maybe", wantErr: "tar"},
		{spec: "type=oci,dest=out,tar=false,compression=zstd", wantErr: "tarballs"},
		{spec: "type=docker,dest=a.tar,push=true", wantErr: "push"},
		{spec: "type=registry,dest=a.tar", wantErr: "type"},
		{spec: "type=docker", wantErr: "dest"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseOutput(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOutput(%q) = %v, want an error about %s", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOutput(%q): %v", tt.spec, err)
			}
			if *got != tt.want {
				t.Errorf("parseOutput(%q) = %+v, want %+v", tt.spec, *got, tt.want)
			}
		})
	}
}

// TestBuildKeepsAnotherConfigsManifest checks that a build does not
// record itself in a manifest another configuration file's builds wrote,
// which would drop that configuration's records. It fails before any
// builder is needed.
func TestBuildKeepsAnotherConfigsManifest(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl":    "image \"app\" {}\n",
		"forge.ci.hcl": "image \"tests\" {}\n",
		"Dockerfile":   "FROM scratch\n",
	})
	path := filepath.Join(project, manifest.DefaultName)
	m := manifest.New()
	m.Config = "forge.hcl"
	if err := manifest.Write(path, m); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := run([]string{"build", "-f", filepath.Join(project, "forge.ci.hcl"), "--no-check"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "records the builds of forge.hcl") ||
		!strings.Contains(stderr.String(), "--manifest") {
		t.Errorf("forge build -f forge.ci.hcl = exit %d\n%s\nwant exit %d naming forge.hcl and --manifest",
			code, stderr.String(), exitUsage)
	}
}

// TestBuildRefusesOutputsImagesWouldShare checks that outputs several
// images would overwrite in turn, or that an image cannot take, are usage
// errors before any builder is reached.
func TestBuildRefusesOutputsImagesWouldShare(t *testing.T) {
	project := writeProject(t, map[string]string{
		"forge.hcl": "image \"api\" {\n  target = \"api\"\n}\nimage \"web\" {\n  target = \"web\"\n}\n" +
			"image \"multi\" {\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}\n",
		"Dockerfile":    "FROM scratch AS api\nFROM scratch AS web\nFROM scratch\n",
		".dockerignore": ".git\n",
	})
	file := filepath.Join(project, "forge.hcl")
	tests := []struct {
		args []string
		want string // words the error holds; "" for no usage error
	}{
		{[]string{"--cache-to", "type=local,dest=" + project + "/cache", "api", "web"}, "needs {image}"},
		{[]string{"--cache-to", "type=local,dest=" + project + "/cache/{image}", "api", "web"}, ""},
		{[]string{"--cache-to", "type=inline", "api", "web"}, ""},
		{[]string{"--cache-to", "type=local,dest=" + project + "/cache", "api"}, ""},
		{[]string{"--output", "type=oci,dest=" + project + "/out.tar", "api", "web"}, "needs {image}"},
		{[]string{"--load=podman", "multi"}, "2 platforms"},
		{[]string{"--progress", "bogus"}, "want one of auto"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// A builder that cannot be reached shows whether the build
			// got past its checks.
			e := &env{t: t, vars: []string{"BUILDKIT_HOST=tcp://" + closedPort(t), "PATH=" + os.Getenv("PATH")}}
			res := e.forge(append([]string{"build", "-f", file, "--progress", "quiet"}, tt.args...)...)
			switch {
			case tt.want != "" && (res.code != exitUsage || !strings.Contains(res.stderr, tt.want)):
				t.Errorf("exit %d, want %d saying %q\n%s", res.code, exitUsage, tt.want, res.stderr)
			case tt.want == "" && res.code == exitUsage:
				t.Errorf("exit %d, want the build to reach the builder\n%s", res.code, res.stderr)
			}
		})
	}
}

func TestBuildPrintJSON(t *testing.T) {
	project := writeProject(t, map[string]string{"forge.hcl": "image \"app\" {}\n", "Dockerfile": "FROM scratch\n"})
	var stdout, stderr strings.Builder
	code := run([]string{"build", "-f", filepath.Join(project, "forge.hcl"), "--print", "--json"}, &stdout, &stderr)
	var plan struct{ Nodes []json.RawMessage }
	if err := json.Unmarshal([]byte(stdout.String()), &plan); code != 0 || err != nil || len(plan.Nodes) != 1 {
		t.Errorf("forge build --print --json: exit %d, %v\n%s%s", code, err, stdout.String(), stderr.String())
	}
}
