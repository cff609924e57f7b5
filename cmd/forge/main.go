// Command forge builds the images a forge.hcl declares, each exactly once,
// with BuildKit, and writes the runtime manifest that pins every service to
// the image built for it.
//
// Exit codes:
//
//	0    success
//	1    a build or another operation failed
//	2    bad usage or an invalid configuration
//	3    no BuildKit daemon could be reached or started
//	130  interrupted by SIGINT or SIGTERM
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/buildkit"
)

// Exit codes; see the package documentation.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitBuilder     = 3
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := interruptContext()
	defer stop()

	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(ctx, err)
	if !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "forge: %v\n", err)
	}
	return code
}

// errReported marks an error whose details were already printed, such as
// configuration diagnostics.
var errReported = errors.New("reported")

// usageError is a problem with the command line itself.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// builderError is a failure to start or reach a BuildKit daemon.
type builderError struct{ err error }

func (e *builderError) Error() string { return e.err.Error() }
func (e *builderError) Unwrap() error { return e.err }

// exitCode maps an error to the documented exit code.
func exitCode(ctx context.Context, err error) int {
	var (
		usage       *usageError
		builder     *builderError
		unreachable *buildkit.UnreachableError
	)
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &builder), errors.As(err, &unreachable):
		return exitBuilder
	default:
		return exitFailure
	}
}

// interruptContext returns a context cancelled by the first SIGINT or
// SIGTERM, so that running solves are cancelled and nothing is left
// half-written. A second signal exits at once.
func interruptContext() (context.Context, context.CancelFunc) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	ctx, stop := watchSignals(sigs, os.Exit)
	return ctx, func() {
		signal.Stop(sigs)
		close(sigs)
		stop()
	}
}

// watchSignals cancels the returned context at the first signal on sigs
// and calls exit(exitInterrupted) at the second. It stops watching when
// sigs is closed.
func watchSignals(sigs <-chan os.Signal, exit func(int)) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		sig, ok := <-sigs
		if !ok {
			return
		}
		cancel(fmt.Errorf("interrupted by %v", sig))
		if _, ok := <-sigs; ok {
			exit(exitInterrupted)
		}
	}()
	return ctx, func() { cancel(nil) }
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "forge",
		Short: "Build each image of a forge.hcl once with BuildKit and pin its services to it",
		Long: "forge reads forge.hcl, builds every image it declares exactly once with BuildKit,\n" +
			"however many services use it, and writes a runtime manifest that pins each\n" +
			"service to the digest built for it.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})
	g := &globalOptions{}
	root.PersistentFlags().StringVarP(&g.file, "file", "f", "forge.hcl", "configuration file")
	pf := root.PersistentFlags()
	pf.StringVar(&g.builder, "builder", "",
		"BuildKit address: unix://PATH, tcp://HOST:PORT, ... (default $BUILDKIT_HOST, else forge's local builder)")
	pf.StringVar(&g.tls.CACert, "tlscacert", "", "CA certificate that verifies the builder (turns TLS on)")
	pf.StringVar(&g.tls.Cert, "tlscert", "", "client certificate, for a builder that verifies clients")
	pf.StringVar(&g.tls.Key, "tlskey", "", "client key, with --tlscert")
	pf.StringVar(&g.tls.ServerName, "tls-server-name", "", "name in the builder's certificate (default: the address's host)")

	root.AddCommand(
		newBuildCmd(g, stdout, stderr),
		newPlanCmd(g, stdout, stderr),
		newCheckCmd(g, stdout, stderr),
		newReleaseCmd(g, stdout, stderr),
		newComposeCmd(g, stdout, stderr),
		newImportCmd(g, stdout, stderr),
		newManifestCmd(g, stdout, stderr),
		newBuilderCmd(g, stdout, stderr),
	)
	argsAreUsage(root)
	return root
}

// argsAreUsage makes wrong arguments a usage error throughout cmd's tree:
// an unknown command, or arguments a command does not take. A command
// grouping others prints its help when called alone.
func argsAreUsage(cmd *cobra.Command) {
	switch validate := cmd.Args; {
	case cmd.HasSubCommands() && !cmd.Runnable():
		cmd.Args = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			err := fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
			if c.SuggestionsMinimumDistance <= 0 {
				c.SuggestionsMinimumDistance = 2
			}
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
			}
			return &usageError{err}
		}
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	case validate != nil:
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := validate(c, args); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsage(sub)
	}
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	file    string
	builder string
	tls     buildkit.TLS
}
