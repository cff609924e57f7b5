package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/builder"
	"github.com/forge-build/forge/pkg/buildkit"
)

// hostEnv is BuildKit's own variable for a daemon address.
const hostEnv = "BUILDKIT_HOST"

func newBuilderCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builder",
		Short: "Manage forge's local BuildKit daemon",
		Long: "forge runs its own buildkitd when neither --builder nor $BUILDKIT_HOST names\n" +
			"one. forge build starts it on demand; it keeps running, with its cache, until\n" +
			"stopped. Its files live in $XDG_STATE_HOME/forge/builder (default\n" +
			"~/.local/state/forge/builder), its socket in $XDG_RUNTIME_DIR/forge.",
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "start",
			Short: "Start the local builder and wait until it answers",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runBuilderStart(cmd.Context(), g, stdout)
			},
		},
		&cobra.Command{
			Use:   "stop",
			Short: "Stop the local builder",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runBuilderStop(cmd.Context(), g, stdout)
			},
		},
		&cobra.Command{
			Use:   "status",
			Short: "Show which builder forge uses and whether it answers",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runBuilderStatus(cmd.Context(), g, stdout)
			},
		},
	)
	return cmd
}

func localBuilder(g *globalOptions) (*builder.Local, error) {
	if g.builder != "" {
		return nil, &usageError{errors.New("--builder names another daemon; " +
			"start and stop manage forge's local builder only")}
	}
	paths, err := builder.DefaultPaths()
	if err != nil {
		return nil, err
	}
	return &builder.Local{Paths: paths}, nil
}

func runBuilderStart(ctx context.Context, g *globalOptions, stdout io.Writer) error {
	local, err := localBuilder(g)
	if err != nil {
		return err
	}
	st, err := local.Start(ctx)
	if err != nil {
		return &builderError{fmt.Errorf("starting the local builder: %w", err)}
	}
	fmt.Fprintf(stdout, "running\t%s\tpid %d\n", st.Addr, st.PID)
	return nil
}

func runBuilderStop(ctx context.Context, g *globalOptions, stdout io.Writer) error {
	local, err := localBuilder(g)
	if err != nil {
		return err
	}
	stopped, err := local.Stop(ctx)
	if err != nil {
		return err
	}
	if stopped {
		fmt.Fprintln(stdout, "stopped")
	} else {
		fmt.Fprintln(stdout, "not running")
	}
	return nil
}

func runBuilderStatus(ctx context.Context, g *globalOptions, stdout io.Writer) error {
	if addr, source := remoteAddr(g); addr != "" {
		c, err := buildkit.Connect(ctx, addr, g.tls)
		if err != nil {
			fmt.Fprintf(stdout, "unreachable\t%s\t(from %s)\n", addr, source)
			return &builderError{err}
		}
		c.Close()
		fmt.Fprintf(stdout, "running\t%s\t(from %s)\n", addr, source)
		return nil
	}
	local, err := localBuilder(g)
	if err != nil {
		return err
	}
	st := local.Status(ctx)
	if !st.Running {
		fmt.Fprintf(stdout, "stopped\t%s\t(local builder; log %s)\n", st.Addr, local.Paths.LogFile)
		return nil
	}
	fmt.Fprintf(stdout, "running\t%s\tpid %d\t(local builder; log %s)\n", st.Addr, st.PID, local.Paths.LogFile)
	return nil
}

// remoteAddr returns the daemon address the user configured and where it
// came from, or "" when forge should use its local builder.
func remoteAddr(g *globalOptions) (addr, source string) {
	if g.builder != "" {
		return g.builder, "--builder"
	}
	if env := os.Getenv(hostEnv); env != "" {
		return env, "$" + hostEnv
	}
	return "", ""
}

// connect returns a client of the configured daemon, starting forge's local
// builder when none is configured and it is not running.
func connect(ctx context.Context, g *globalOptions, stderr io.Writer) (*buildkit.Client, error) {
	addr, source := remoteAddr(g)
	hint := "check the address given by " + source
	if addr == "" {
		local, err := localBuilder(g)
		if err != nil {
			return nil, err
		}
		if addr, err = startLocal(ctx, local, stderr); err != nil {
			return nil, err
		}
		hint = "see forge builder status and " + local.Paths.LogFile
	}
	c, err := buildkit.Connect(ctx, addr, g.tls)
	var unreachable *buildkit.UnreachableError
	switch {
	case err == nil:
		return c, nil
	case ctx.Err() != nil:
		return nil, err
	case errors.As(err, &unreachable):
		return nil, &builderError{fmt.Errorf("%w\nhint: %s", err, hint)}
	default:
		return nil, &usageError{err}
	}
}

func startLocal(ctx context.Context, local *builder.Local, stderr io.Writer) (string, error) {
	if st := local.Status(ctx); st.Running {
		return st.Addr, nil
	}
	fmt.Fprintf(stderr, "starting forge's local builder (log: %s)\n", local.Paths.LogFile)
	st, err := local.Start(ctx)
	if err != nil {
		return "", &builderError{fmt.Errorf("starting the local builder: %w", err)}
	}
	return st.Addr, nil
}
