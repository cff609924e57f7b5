package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/manifest"
)

func newManifestCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Show or validate a runtime manifest",
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show [PATH]",
		Short: "Summarise the manifest: artifacts, services and tasks",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runManifestShow(manifestArg(g, args), asJSON, stdout)
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print the manifest itself")
	validate := &cobra.Command{
		Use:   "validate [PATH]",
		Short: "Check the manifest against the schema of its format version",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runManifestValidate(manifestArg(g, args), stdout)
		},
	}
	cmd.AddCommand(show, validate)
	return cmd
}

func manifestArg(g *globalOptions, args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return manifestPathFor(g.file, "")
}

func runManifestValidate(path string, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := manifest.Validate(data, path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: valid (format version %d)\n", path, manifest.Version)
	return nil
}

func runManifestShow(path string, asJSON bool, stdout io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := manifest.Validate(data, path); err != nil {
		return err
	}
	if asJSON {
		_, err := stdout.Write(data)
		return err
	}
	m, err := manifest.Read(path)
	if err != nil {
		return err
	}
	writeManifest(stdout, m)
	return nil
}

func writeManifest(w io.Writer, m *manifest.Manifest) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, "ARTIFACT", "DIGEST", "TAGS", "WHERE")
	for _, name := range sortedNames(m.Artifacts) {
		a := m.Artifacts[name]
		where := []string{"builder"}
		if a.Pushed {
			where = append(where, "registry")
		}
		if a.Loaded != "" {
			where = append(where, a.Loaded)
		}
		tags := a.Tags
		for _, p := range a.Promotions {
			tags = append(tags, p.Tag+" (released)")
		}
		row(tw, name, a.Digest, strings.Join(tags, " "), strings.Join(where, ", "))
	}
	fmt.Fprintln(tw)
	row(tw, "SERVICE", "IMAGE", "SECRET ENV")
	for _, name := range sortedNames(m.Services) {
		s := m.Services[name]
		row(tw, name, s.Image, strings.Join(s.SecretEnv, " "))
	}
	if len(m.Tasks) > 0 {
		fmt.Fprintln(tw)
		row(tw, "TASK", "WHEN", "COMMAND")
		for _, name := range sortedNames(m.Tasks) {
			t := m.Tasks[name]
			row(tw, name, t.When, strings.Join(t.Command, " "))
		}
	}
	tw.Flush()
}

// row writes one line of a table, leaving out empty cells at its end so
// that the line carries no trailing padding.
func row(w io.Writer, cells ...string) {
	for len(cells) > 1 && cells[len(cells)-1] == "" {
		cells = cells[:len(cells)-1]
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
