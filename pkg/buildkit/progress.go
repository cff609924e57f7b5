package buildkit

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
)

// ProgressModes lists the accepted progress modes, "auto" first.
var ProgressModes = []string{
	string(progressui.AutoMode),
	string(progressui.TtyMode),
	string(progressui.PlainMode),
	string(progressui.RawJSONMode),
	string(progressui.QuietMode),
}

// Progress shows the status of any number of concurrent solves in one
// BuildKit progress display.
type Progress struct {
	ch       chan *client.SolveStatus
	forwards sync.WaitGroup
	done     chan struct{}
	warnings []client.VertexWarning
	err      error
}

// NewProgress starts a display on out in mode, one of ProgressModes ("" is
// auto). Auto draws the interactive display when out is a terminal and plain
// text otherwise; tty fails when out is not a terminal.
func NewProgress(ctx context.Context, out *os.File, mode string) (*Progress, error) {
	disp, err := newDisplay(out, progressui.DisplayMode(mode))
	if err != nil {
		return nil, err
	}
	p := &Progress{ch: make(chan *client.SolveStatus), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.warnings, p.err = disp.UpdateFrom(context.WithoutCancel(ctx), p.ch)
	}()
	return p, nil
}

func newDisplay(out *os.File, mode progressui.DisplayMode) (progressui.Display, error) {
	if mode != progressui.DefaultMode && !slices.Contains(ProgressModes, string(mode)) {
		return progressui.Display{}, fmt.Errorf("unknown progress mode %q (want one of %s)",
			mode, strings.Join(ProgressModes, ", "))
	}
	disp, err := progressui.NewDisplay(out, mode)
	if err != nil {
		return progressui.Display{}, fmt.Errorf("progress mode %s: %w", mode, err)
	}
	return disp, nil
}

// Channel returns a channel for one solve's status updates. The solve closes
// it when it ends, as BuildKit's Solve does. A nil Progress returns nil,
// which BuildKit takes as "no progress wanted".
func (p *Progress) Channel() chan *client.SolveStatus {
	if p == nil {
		return nil
	}
	ch := make(chan *client.SolveStatus)
	p.forwards.Add(1)
	go func() {
		defer p.forwards.Done()
		for s := range ch {
			p.ch <- s
		}
	}()
	return ch
}

// Wait waits for every channel returned by Channel to be closed, then for
// the display to draw its last state. It returns the warnings the solves
// reported.
func (p *Progress) Wait() ([]client.VertexWarning, error) {
	p.forwards.Wait()
	close(p.ch)
	<-p.done
	return p.warnings, p.err
}
