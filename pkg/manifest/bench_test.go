package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/internal/genconfig"
	"github.com/forge-build/forge/pkg/plan"
)

// BenchmarkUpdate measures what a build does to the manifest once its
// solves are done: lock, read and check the previous manifest, record a
// plan of 100 images (90 build nodes) and 1,000 services, encode, and
// write atomically. "changed" records new digests every time, so the file
// is rewritten and synced; "unchanged" records the same build again,
// which leaves the file alone.
func BenchmarkUpdate(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, diags := plan.NewParser().Parse([]byte(genconfig.Services(100, 1000)),
		filepath.Join(dir, "forge.hcl"), plan.LoadOptions{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	g, err := plan.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, DefaultName)
	for _, changed := range []bool{true, false} {
		name := map[bool]string{true: "changed", false: "unchanged"}[changed]
		b.Run(name, func(b *testing.B) {
			run := 0
			b.ReportAllocs()
			for b.Loop() {
				if changed {
					run++
				}
				built := builtNodes(g, run)
				if err := Update(path, func(m *Manifest) error { return m.Record(g, built) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// builtNodes returns an outcome for every exported node of g, with digests
// that differ from one run to the next.
func builtNodes(g *plan.Graph, run int) map[string]Built {
	built := make(map[string]Built)
	for _, n := range g.Exported() {
		built[n.Name] = Built{
			Digest:       digest.FromString(fmt.Sprint(n.Name, run)),
			ConfigDigest: digest.FromString(fmt.Sprint(n.Name, run, "config")),
			Pushed:       true,
		}
	}
	return built
}
