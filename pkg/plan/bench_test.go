package plan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/forge-build/forge/internal/genconfig"
)

// BenchmarkPlan measures parse, validation and planning of a configuration
// of 100 images and 1,000 services. Target: 20 ms and 30 MiB per op.
func BenchmarkPlan(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "forge.hcl")
	if err := os.WriteFile(path, []byte(genconfig.Services(100, 1000)), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, diags := NewParser().Load(path, LoadOptions{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		g, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Services) != 1000 || len(g.Nodes) != 90 {
			b.Fatalf("plan has %d nodes and %d services, want 90 and 1000", len(g.Nodes), len(g.Services))
		}
	}
}

// BenchmarkParseHCL measures HCL's native-syntax parser alone on the
// configuration BenchmarkPlan plans: the floor under BenchmarkPlan, which
// forge's own decoding and planning add to.
func BenchmarkParseHCL(b *testing.B) {
	src := []byte(genconfig.Services(100, 1000))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := hclsyntax.ParseConfig(src, "forge.hcl", hcl.InitialPos); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
