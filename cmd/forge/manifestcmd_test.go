package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-build/forge/pkg/manifest"
)

func TestManifestValidateAndShow(t *testing.T) {
	digest := "sha256:" + strings.Repeat("3", 64)
	valid := `{"version": 1, "config": "forge.hcl",
  "artifacts": {"app": {"images": ["app"], "tags": ["app:1"], "pushed": true,
    "digest": "` + digest + `", "key": "` + digest + `",
    "inputs": {"context": "."}}},
  "services": {"web": {"artifact": "app", "image": "app:1@` + digest + `", "secretEnv": ["API_TOKEN"]}}}`
	dir := writeProject(t, map[string]string{
		"valid.json":    valid,
		"future.json":   `{"version": 7, "artifacts": {}, "services": {}}`,
		"unpinned.json": `{"version": 1, "artifacts": {}, "services": {"web": {"artifact": "a", "image": "app:1"}}}`,
	})
	tests := []struct {
		args       []string
		code       int
		wantOut    string
		wantStderr string
	}{
		{[]string{"manifest", "validate", filepath.Join(dir, "valid.json")}, 0, "valid (format version 1)", ""},
		{[]string{"manifest", "validate", filepath.Join(dir, "future.json")}, 1, "", "format version 7 is not supported"},
		{[]string{"manifest", "validate", filepath.Join(dir, "unpinned.json")}, 1, "", "does not match the version 1 schema"},
		{[]string{"manifest", "show", filepath.Join(dir, "valid.json")}, 0, "app:1@" + digest, ""},
		{[]string{"compose", "--manifest", filepath.Join(dir, "valid.json"), "-o", "-"}, 0,
			"API_TOKEN: ${API_TOKEN:?API_TOKEN must be set in the environment}", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.wantOut) ||
				!strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("forge %s = exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout with %q, stderr with %q",
					strings.Join(tt.args, " "), code, stdout.String(), stderr.String(),
					tt.code, tt.wantOut, tt.wantStderr)
			}
		})
	}
}

func TestWriteManifestPadsNoLineEnd(t *testing.T) {
	m := manifest.New()
	m.Artifacts["app"] = &manifest.Artifact{Tags: []string{"app:1"}, Digest: "sha256:" + strings.Repeat("3", 64)}
	m.Services["web"] = &manifest.Service{Artifact: "app", Image: "app:1@sha256:" + strings.Repeat("3", 64),
		SecretEnv: []string{"API_TOKEN"}}
	m.Services["worker"] = &manifest.Service{Artifact: "app", Image: "app:1@sha256:" + strings.Repeat("3", 64)}
	var out bytes.Buffer
	writeManifest(&out, m)
	for i, line := range strings.Split(out.String(), "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("line %d of the manifest summary ends in spaces: %q", i+1, line)
		}
	}
	if !strings.Contains(out.String(), "worker") {
		t.Errorf("the summary leaves out the service without secret env:\n%s", out.String())
	}
}
