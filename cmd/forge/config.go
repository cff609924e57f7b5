package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/forge-build/forge/pkg/plan"
)

// configOptions are the flags that shape how forge.hcl is read.
type configOptions struct {
	vars     []string
	varFiles []string
	set      []string
}

func (o *configOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.vars, "var", nil, "set a variable: NAME=VALUE (repeatable)")
	fs.StringArrayVar(&o.varFiles, "var-file", nil, "read variables from an HCL or JSON file (repeatable)")
	fs.StringArrayVar(&o.set, "set", nil, "override an image attribute: IMAGE.ATTR[.KEY]=VALUE, * for every image (repeatable)")
}

// loadGraph loads the configuration and plans the build, printing any
// diagnostics, warnings included. An invalid configuration yields a usage
// error.
func loadGraph(file string, opts configOptions, targets []string, stderr io.Writer) (*plan.Graph, error) {
	parser := plan.NewParser()
	cfg, diags := parser.Load(file, plan.LoadOptions{
		Values: plan.Values{Vars: opts.vars, Files: opts.varFiles, Environ: os.Environ()},
		Set:    opts.set,
	})
	printDiagnostics(stderr, parser.Files(), diags)
	if diags.HasErrors() {
		return nil, &usageError{fmt.Errorf("%w: %s is not valid", errReported, file)}
	}
	g, err := plan.New(cfg, targets...)
	var planDiags hcl.Diagnostics
	if errors.As(err, &planDiags) {
		printDiagnostics(stderr, parser.Files(), planDiags)
		return nil, &usageError{fmt.Errorf("%w: %s is not valid", errReported, file)}
	}
	if err != nil {
		return nil, &usageError{err}
	}
	return g, nil
}
