package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
)

// progressEnv overrides the default of --progress.
const progressEnv = "FORGE_PROGRESS"

type buildOptions struct {
	*globalOptions
	config   configOptions
	manifest string
	progress string
	print    bool
	targets  []string

	stdout, stderr io.Writer
}

func newBuildCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &buildOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "build [SERVICE|IMAGE ...]",
		Short: "Build images once each and write the runtime manifest",
		Long: "Build the named services' and images' images (all of them by default), each\n" +
			"exactly once, export every image under all its tags in one export, and record\n" +
			"the result in the runtime manifest. Image references print on stdout,\n" +
			"progress on stderr.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.targets = args
			return runBuild(cmd.Context(), opts)
		},
	}
	defaultProgress := os.Getenv(progressEnv)
	if defaultProgress == "" {
		defaultProgress = "auto"
	}
	opts.config.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.print, "print", false, "print the plan as forge plan does and build nothing")
	cmd.Flags().StringVar(&opts.manifest, "manifest", "",
		"manifest path (default "+manifest.DefaultName+" next to the configuration file)")
	cmd.Flags().StringVar(&opts.progress, "progress", defaultProgress,
		"progress output: auto, tty, plain, rawjson or quiet (default $"+progressEnv+", else auto)")
	return cmd
}

func runBuild(ctx context.Context, opts *buildOptions) error {
	g, err := loadGraph(opts.file, opts.config, opts.targets, opts.stderr)
	if err != nil {
		return err
	}
	if opts.print {
		return printPlan(opts.stdout, g, false)
	}

	c, err := connect(ctx, opts.globalOptions, opts.stderr)
	if err != nil {
		return err
	}
	defer c.Close()

	results, err := solve(ctx, c, g, opts)
	if err != nil {
		return err
	}

	path := opts.manifestPath(g.Config)
	if err := record(path, g, results); err != nil {
		return err
	}

	printResults(opts.stdout, g, results)
	fmt.Fprintf(opts.stderr, "manifest written to %s\n", path)
	return nil
}

func solve(ctx context.Context, c *buildkit.Client, g *plan.Graph, opts *buildOptions) (map[string]*buildkit.Result, error) {
	out, _ := opts.stderr.(*os.File)
	if out == nil {
		out = os.Stderr
	}
	progress, err := buildkit.NewProgress(ctx, out, opts.progress)
	if err != nil {
		return nil, &usageError{err}
	}
	results, buildErr := c.Build(ctx, g, buildkit.Options{Progress: progress})
	warnings, _ := progress.Wait()
	if len(warnings) > 0 {
		fmt.Fprintf(opts.stderr, "%d build warning(s); see the progress output above\n", len(warnings))
	}
	return results, buildErr
}

func (o *buildOptions) manifestPath(cfg *plan.Config) string {
	if o.manifest != "" {
		return o.manifest
	}
	return filepath.Join(cfg.Dir, manifest.DefaultName)
}

// record adds the build's results to the manifest at path, keeping what it
// holds about images and services this build did not touch.
func record(path string, g *plan.Graph, results map[string]*buildkit.Result) error {
	m, err := manifest.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		m, err = manifest.New(), nil
	}
	if err != nil {
		return fmt.Errorf("%w; move it away to start a new manifest", err)
	}
	digests := make(map[string]digest.Digest, len(results))
	for name, r := range results {
		digests[name] = r.Digest
	}
	if err := m.Record(g, digests); err != nil {
		return err
	}
	return manifest.Write(path, m)
}

// printResults writes one line per built image: its name, its digest and
// its tags.
func printResults(w io.Writer, g *plan.Graph, results map[string]*buildkit.Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range g.Exported() {
		r := results[n.Name]
		fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Name, r.Digest, strings.Join(n.Image.Tags, " "))
	}
	tw.Flush()
}
