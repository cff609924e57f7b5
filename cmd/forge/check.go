package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/check"
	"github.com/forge-build/forge/pkg/plan"
)

type checkOptions struct {
	*globalOptions
	config       configOptions
	json         bool
	runtimeSteps []string
	noBuildKit   bool
	stdout       io.Writer
	stderr       io.Writer
}

func newCheckCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &checkOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Find build-time and runtime mismatches before building",
		Long: "Check forge.hcl, each image's Dockerfile and the services together: secrets in build\n" +
			"args, build steps that need runtime-only settings, images running as root, bind mounts\n" +
			"hiding what an image built or lacking SELinux labels, tags claimed twice, contexts\n" +
			"sending what they should not. When a builder is configured or forge's local builder\n" +
			"runs, BuildKit's own Dockerfile checks run too. Exits 1 when a finding is an error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), opts)
		},
	}
	opts.config.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the findings as JSON")
	cmd.Flags().StringArrayVar(&opts.runtimeSteps, "runtime-step", nil,
		"a command that belongs at run time, not in RUN (repeatable; default collectstatic, migrate)")
	cmd.Flags().BoolVar(&opts.noBuildKit, "no-buildkit", false, "skip BuildKit's Dockerfile checks")
	return cmd
}

// errCheckFailed is returned when a check finding is an error.
var errCheckFailed = errors.New("the checks found errors")

func runCheck(ctx context.Context, opts *checkOptions) error {
	// The configuration is checked before it is planned: the checks
	// report what would stop the plan (tags claimed twice) as findings.
	cfg, files, err := loadConfig(ctx, opts.file, opts.config, true, opts.stderr)
	if err != nil {
		return err
	}
	g, err := plan.New(cfg)
	var planDiags hcl.Diagnostics
	if errors.As(err, &planDiags) {
		// Claimed tags are findings; anything else the planner refuses,
		// such as a cycle, is the configuration's error.
		if other := slices.DeleteFunc(planDiags, plan.TagConflict); len(other) > 0 {
			printDiagnostics(opts.stderr, files, other)
			return &usageError{fmt.Errorf("%w: %s is not valid", errReported, opts.file)}
		}
	} else if err != nil {
		return &usageError{err}
	}
	findings := check.Run(cfg, check.Options{RuntimeSteps: opts.runtimeSteps})
	if g != nil && !opts.noBuildKit {
		findings = append(findings, buildkitFindings(ctx, g, opts.globalOptions, opts.stderr)...)
	}
	if opts.json {
		enc := json.NewEncoder(opts.stdout)
		enc.SetIndent("", "  ")
		if findings == nil {
			findings = []check.Finding{}
		}
		if err := enc.Encode(findings); err != nil {
			return err
		}
	} else {
		printFindings(opts.stdout, findings)
	}
	if check.HasErrors(findings) {
		return fmt.Errorf("%w", errCheckFailed)
	}
	return nil
}

// buildkitFindings runs BuildKit's Dockerfile checks when a builder is at
// hand: configured, or forge's local builder already running. It starts
// none.
func buildkitFindings(ctx context.Context, g *plan.Graph, gopts *globalOptions, stderr io.Writer) []check.Finding {
	addr, _ := remoteAddr(gopts)
	if addr == "" {
		local, err := localBuilder(gopts)
		if err != nil {
			return nil
		}
		st := local.Status(ctx)
		if !st.Running {
			fmt.Fprintln(stderr, "BuildKit's Dockerfile checks skipped: no builder is running (forge builder start)")
			return nil
		}
		addr = st.Addr
	}
	c, err := buildkit.Connect(ctx, addr, gopts.tls)
	if err != nil {
		fmt.Fprintf(stderr, "BuildKit's Dockerfile checks skipped: %v\n", err)
		return nil
	}
	defer c.Close()
	var out []check.Finding
	for _, n := range g.Nodes {
		warnings, err := c.Lint(ctx, n)
		if err != nil {
			fmt.Fprintf(stderr, "BuildKit's Dockerfile checks of %s failed: %v\n", n.Name, err)
		}
		for _, w := range warnings {
			out = append(out, check.Finding{
				Rule: check.BuildKitLint + ":" + w.Rule, Severity: check.Warning, Image: n.Name,
				Location: check.Location{File: w.File, Line: w.Line, Column: w.Column},
				Message:  w.Detail, Fix: "See " + w.URL,
			})
		}
	}
	return out
}

// printFindings writes each finding as FILE:LINE:COL: severity: message
// [rule], then how to fix it, and then the counts. Findings that read the
// same, such as those of the images of one matrix, are written and counted
// once.
func printFindings(w io.Writer, findings []check.Finding) {
	printed := make(map[string]bool)
	errs, warns := 0, 0
	for _, f := range findings {
		loc := f.Location
		loc.File = displayPath(loc.File)
		text := fmt.Sprintf("%s: %s: %s [%s]\n  fix: %s\n", loc, f.Severity, f.Message, f.Rule, f.Fix)
		if printed[text] {
			continue
		}
		printed[text] = true
		io.WriteString(w, text)
		switch f.Severity {
		case check.Error:
			errs++
		case check.Warning:
			warns++
		}
	}
	fmt.Fprintf(w, "%d error(s), %d warning(s)\n", errs, warns)
}
