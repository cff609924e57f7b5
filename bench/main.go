// Command bench measures forge against the alternatives on one machine, in
// one run, and prints a Markdown table of medians: forge building an image
// used by N services, a bare single BuildKit solve of the same image (the
// lower bound), one solve and export per service as compose does it,
// docker buildx bake of the equivalent compose file (with -buildx), a
// no-op forge build, and forge plan of a 1,000-service configuration.
//
// It needs what make tools and make example-base provide: forge, buildkitd,
// the registry and the OCI layout standing in for debian:bookworm-slim.
//
//	go run ./bench -forge bin/forge -registry bin/registry -base DIR [-buildx bin/buildx] [-runs 3]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

type config struct {
	forge, registry, base, buildx string
	runs                          int
	appMB                         int
	only                          *regexp.Regexp
}

func main() {
	var cfg config
	flag.StringVar(&cfg.forge, "forge", "bin/forge", "forge binary")
	flag.StringVar(&cfg.registry, "registry", "bin/registry", "registry binary")
	flag.StringVar(&cfg.base, "base", "", "OCI layout standing in for debian:bookworm-slim (make example-base)")
	flag.StringVar(&cfg.buildx, "buildx", "", "buildx binary; without it the bake comparison is skipped")
	flag.IntVar(&cfg.runs, "runs", 3, "runs per scenario; the table shows medians")
	flag.IntVar(&cfg.appMB, "app-mb", 60, "megabytes of application files the image adds to its base")
	only := flag.String("only", "", "run only the scenarios whose name matches this regular expression")
	bare := flag.Bool("bare", false, "internal: run one bare solve described by the remaining flags")
	flag.Parse()
	if *bare {
		if err := runBare(flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "bare solve:", err)
			os.Exit(1)
		}
		return
	}
	var err error
	if cfg.only, err = regexp.Compile(*only); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -only:", err)
		os.Exit(2)
	}
	if cfg.base == "" {
		fmt.Fprintln(os.Stderr, "bench: -base is required (make example-base prints it)")
		os.Exit(2)
	}
	for _, p := range []*string{&cfg.forge, &cfg.registry, &cfg.buildx} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		*p = abs
	}
	start := time.Now()
	rows, env, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, rows, env, time.Since(start))
}
