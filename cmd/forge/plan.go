package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/plan"
)

type planOptions struct {
	*globalOptions
	config  configOptions
	json    bool
	targets []string
	stdout  io.Writer
	stderr  io.Writer
}

func newPlanCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &planOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "plan [SERVICE|IMAGE ...]",
		Short: "Show what forge build would build, without a builder",
		Long: "Print the build plan: each build node, the image blocks merged into it and why,\n" +
			"its resolved tags and inputs, what it needs, and the services and tasks that run\n" +
			"it. No builder is contacted.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.targets = args
			return runPlan(cmd.Context(), opts)
		},
	}
	opts.config.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the plan as JSON")
	return cmd
}

func runPlan(ctx context.Context, opts *planOptions) error {
	g, err := loadGraph(ctx, opts.file, opts.config, opts.targets, false, opts.stderr)
	if err != nil {
		return err
	}
	return printPlan(opts.stdout, g, opts.json)
}

// printPlan writes the plan of g to out, as text or as JSON, in one
// buffered write.
func printPlan(out io.Writer, g *plan.Graph, asJSON bool) error {
	w := bufio.NewWriter(out)
	if err := writePlan(w, g, asJSON); err != nil {
		return err
	}
	return w.Flush()
}

func writePlan(w io.Writer, g *plan.Graph, asJSON bool) error {
	d := plan.Describe(g)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	fmt.Fprintf(w, "%s: %d build node(s), %d service(s)\n", d.File, len(d.Nodes), len(d.Services))
	neededBy := make(map[string][]string)
	for _, n := range d.Nodes {
		for _, dep := range n.Needs {
			neededBy[dep] = append(neededBy[dep], n.Name)
		}
	}
	for _, n := range d.Nodes {
		writeNode(w, n, neededBy[n.Name])
	}
	return nil
}

func writeNode(w io.Writer, n plan.NodeDescription, neededBy []string) {
	fmt.Fprintf(w, "\n%s  %s\n", n.Name, n.Key)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "  %-12s %s\n", name+":", value)
		}
	}
	if !n.Export {
		field("export", "no: built only for "+strings.Join(neededBy, ", "))
	}
	if len(n.Images) > 1 {
		field("merged", strings.Join(n.Images, ", "))
		field("because", n.MergedBecause)
	}
	field("tags", strings.Join(n.Tags, ", "))
	field("context", n.Context)
	field("dockerfile", n.Dockerfile)
	if n.Inline {
		field("dockerfile", "(inline)")
	}
	field("target", n.Target)
	field("args", pairs(n.Args))
	field("labels", pairs(n.Labels))
	field("annotations", pairs(n.Annotations))
	field("platforms", strings.Join(n.Platforms, ", "))
	field("contexts", pairs(n.Contexts))
	field("secrets", strings.Join(n.Secrets, ", "))
	field("ssh", strings.Join(n.SSH, ", "))
	field("cache from", strings.Join(n.CacheFrom, " "))
	field("cache to", strings.Join(n.CacheTo, " "))
	field("network", n.Network)
	field("needs", strings.Join(n.Needs, ", "))
	field("services", strings.Join(n.Services, ", "))
	field("tasks", strings.Join(n.Tasks, ", "))
}

func pairs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
