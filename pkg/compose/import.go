package compose

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/forge-build/forge/pkg/plan"
)

// ImportOptions tune Import. The zero value is ready to use.
type ImportOptions struct {
	// ProjectName is the compose project name the files are loaded under.
	// It never appears in the output. The default is the files' own name:
	// key, else the name of the first file's directory.
	ProjectName string
	// OutputDir is the directory the forge.hcl will be written to; its
	// relative paths are relative to it. The default is the directory of
	// the first compose file.
	OutputDir string
}

// Problem is a compose key forge did not carry over, or carried over with a
// caveat.
type Problem struct {
	// File is the compose file, as given to Import, that sets the key: the
	// last one that does when several do.
	File string
	// Service is the compose service, or "" for a top-level key.
	Service string
	// Key is the compose key, dotted below the service, as in
	// build.args.RELEASE.
	Key     string
	Message string
}

// String returns the problem as "FILE: service NAME: KEY: MESSAGE", or
// "FILE: KEY: MESSAGE" for a top-level key.
func (p Problem) String() string {
	if p.Service == "" {
		return fmt.Sprintf("%s: %s: %s", p.File, p.Key, p.Message)
	}
	return fmt.Sprintf("%s: service %s: %s: %s", p.File, p.Service, p.Key, p.Message)
}

// Imported is the result of Import.
type Imported struct {
	// HCL is the formatted forge.hcl, meant for ImportOptions.OutputDir:
	// its relative paths resolve against that directory.
	HCL []byte
	// Problems are what did not carry over as is, by service and key.
	Problems []Problem
}

// Import reads the compose files at paths, later files overriding earlier
// ones as with compose -f, and returns the forge.hcl that builds their images
// and runs their services.
//
// Services whose build sections are identical share one image block. A
// service without a build section is kept when it runs an image that another
// service builds, and left out otherwise: forge runs only what it builds.
// Nothing is read from the environment or from env files: ${VAR} stays as
// written, a build arg without a value is written empty, and a runtime
// variable without a value becomes a secret_env name. Every compose key that
// is not carried over as is becomes a Problem.
//
// Import fails when no path is given or when the files are not a valid
// compose project; the error comes from compose-go.
func Import(ctx context.Context, paths []string, opts ImportOptions) (*Imported, error) {
	if len(paths) == 0 {
		return nil, errors.New("no compose file to import")
	}
	outDir := cmp.Or(opts.OutputDir, filepath.Dir(paths[0]))
	abs, err := absPaths(slices.Concat(paths, []string{outDir}))
	if err != nil {
		return nil, err
	}
	abs, out := abs[:len(paths)], abs[len(paths)]
	files, dropped, err := withoutVariableEntries(abs)
	if err != nil {
		return nil, err
	}
	project, err := loadCompose(ctx, files, filepath.Dir(abs[0]), opts)
	if err != nil {
		return nil, err
	}

	im := newImporter(project, out, readOrigins(paths, abs))
	for _, p := range dropped {
		im.report(p.Service, p.Key, "%s", p.Message)
	}
	im.plan()
	src := im.write(headerFiles(out, abs))
	slices.SortStableFunc(im.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Key, b.Key))
	})
	return &Imported{HCL: src, Problems: im.problems}, nil
}

func absPaths(paths []string) ([]string, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("importing %s: %w", p, err)
		}
		abs[i] = a
	}
	return abs, nil
}

// loadCompose loads the project as compose would, with every profile
// enabled, but reads nothing from the environment. Normalization is skipped
// because it fills build args without a value from the environment, or
// drops them.
func loadCompose(ctx context.Context, files []types.ConfigFile, dir string,
	opts ImportOptions) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: files,
		Environment: types.Mapping{},
	}
	project, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SkipInterpolation = true
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.SkipNormalization = true
		o.ResolvePaths = true
		o.Profiles = []string{"*"}
		if opts.ProjectName != "" {
			o.SetProjectName(opts.ProjectName, true)
			return
		}
		o.SetProjectName(cmp.Or(loader.NormalizeProjectName(filepath.Base(dir)), "forge"), false)
	})
	if err != nil {
		var names []string
		for _, f := range files {
			names = append(names, f.Filename)
		}
		return nil, fmt.Errorf("loading %s: %w", strings.Join(names, ", "), err)
	}
	return project, nil
}

func headerFiles(dir string, paths []string) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = plan.RelPath(dir, p)
	}
	return strings.Join(names, ", ")
}

// keyOrigins records the keys each compose file sets, so that a problem
// names the file to edit.
type keyOrigins struct {
	files []string          // as given to Import
	keys  []map[string]bool // per file: dotted paths of mapping keys
}

func readOrigins(given, abs []string) keyOrigins {
	o := keyOrigins{files: given}
	for _, path := range abs {
		keys := make(map[string]bool)
		if data, err := os.ReadFile(path); err == nil {
			dec := yaml.NewDecoder(bytes.NewReader(data))
			for {
				var doc any
				if dec.Decode(&doc) != nil {
					break
				}
				collectKeys(doc, "", keys)
			}
		}
		o.keys = append(o.keys, keys)
	}
	return o
}

func collectKeys(v any, prefix string, keys map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok || strings.Count(prefix, ".") > 5 {
		return
	}
	for k, e := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		keys[path] = true
		collectKeys(e, path, keys)
	}
}

// file returns the last file that sets the key of the service, else the
// last that sets its closest parent, else the first file.
func (o keyOrigins) file(service, key string) string {
	parts := strings.Split(key, ".")
	if service != "" {
		parts = append([]string{"services", service}, parts...)
	}
	for n := len(parts); n > 0; n-- {
		path := strings.Join(parts[:n], ".")
		for i := len(o.keys) - 1; i >= 0; i-- {
			if o.keys[i][path] {
				return o.files[i]
			}
		}
	}
	return o.files[0]
}
