package buildkit

import (
	"context"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/forge-build/forge/pkg/plan"
)

// Options tune Build. The zero value shows no progress and solves up to
// runtime.NumCPU() nodes at a time.
type Options struct {
	// Progress receives every solve's status; nil discards it.
	Progress *Progress
	// Parallel bounds how many nodes are solved at once; 0 means
	// runtime.NumCPU().
	Parallel int
}

// Build solves every node of g exactly once and returns the results keyed
// by node name. The first failed solve cancels the others and its error is
// returned.
func (c *Client) Build(ctx context.Context, g *plan.Graph, opts Options) (map[string]*Result, error) {
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(parallel)

	var mu sync.Mutex
	results := make(map[string]*Result, len(g.Nodes))
	for _, n := range g.Exported() {
		eg.Go(func() error {
			res, err := c.Solve(ctx, n, opts.Progress.Channel())
			if err != nil {
				return err
			}
			mu.Lock()
			results[n.Name] = res
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}
