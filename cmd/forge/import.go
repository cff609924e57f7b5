package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/internal/atomicfile"
	"github.com/forge-build/forge/pkg/compose"
)

type importOptions struct {
	output string
	force  bool
	stdout io.Writer
	stderr io.Writer
}

// newImportCmd returns the import command. Its result is the file it
// writes, or stdout with -o -, and it ignores -f: the output is -o, else
// forge.hcl next to the first compose file.
func newImportCmd(_ *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &importOptions{stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "import COMPOSE_FILE... [-o FILE] [--force]",
		Short: "Write a forge.hcl from compose files",
		Long: "Read compose files, later ones overriding earlier ones as with compose -f, and\n" +
			"write the forge.hcl that builds their images, each once however many services\n" +
			"share it, and runs their services. Nothing is read from the environment or from\n" +
			"env files. Every compose key that is not carried over as is gets a line on\n" +
			"stderr: FILE: service NAME: KEY: MESSAGE.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{errors.New("import needs at least one compose file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), opts, args)
		},
	}
	cmd.Flags().StringVarP(&opts.output, "output", "o", "",
		"forge.hcl to write, - for stdout (default forge.hcl next to the first compose file)")
	cmd.Flags().BoolVar(&opts.force, "force", false, "overwrite the output file if it exists")
	return cmd
}

func runImport(ctx context.Context, opts *importOptions, files []string) error {
	out := opts.output
	if out == "" {
		out = filepath.Join(filepath.Dir(files[0]), "forge.hcl")
	}
	toStdout := out == "-"
	if !toStdout {
		if err := checkImportOutput(out, opts.force); err != nil {
			return err
		}
	}
	// With -o -, paths are written relative to the working directory.
	imported, err := compose.Import(ctx, files, compose.ImportOptions{OutputDir: filepath.Dir(out)})
	if err != nil {
		return &usageError{err}
	}
	for _, p := range imported.Problems {
		fmt.Fprintln(opts.stderr, p)
	}
	if toStdout {
		if _, err := opts.stdout.Write(imported.HCL); err != nil {
			return err
		}
		out = "stdout"
	} else if err := atomicfile.WriteFile(out, imported.HCL, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(opts.stderr, "forge.hcl written to %s%s\n", out, reviewNote(len(imported.Problems)))
	return nil
}

// checkImportOutput refuses to replace an existing file unless forced.
func checkImportOutput(path string, force bool) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil && !force:
		err := fmt.Errorf("%s exists: use --force to overwrite it, or -o to write elsewhere", path)
		return &usageError{err}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("checking %s: %w", path, err)
	}
	return nil
}

func reviewNote(problems int) string {
	switch problems {
	case 0:
		return ""
	case 1:
		return "; review it and the problem above"
	}
	return fmt.Sprintf("; review it and the %d problems above", problems)
}
