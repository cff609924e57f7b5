package plan

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePlan feeds arbitrary bytes through parse, validation and
// planning: whatever the input, the result is a configuration or
// diagnostics, never a panic.
func FuzzParsePlan(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.hcl"))
	for _, path := range seeds {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(mergeConfig))
	f.Add([]byte(precedenceConfig))
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "forge.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := NewParser().Parse(src, path, LoadOptions{})
		if diags.HasErrors() {
			return
		}
		if cfg == nil {
			t.Fatal("Parse() returned no configuration and no error")
		}
		if _, err := New(cfg); err != nil {
			return
		}
		for _, svc := range cfg.Services {
			if _, err := New(cfg, svc.Name); err != nil {
				t.Fatalf("New(%s) for a declared service: %v", svc.Name, err)
			}
		}
	})
}
