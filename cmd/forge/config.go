package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/forge-build/forge/internal/gitinfo"
	"github.com/forge-build/forge/pkg/plan"
)

// configOptions are the flags that shape how forge.hcl is read.
type configOptions struct {
	vars      []string
	varFiles  []string
	set       []string
	gitLabels bool
}

func (o *configOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.vars, "var", nil, "set a variable: NAME=VALUE (repeatable)")
	fs.StringArrayVar(&o.varFiles, "var-file", nil, "read variables from an HCL or JSON file (repeatable)")
	fs.StringArrayVar(&o.set, "set", nil, "override an image attribute: IMAGE.ATTR[.KEY]=VALUE, * for every image (repeatable)")
	fs.BoolVar(&o.gitLabels, "git-labels", false,
		"label every image with its git revision, source and creation time (the commit's, or $"+epochEnv+")")
}

// epochEnv is the reproducible-builds variable: when set, every image's
// timestamps are this Unix time.
const epochEnv = "SOURCE_DATE_EPOCH"

// overrides returns the --set overrides the flags imply: SOURCE_DATE_EPOCH
// as a build argument of every image when set, and the OCI source labels
// with --git-labels.
func (o *configOptions) overrides(ctx context.Context, file string) ([]string, error) {
	epoch := os.Getenv(epochEnv)
	if _, err := strconv.ParseInt(epoch, 10, 64); epoch != "" && err != nil {
		return nil, &usageError{fmt.Errorf("$%s is %q, not a number of seconds since 1970", epochEnv, epoch)}
	}
	var set []string
	if o.gitLabels {
		info, err := gitinfo.Read(ctx, filepath.Dir(file))
		if err != nil {
			return nil, &usageError{fmt.Errorf("--git-labels: %w", err)}
		}
		created := info.CommitTime
		if epoch == "" {
			epoch = strconv.FormatInt(created.Unix(), 10)
		} else {
			secs, _ := strconv.ParseInt(epoch, 10, 64)
			created = time.Unix(secs, 0).UTC()
		}
		set = append(set,
			"*.labels.org.opencontainers.image.revision="+info.Revision,
			"*.labels.org.opencontainers.image.created="+created.Format(time.RFC3339))
		if info.Source != "" {
			set = append(set, "*.labels.org.opencontainers.image.source="+info.Source)
		}
	}
	if epoch != "" {
		set = append(set, "*.args."+epochEnv+"="+epoch)
	}
	return append(set, o.set...), nil
}

// loadGraph loads and plans file, printing its diagnostics, warnings
// included, to stderr. An invalid configuration yields a usage error.
// checked says that the command runs forge check next, which reports some
// of the planner's warnings again, with more detail: those are left out.
func loadGraph(ctx context.Context, file string, opts configOptions, targets []string, checked bool,
	stderr io.Writer) (*plan.Graph, error) {
	cfg, files, err := loadConfig(ctx, file, opts, checked, stderr)
	if err != nil {
		return nil, err
	}
	g, err := plan.New(cfg, targets...)
	var planDiags hcl.Diagnostics
	if errors.As(err, &planDiags) {
		printDiagnostics(stderr, files, planDiags)
		return nil, &usageError{fmt.Errorf("%w: %s is not valid", errReported, file)}
	}
	if err != nil {
		return nil, &usageError{err}
	}
	return g, nil
}

// loadConfig loads file as loadGraph does, without planning it. With
// SOURCE_DATE_EPOCH set, timestamp() returns that time, so that a
// configuration using it reads the same in every run.
func loadConfig(ctx context.Context, file string, opts configOptions, checked bool,
	stderr io.Writer) (*plan.Config, map[string]*hcl.File, error) {
	set, err := opts.overrides(ctx, file)
	if err != nil {
		return nil, nil, err
	}
	var now time.Time
	if secs, err := strconv.ParseInt(os.Getenv(epochEnv), 10, 64); err == nil {
		now = time.Unix(secs, 0).UTC()
	}
	parser := plan.NewParser()
	cfg, diags := parser.Load(file, plan.LoadOptions{
		Values: plan.Values{Vars: opts.vars, Files: opts.varFiles, Environ: os.Environ()},
		Set:    set,
		Now:    now,
	})
	if checked {
		diags = slices.DeleteFunc(diags, plan.SecretArgWarning)
	}
	printDiagnostics(stderr, parser.Files(), diags)
	if diags.HasErrors() {
		return nil, nil, &usageError{fmt.Errorf("%w: %s is not valid", errReported, file)}
	}
	return cfg, parser.Files(), nil
}
