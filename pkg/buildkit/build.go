package buildkit

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/forge-build/forge/pkg/plan"
)

// Options tune Build. The zero value shows no progress, solves up to
// runtime.NumCPU() nodes at a time and keeps results in the builder.
type Options struct {
	Outputs
	// Progress receives every solve's status; nil discards it.
	Progress *Progress
	// Parallel bounds how many nodes are solved at once; 0 means
	// runtime.NumCPU().
	Parallel int
	// Skip returns the result of a node whose inputs have not changed since
	// it was last built, and true to reuse it without a solve. Nil skips
	// nothing.
	Skip func(context.Context, *plan.Node) (*Result, bool)
}

// Build solves every exported node of g exactly once, each after the
// exported nodes it depends on, and returns the results keyed by node name.
// Nodes that are not exported are built inside the solves of the nodes
// that need them. The first failed solve cancels the others and its error
// is returned.
func (c *Client) Build(ctx context.Context, g *plan.Graph, opts Options) (map[string]*Result, error) {
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = runtime.NumCPU()
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(parallel)

	var mu sync.Mutex
	results := make(map[string]*Result, len(g.Nodes))
	done := make(map[*plan.Node]chan struct{})
	for _, n := range g.Exported() {
		done[n] = make(chan struct{})
	}
	// g.Nodes is in dependency order, so every node waits only for nodes
	// started before it and the limit cannot starve a dependency.
	for _, n := range g.Exported() {
		eg.Go(func() (err error) {
			defer func() {
				// A panic in one solve, forge's or a library's, fails
				// the build with its trace instead of killing the
				// process mid-write.
				if p := recover(); p != nil {
					err = fmt.Errorf("building image %s: internal error: %v\n%s",
						n.Name, p, debug.Stack())
				}
			}()
			if err := waitFor(ctx, n.Deps, done); err != nil {
				return err
			}
			res, err := c.solveOrSkip(ctx, n, opts)
			if err != nil {
				return err
			}
			mu.Lock()
			results[n.Name] = res
			mu.Unlock()
			close(done[n])
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// waitFor waits until every node of deps that is built on its own is done,
// and those the others need: a node built inside a dependent's solve may
// itself use an exported image by its tags.
func waitFor(ctx context.Context, deps []*plan.Node, done map[*plan.Node]chan struct{}) error {
	for _, d := range deps {
		ch, ok := done[d]
		if !ok {
			if err := waitFor(ctx, d.Deps, done); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

func (c *Client) solveOrSkip(ctx context.Context, n *plan.Node, opts Options) (*Result, error) {
	if opts.Skip != nil {
		if res, ok := opts.Skip(ctx, n); ok {
			res.Node, res.Skipped = n, true
			return res, nil
		}
	}
	return c.solveShared(ctx, n, opts)
}

// solveShared runs n's solve, sharing it with any identical solve already
// running on this client: same inputs, same tags, same destinations.
// Solves that write files or load images are never shared.
func (c *Client) solveShared(ctx context.Context, n *plan.Node, opts Options) (*Result, error) {
	if opts.Load != nil || opts.Files != nil {
		return c.Solve(ctx, n, opts.Outputs, opts.Progress.Channel())
	}
	key := fmt.Sprintf("%s %q push=%t from=%v to=%v provenance=%s", n.Key, n.Image.Tags,
		opts.Push, opts.CacheFrom, opts.CacheTo, opts.Provenance)
	res, err, _ := c.solves.Do(key, func() (any, error) {
		return c.Solve(ctx, n, opts.Outputs, opts.Progress.Channel())
	})
	if err != nil {
		return nil, err
	}
	shared := *res.(*Result)
	shared.Node = n
	return &shared, nil
}
