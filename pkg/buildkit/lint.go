package buildkit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"

	"github.com/forge-build/forge/pkg/plan"
)

// LintWarning is one finding of BuildKit's built-in Dockerfile checks.
type LintWarning struct {
	Rule   string
	Detail string
	URL    string
	// File, Line and Column locate it in the Dockerfile (1-based); Line is 0
	// when the check names no line.
	File         string
	Line, Column int
}

// Lint runs the Dockerfile frontend's own checks on n's Dockerfile, in the
// frontend's check mode: nothing is built or exported. Images whose named
// contexts are other image blocks are checked without those contexts. When
// the checks stop early, Lint returns what they found and an error.
func (c *Client) Lint(ctx context.Context, n *plan.Node) ([]LintWarning, error) {
	req := newRequest()
	defer req.close()
	attrs, err := req.addImage(n.Image, locals{})
	if err != nil {
		return nil, err
	}
	attrs["requestid"] = lint.RequestLint
	session, err := req.attachables()
	if err != nil {
		return nil, err
	}
	opt := client.SolveOpt{LocalMounts: req.mounts, OCIStores: req.ociStores, Session: session}
	var results lint.LintResults
	_, err = c.bk.Build(ctx, opt, "forge-lint", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
		res, err := gw.Solve(ctx, gateway.SolveRequest{Frontend: dockerfileFrontend, FrontendOpt: attrs})
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(res.Metadata["result.json"], &results); err != nil {
			return nil, fmt.Errorf("reading the Dockerfile checks' results: %w", err)
		}
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("checking the Dockerfile of %s: %w", n.Name, err)
	}
	warnings := lintWarnings(results, n.Image.Dockerfile)
	if e := results.Error; e != nil {
		// The checks stopped before the end (a base image that cannot be
		// resolved, say): what they found so far is returned with why.
		return warnings, fmt.Errorf("the checks of %s stopped: %s", n.Name, e.Message)
	}
	return warnings, nil
}

func lintWarnings(results lint.LintResults, dockerfile string) []LintWarning {
	var out []LintWarning
	for _, w := range results.Warnings {
		lw := LintWarning{Rule: w.RuleName, Detail: w.Detail, URL: w.URL, File: dockerfile}
		if loc := w.Location; loc != nil && len(loc.Ranges) > 0 && loc.Ranges[0].Start != nil {
			lw.Line = int(loc.Ranges[0].Start.Line)
			lw.Column = int(loc.Ranges[0].Start.Character) + 1
		}
		out = append(out, lw)
	}
	return out
}
