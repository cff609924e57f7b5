package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/internal/atomicfile"
	"github.com/forge-build/forge/pkg/compose"
	"github.com/forge-build/forge/pkg/manifest"
)

// composeFileName is where forge compose writes, next to the manifest,
// unless -o says otherwise.
const composeFileName = "compose.forge.yaml"

type composeOptions struct {
	*globalOptions
	manifest string
	output   string
	name     string
	stdout   io.Writer
	stderr   io.Writer
}

func newComposeCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &composeOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "compose [-o FILE]",
		Short: "Write a compose file that runs exactly the images the manifest records",
		Long: "Write a compose file from the runtime manifest: every service's image pinned by\n" +
			"digest, no build sections, runtime env, secret env as required variables (their\n" +
			"values are never written), bind mounts with their SELinux labels, and tasks as\n" +
			"services under the \"" + compose.TasksProfile + "\" profile. -o - writes to stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCompose(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.manifest, "manifest", "",
		"manifest path (default "+manifest.DefaultName+" next to the configuration file)")
	cmd.Flags().StringVarP(&opts.output, "output", "o", "",
		"compose file to write (default "+composeFileName+" next to the manifest)")
	cmd.Flags().StringVar(&opts.name, "name", "", "compose project name (default: the runtime's)")
	return cmd
}

func runCompose(ctx context.Context, opts *composeOptions) error {
	path := manifestPathFor(opts.file, opts.manifest)
	m, err := manifest.Read(path)
	if err != nil {
		return err
	}
	out := opts.output
	if out == "" {
		out = filepath.Join(filepath.Dir(path), composeFileName)
	}
	outDir := filepath.Dir(out)
	if out == "-" {
		outDir = "."
	}
	data, err := compose.Export(ctx, m, compose.ExportOptions{
		Name:       opts.name,
		ProjectDir: filepath.Join(filepath.Dir(path), filepath.Dir(m.Config)),
		OutputDir:  absDir(outDir),
	})
	if err != nil {
		return err
	}
	if out == "-" {
		_, err := opts.stdout.Write(data)
		return err
	}
	if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.stderr, "compose file written to %s (%d services and tasks)\n", out, len(compose.ServiceNames(m)))
	return nil
}

// manifestPathFor returns the manifest path a command uses: the --manifest
// flag, else the default name next to the configuration file.
func manifestPathFor(configFile, flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(filepath.Dir(configFile), manifest.DefaultName)
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}
