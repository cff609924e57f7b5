package compose

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/forge-build/forge/pkg/manifest"
)

// TasksProfile is the compose profile Export puts tasks under, so that
// `compose up` starts only the services and a task runs when named.
const TasksProfile = "tasks"

// ExportOptions tune Export.
type ExportOptions struct {
	// Name is the compose project name; empty leaves it to the runtime.
	Name string
	// ProjectDir is the directory the manifest's paths are relative to:
	// the directory holding forge.hcl.
	ProjectDir string
	// OutputDir is the directory the compose file will be written to;
	// relative paths in the file are rewritten to be relative to it.
	OutputDir string
}

// file is the compose file Export writes. It uses the short syntax of
// every key, which every compose implementation reads.
type file struct {
	Name     string              `yaml:"name,omitempty"`
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]struct{} `yaml:"volumes,omitempty"`
}

type service struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command,omitempty"`
	Entrypoint  []string          `yaml:"entrypoint,omitempty"`
	WorkingDir  string            `yaml:"working_dir,omitempty"`
	User        string            `yaml:"user,omitempty"`
	Environment map[string]string `yaml:"environment,omitempty"`
	EnvFile     []string          `yaml:"env_file,omitempty"`
	Ports       []string          `yaml:"ports,omitempty"`
	Volumes     []string          `yaml:"volumes,omitempty"`
	DependsOn   []string          `yaml:"depends_on,omitempty"`
	Profiles    []string          `yaml:"profiles,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Restart     string            `yaml:"restart,omitempty"`
}

// Export returns a compose file that runs exactly what m records: every
// service's image pinned by digest and no build section, runtime env as
// values, secret env as required interpolations whose values never appear,
// bind mounts with their SELinux labels, and tasks as services under the
// profile TasksProfile. The result is checked by loading it with
// compose-go; an error means it would not load.
func Export(ctx context.Context, m *manifest.Manifest, opts ExportOptions) ([]byte, error) {
	var err error
	if opts.ProjectDir, err = filepath.Abs(opts.ProjectDir); err != nil {
		return nil, err
	}
	if opts.OutputDir, err = filepath.Abs(opts.OutputDir); err != nil {
		return nil, err
	}
	if err := runnable(m); err != nil {
		return nil, err
	}
	f := &file{Name: opts.Name, Services: map[string]*service{}}
	for name, svc := range m.Services {
		f.Services[name] = exportService(svc, f, opts, m)
	}
	for name, task := range m.Tasks {
		if f.Services[name] != nil {
			return nil, fmt.Errorf("task %s has the name of a service; compose needs them distinct", name)
		}
		f.Services[name] = exportTask(task, f, opts)
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if err := check(ctx, data, opts.OutputDir); err != nil {
		return nil, fmt.Errorf("the compose file forge wrote does not load: %w", err)
	}
	return data, nil
}

const header = "# Written by forge compose from the runtime manifest: every image is the one forge built,\n" +
	"# pinned by digest. Regenerate it after each build rather than editing it.\n"

func exportService(svc *manifest.Service, f *file, opts ExportOptions, m *manifest.Manifest) *service {
	out := &service{
		Image:       literal(svc.Image),
		Command:     literals(svc.Command),
		Entrypoint:  literals(svc.Entrypoint),
		WorkingDir:  literal(svc.WorkingDir),
		User:        literal(svc.User),
		Environment: environment(svc.Env, svc.SecretEnv),
		Ports:       literals(svc.Ports),
	}
	for _, p := range svc.EnvFiles {
		out.EnvFile = append(out.EnvFile, literal(rebase(p, opts)))
	}
	for _, v := range svc.Volumes {
		out.Volumes = append(out.Volumes, literal(exportVolume(v, f, opts)))
	}
	out.DependsOn = svc.DependsOn
	return out
}

// runnable checks that m describes a project a runtime can start as a
// whole: every service's dependencies are recorded, and every image was
// pushed or loaded, since a digest nothing holds cannot be run.
func runnable(m *manifest.Manifest) error {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(m.Services)) {
		svc := m.Services[name]
		for _, dep := range svc.DependsOn {
			if m.Services[dep] == nil {
				problems = append(problems, fmt.Sprintf("service %s depends on %s, which the "+
					"manifest does not record: build it too (forge build %s)", name, dep, dep))
			}
		}
		problems = append(problems, unplaced("service", name, svc.Artifact, m)...)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Tasks)) {
		problems = append(problems, unplaced("task", name, m.Tasks[name].Artifact, m)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the manifest does not describe a project compose can run: %s",
			strings.Join(problems, "; "))
	}
	return nil
}

// unplaced reports the image of a service or task when no registry or
// engine holds it.
func unplaced(kind, name, artifact string, m *manifest.Manifest) []string {
	art := m.Artifacts[artifact]
	switch {
	case art == nil:
		return []string{fmt.Sprintf("%s %s runs image %s, which the manifest does not record",
			kind, name, artifact)}
	case !art.Pushed && art.Loaded == "":
		return []string{fmt.Sprintf("%s %s runs image %s, which was neither pushed nor loaded: "+
			"build it with --push or --load", kind, name, artifact)}
	}
	return nil
}

func exportTask(task *manifest.Task, f *file, opts ExportOptions) *service {
	var vols []string
	for _, v := range task.Volumes {
		vols = append(vols, literal(exportVolume(v, f, opts)))
	}
	return &service{
		Volumes:     vols,
		Image:       literal(task.Image),
		Command:     literals(task.Command),
		Environment: environment(task.Env, task.SecretEnv),
		Profiles:    []string{TasksProfile},
		Labels:      map[string]string{"dev.forge.task.when": task.When},
		Restart:     "no",
	}
}

// environment merges runtime values with required secret variables, which
// the runtime must take from its own environment: compose stops with the
// message when one is missing.
func environment(env map[string]string, secret []string) map[string]string {
	if len(env) == 0 && len(secret) == 0 {
		return nil
	}
	out := make(map[string]string, len(env)+len(secret))
	for k, v := range env {
		out[k] = literal(v)
	}
	for _, name := range secret {
		out[name] = fmt.Sprintf("${%s:?%s must be set in the environment}", name, name)
	}
	return out
}

// literal escapes s so that compose reads it as written: a $ is not
// interpolation. Every string Export writes passes through it, except the
// interpolations it means, of secret variables.
func literal(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func literals(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = literal(s)
	}
	return out
}

// exportVolume rewrites a bind mount's source for the compose file's
// directory and declares named volumes.
func exportVolume(spec string, f *file, opts ExportOptions) string {
	source, rest, _ := strings.Cut(spec, ":")
	if strings.HasPrefix(source, ".") || strings.HasPrefix(source, "/") {
		return rebase(source, opts) + ":" + rest
	}
	if f.Volumes == nil {
		f.Volumes = map[string]struct{}{}
	}
	f.Volumes[source] = struct{}{}
	return spec
}

// rebase rewrites a path relative to the project directory into one
// relative to the compose file's directory.
func rebase(p string, opts ExportOptions) string {
	if filepath.IsAbs(p) {
		return p
	}
	abs := filepath.Join(opts.ProjectDir, p)
	rel, err := filepath.Rel(opts.OutputDir, abs)
	if err != nil {
		return abs
	}
	if rel == "." || strings.HasPrefix(rel, "..") {
		return rel
	}
	return "./" + filepath.ToSlash(rel)
}

// check loads data as compose-go would, with every profile, without
// interpolating (secret variables are not set here) or reading env files.
func check(ctx context.Context, data []byte, dir string) error {
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml"), Content: data}},
		Environment: types.Mapping{},
	}
	_, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SkipInterpolation = true
		o.SkipResolveEnvironment = true
		o.Profiles = []string{"*"}
		o.SetProjectName("forge-check", false)
	})
	return err
}

// ServiceNames returns the names of the services and tasks a compose file
// from m holds, sorted, for messages.
func ServiceNames(m *manifest.Manifest) []string {
	var names []string
	for name := range m.Services {
		names = append(names, name)
	}
	for name := range m.Tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
