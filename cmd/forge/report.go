package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/forge-build/forge/internal/atomicfile"
	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/plan"
)

// buildReport is what forge build --json prints and --metadata-file holds.
type buildReport struct {
	Manifest  string           `json:"manifest"`
	Artifacts []artifactReport `json:"artifacts"`
}

type artifactReport struct {
	Name         string   `json:"name"`
	Digest       string   `json:"digest"`
	ConfigDigest string   `json:"configDigest,omitempty"`
	Tags         []string `json:"tags"`
	Services     []string `json:"services,omitempty"`
	Skipped      bool     `json:"skipped"`
	Pushed       bool     `json:"pushed"`
	Loaded       string   `json:"loaded,omitempty"`
	// Ref is the solve's reference in the builder's history.
	Ref string `json:"ref,omitempty"`
}

func newReport(g *plan.Graph, results map[string]*buildkit.Result, path string, opts *buildOptions) *buildReport {
	rep := &buildReport{Manifest: path, Artifacts: []artifactReport{}}
	for _, n := range g.Exported() {
		r := results[n.Name]
		rep.Artifacts = append(rep.Artifacts, artifactReport{
			Name: n.Name, Digest: r.Digest.String(), ConfigDigest: r.ConfigDigest.String(),
			Tags: n.Image.Tags, Services: n.Services, Skipped: r.Skipped,
			Pushed: opts.push, Loaded: opts.load, Ref: r.Ref,
		})
	}
	return rep
}

// report prints the results: a line per image on stdout, or JSON with
// --json, and the JSON to --metadata-file.
func report(g *plan.Graph, results map[string]*buildkit.Result, path string, opts *buildOptions) error {
	rep := newReport(g, results, path, opts)
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if opts.metadataFile != "" {
		if err := atomicfile.WriteFile(opts.metadataFile, data, 0o644); err != nil {
			return fmt.Errorf("writing --metadata-file: %w", err)
		}
	}
	if opts.json {
		_, err := opts.stdout.Write(data)
		return err
	}
	printResults(opts.stdout, rep)
	fmt.Fprintf(opts.stderr, "manifest written to %s\n", path)
	return nil
}

// printResults writes one line per image: its name, digest and tags.
func printResults(w io.Writer, rep *buildReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range rep.Artifacts {
		note := ""
		if a.Skipped {
			note = "\t(unchanged)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", a.Name, a.Digest, strings.Join(a.Tags, " "), note)
	}
	tw.Flush()
}
