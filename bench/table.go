package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// printTable writes the results as Markdown: the machine, the table of
// medians with ratios to the bare solve of the same output, and the
// targets.
func printTable(w io.Writer, rows []row, e *benchEnv, took time.Duration) {
	byName := map[string]row{}
	for _, r := range rows {
		byName[r.name] = r
	}
	fmt.Fprintf(w, "Machine: %s/%s, %d CPUs; %s; median of %d runs; %d MB of application files on a Debian base; total %s.\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), e.versions, e.cfg.runs, e.cfg.appMB, took.Round(time.Second))
	fmt.Fprintln(w, "| scenario | median | ÷ bare solve | peak memory | note |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	for _, r := range rows {
		ratio := ""
		for _, kind := range []string{"load", "push"} {
			if base, ok := byName["bare solve, "+kind]; ok && strings.HasSuffix(r.name, ", "+kind) {
				ratio = fmt.Sprintf("%.2f", r.wall.Seconds()/base.wall.Seconds())
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f MB | %s |\n", r.name, duration(r.wall), ratio,
			float64(r.peakKB)/1024, r.note)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | measured | met |")
	fmt.Fprintln(w, "|---|---:|---|")
	target := func(name string, value, limit float64, format string) {
		met := "yes"
		if value > limit {
			met = "no"
		}
		fmt.Fprintf(w, "| %s | "+format+" | %s |\n", name, value, met)
	}
	ratio := func(a, b string) (float64, bool) {
		ra, okA := byName[a]
		rb, okB := byName[b]
		return ra.wall.Seconds() / rb.wall.Seconds(), okA && okB
	}
	for _, kind := range []string{"load", "push"} {
		if v, ok := ratio("forge, N=3, "+kind, "bare solve, "+kind); ok {
			target("forge(N=3) ÷ single solve ≤ 1.05 ("+kind+")", v, 1.05, "%.2f")
		}
		if v, ok := ratio("forge, N=10, "+kind, "forge, N=1, "+kind); ok {
			target("forge N=10 ≤ 1.10 × N=1 ("+kind+")", v, 1.10, "%.2f")
		}
		if v, ok := ratio("forge, N=3, "+kind, "buildx bake, N=3, "+kind); ok {
			target("forge(N=3) ÷ buildx bake ≤ 0.45 ("+kind+")", v, 0.45, "%.2f")
		}
	}
	if e.cfg.buildx == "" {
		fmt.Fprintln(w, "| forge(N=3) ÷ buildx bake ≤ 0.45 | skipped: no -buildx | |")
	}
	if r, ok := byName["forge, no-op (nothing changed), push"]; ok {
		target("no-op forge build ≤ 50 ms", float64(r.wall.Milliseconds()), 50, "%.0f ms")
	}
	if r, ok := byName["forge plan, 1,000 services"]; ok {
		target("forge plan of 1,000 services ≤ 20 ms", float64(r.wall.Milliseconds()), 20, "%.0f ms")
	}
}

func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
