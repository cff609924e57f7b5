package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/check"
	"github.com/forge-build/forge/pkg/engine"
	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
	"github.com/forge-build/forge/pkg/registry"
)

// progressEnv overrides the default of --progress.
const progressEnv = "FORGE_PROGRESS"

type buildOptions struct {
	*globalOptions
	config       configOptions
	manifest     string
	progress     string
	print        bool
	push         bool
	load         string
	output       string
	cacheFrom    []string
	cacheTo      []string
	noCache      bool
	pull         bool
	parallel     int
	provenance   string
	json         bool
	metadataFile string
	noCheck      bool
	targets      []string

	stdout, stderr io.Writer
}

func newBuildCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &buildOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "build [SERVICE|IMAGE ...]",
		Short: "Build images once each and write the runtime manifest",
		Long: "Build the named services' and images' images (all of them by default), each\n" +
			"exactly once, export every image under all its tags in one export, and record\n" +
			"the result in the runtime manifest. An image whose inputs have not changed since\n" +
			"the manifest recorded it, and that is still where it was sent, is not rebuilt.\n" +
			"Results print on stdout (--json for machines), progress on stderr.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.targets = args
			return runBuild(cmd.Context(), opts)
		},
	}
	defaultProgress := os.Getenv(progressEnv)
	if defaultProgress == "" {
		defaultProgress = "auto"
	}
	f := cmd.Flags()
	opts.config.addFlags(f)
	f.BoolVar(&opts.print, "print", false, "print the plan as forge plan does and build nothing")
	f.StringVar(&opts.manifest, "manifest", "",
		"manifest path (default "+manifest.DefaultName+" next to the configuration file)")
	f.StringVar(&opts.progress, "progress", defaultProgress,
		"progress output: auto, tty, plain, rawjson or quiet; $"+progressEnv+" sets the default")
	f.BoolVar(&opts.push, "push", false, "push every tag of every image, in the same export")
	f.StringVar(&opts.load, "load", "", "load the images into podman or docker (detected when no value is given)")
	f.Lookup("load").NoOptDefVal = "auto"
	f.StringVar(&opts.output, "output", "",
		"also export to files: type=oci|docker,dest=FILE[,tar=false][,compression=gzip|zstd|estargz|uncompressed]\n"+
			"[,compression-level=N] or type=local,dest=DIR ({image} in dest is the image name)")
	f.StringArrayVar(&opts.cacheFrom, "cache-from", nil, "import build cache, as type=registry,ref=REF (repeatable)")
	f.StringArrayVar(&opts.cacheTo, "cache-to", nil, "export build cache, as type=registry,ref=REF,mode=max (repeatable)")
	f.BoolVar(&opts.noCache, "no-cache", false, "build every step again; never skip an unchanged image")
	f.BoolVar(&opts.pull, "pull", false, "check registries for newer base images; never skip an unchanged image")
	f.IntVar(&opts.parallel, "parallel", 0, "solve at most N images at once (default: the number of CPUs)")
	f.StringVar(&opts.provenance, "provenance", "", "attach a SLSA provenance attestation: min or max")
	f.BoolVar(&opts.json, "json", false, "print the results as JSON on stdout")
	f.StringVar(&opts.metadataFile, "metadata-file", "", "also write the JSON results to this file")
	f.BoolVar(&opts.noCheck, "no-check", false, "build even when forge check finds errors")
	return cmd
}

func runBuild(ctx context.Context, opts *buildOptions) error {
	if opts.noCache {
		opts.config.set = append(opts.config.set, "*.no_cache=true")
	}
	if opts.pull {
		opts.config.set = append(opts.config.set, "*.pull=true")
	}
	g, err := loadGraph(ctx, opts.file, opts.config, opts.targets, !opts.print, opts.stderr)
	if err != nil {
		return err
	}
	if opts.print {
		return printPlan(opts.stdout, g, opts.json)
	}
	if !slices.Contains(buildkit.ProgressModes, opts.progress) {
		return &usageError{fmt.Errorf("--progress %q: want one of %s", opts.progress,
			strings.Join(buildkit.ProgressModes, ", "))}
	}
	if err := checkOutputs(g, opts); err != nil {
		return err
	}
	if err := preflight(g, opts); err != nil {
		return err
	}
	outputs, err := opts.outputs(ctx)
	if err != nil {
		return err
	}
	path := opts.manifestPath(g.Config)
	prev, err := readManifest(path)
	if err != nil {
		return err
	}
	if err := sameConfig(prev, path, g.Config.Filename); err != nil {
		return err
	}
	outputs.ForgeFiles = writtenFiles(g, outputs, path, opts.metadataFile)
	checks := newSkipChecks(ctx, g, prev, outputs, opts)

	c, err := connect(ctx, opts.globalOptions, opts.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	checks.platform = c.Platform()

	results, err := solve(ctx, c, g, buildkit.Options{
		Outputs: outputs, Parallel: opts.parallel, Skip: checks.skip,
	}, opts)
	if err != nil {
		return err
	}

	// The images are built: an interrupt now still records them, so that
	// the manifest holds what the registry or engine holds, and then ends
	// the command as interrupted.
	if err := record(context.WithoutCancel(ctx), path, prev, g, results, checks, outputs, opts); err != nil {
		return err
	}
	checks.save()
	if err := report(g, results, path, opts); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted once the images were built; %s records them: %w", path, context.Cause(ctx))
	}
	return nil
}

// writtenFiles returns the files and directories this build writes: the
// manifest, the metadata file, --output destinations and local cache
// exports, each with the temporary names it is written under first. None
// of them is ever part of what an image is built from, even inside its
// context: a build would otherwise see its predecessor's output as a
// changed input, and copy it into the image.
func writtenFiles(g *plan.Graph, out buildkit.Outputs, manifestPath, metadataFile string) []string {
	files := []string{manifestPath}
	if metadataFile != "" {
		files = append(files, metadataFile)
	}
	var caches []plan.Cache
	for _, n := range g.Nodes {
		caches = append(caches, n.Image.CacheTo...)
		for _, c := range out.CacheTo {
			if dest := c.Attrs["dest"]; c.Type == "local" && dest != "" {
				files = append(files, strings.ReplaceAll(dest, "{image}", n.Name))
			}
		}
		if out.Files != nil {
			files = append(files, strings.ReplaceAll(out.Files.Dest, "{image}", n.Name))
		}
	}
	for _, c := range caches {
		if dest := c.Attrs["dest"]; c.Type == "local" && dest != "" {
			files = append(files, dest)
		}
	}
	for _, f := range slices.Clone(files) {
		files = append(files, filepath.Join(filepath.Dir(f), "."+filepath.Base(f)+".*.tmp"))
	}
	slices.Sort(files)
	return slices.Compact(files)
}

// outputs turns the output flags into buildkit.Outputs, checking them
// before anything is built.
func (o *buildOptions) outputs(ctx context.Context) (buildkit.Outputs, error) {
	out := buildkit.Outputs{Push: o.push}
	for _, spec := range o.cacheFrom {
		c, err := plan.ParseCache(spec)
		if err != nil {
			return out, &usageError{fmt.Errorf("--cache-from: %w", err)}
		}
		out.CacheFrom = append(out.CacheFrom, c)
	}
	for _, spec := range o.cacheTo {
		c, err := plan.ParseCache(spec)
		if err != nil {
			return out, &usageError{fmt.Errorf("--cache-to: %w", err)}
		}
		out.CacheTo = append(out.CacheTo, c)
	}
	switch o.provenance {
	case "", "min", "max":
		out.Provenance = o.provenance
	default:
		return out, &usageError{fmt.Errorf("--provenance %s: want min or max", o.provenance)}
	}
	if err := o.addLoad(ctx, &out); err != nil {
		return out, err
	}
	if o.output != "" {
		f, err := parseOutput(o.output)
		if err != nil {
			return out, &usageError{err}
		}
		out.Files = f
	}
	return out, nil
}

func (o *buildOptions) addLoad(ctx context.Context, out *buildkit.Outputs) error {
	if o.load == "" {
		return nil
	}
	name := o.load
	if name == "auto" {
		detected, err := engine.Detect()
		if err != nil {
			return &usageError{fmt.Errorf("--load: %w", err)}
		}
		name = detected
	} else if err := engine.Check(name); err != nil {
		return &usageError{fmt.Errorf("--load: %w", err)}
	}
	o.load = name
	out.Load = func(*plan.Node) (io.WriteCloser, error) { return engine.Load(ctx, name) }
	return nil
}

// compressions are the layer compressions an oci or docker output accepts.
var compressions = []string{"gzip", "zstd", "estargz", "uncompressed"}

// parseOutput parses type=TYPE,dest=PATH[,tar=BOOL][,compression=C][,compression-level=N].
func parseOutput(spec string) (*buildkit.FileOutput, error) {
	f := &buildkit.FileOutput{}
	// CSV, as for caches: a value holding a comma is quoted ("dest=a,b").
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return nil, fmt.Errorf("--output %s: not a comma-separated list: %w", spec, err)
	}
	for _, field := range fields {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "type":
			f.Type = v
		case "dest":
			f.Dest = v
		case "tar":
			tar, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("--output %s: tar is true or false", spec)
			}
			f.Dir = !tar
		case "compression":
			if !slices.Contains(compressions, v) {
				return nil, fmt.Errorf("--output %s: compression is %s", spec, strings.Join(compressions, ", "))
			}
			f.Compression = v
		case "compression-level":
			if level, err := strconv.Atoi(v); err != nil || level < 0 || level > 22 {
				return nil, fmt.Errorf("--output %s: compression-level is a number from 0 to 22", spec)
			}
			f.CompressionLevel = v
		default:
			return nil, fmt.Errorf("--output %s: unknown key %q (type, dest, tar, compression, compression-level)",
				spec, k)
		}
	}
	switch {
	case f.Type != "oci" && f.Type != "docker" && f.Type != "local":
		return nil, fmt.Errorf("--output %s: type is oci, docker or local", spec)
	case f.Dest == "":
		return nil, fmt.Errorf("--output %s: dest is required", spec)
	case f.Type == "local" && (f.Compression != "" || f.CompressionLevel != ""):
		return nil, fmt.Errorf("--output %s: a local output has no layers to compress", spec)
	case f.Dir && (f.Compression != "" || f.CompressionLevel != ""):
		// BuildKit indexes a layout directory with the image the build
		// pushes or loads, so the directory holds that image's layers.
		return nil, fmt.Errorf("--output %s: a directory (tar=false) holds the layers of the image "+
			"the build pushes or loads; compression applies to tarballs only", spec)
	}
	return f, nil
}

func solve(ctx context.Context, c *buildkit.Client, g *plan.Graph, bo buildkit.Options,
	opts *buildOptions) (map[string]*buildkit.Result, error) {
	out, _ := opts.stderr.(*os.File)
	if out == nil {
		out = os.Stderr
	}
	progress, err := buildkit.NewProgress(ctx, out, opts.progress)
	if err != nil {
		return nil, &usageError{err}
	}
	bo.Progress = progress
	results, buildErr := c.Build(ctx, g, bo)
	warnings, _ := progress.Wait()
	if len(warnings) > 0 {
		fmt.Fprintf(opts.stderr, "%d build warning(s); see the progress output above\n", len(warnings))
	}
	return results, buildErr
}

func (o *buildOptions) manifestPath(cfg *plan.Config) string {
	if o.manifest != "" {
		return o.manifest
	}
	return filepath.Join(cfg.Dir, manifest.DefaultName)
}

// readManifest returns the manifest at path, or a new one when there is
// none yet. A manifest forge cannot read is an error: it is not
// overwritten. So is a directory forge cannot write the manifest to:
// finding out after the images were pushed would leave them unrecorded.
func readManifest(path string) (*manifest.Manifest, error) {
	if err := unix.Access(filepath.Dir(path), unix.W_OK|unix.X_OK); err != nil {
		return nil, fmt.Errorf("cannot write the manifest %s: %s: %w", path, filepath.Dir(path), err)
	}
	m, err := manifest.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return manifest.New(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; move it away to start a new manifest", err)
	}
	return m, nil
}

// record adds the build's results to the manifest at path, keeping what it
// holds about images and services this build did not touch. prev is the
// manifest as the build started, which decided what was skipped.
func record(ctx context.Context, path string, prev *manifest.Manifest, g *plan.Graph,
	results map[string]*buildkit.Result,
	checks *skipChecks, out buildkit.Outputs, opts *buildOptions) error {
	built := make(map[string]manifest.Built, len(results))
	for name, r := range results {
		// A reused image's fingerprint is the one skip compared.
		fp, err := checks.fingerprint(ctx, name)
		if !r.Skipped {
			fp, err = checks.recorded(ctx, r.Node), nil
		}
		if err != nil {
			return err
		}
		if !r.Skipped && r.ConfigDigest == "" {
			// An export with attestations is an index, and BuildKit
			// returns no configuration digest for it: the engine or the
			// registry the image went to knows it.
			r.ConfigDigest = configDigest(ctx, r, opts)
		}
		built[name] = manifest.Built{Digest: r.Digest, ConfigDigest: r.ConfigDigest,
			Fingerprint: fp, Pushed: opts.push, Loaded: opts.load, Reused: r.Skipped, Platform: checks.platform,
			Provenance: out.Provenance, CacheFrom: out.CacheFrom, CacheTo: out.CacheTo}
	}
	if opts.push {
		// The images are pushed: not knowing their platforms' digests is
		// no reason to leave them unrecorded.
		if err := addPlatformDigests(ctx, g, built); err != nil {
			fmt.Fprintf(opts.stderr, "warning: platform digests not recorded: %v\n", err)
		}
	}
	return manifest.Update(path, func(m *manifest.Manifest) error {
		if err := sameConfig(m, path, g.Config.Filename); err != nil {
			return err
		}
		m.Config = configPath(path, g.Config.Filename)
		return m.Record(g, built)
	})
}

// configDigest asks the engine that loaded r's image, or the registry it
// was pushed to, for its configuration's digest; "" when neither knows one
// (an image of several platforms has several).
func configDigest(ctx context.Context, r *buildkit.Result, opts *buildOptions) digest.Digest {
	tags := r.Node.Image.Tags
	switch {
	case len(tags) == 0:
	case opts.load != "":
		return digest.Digest(engine.ImageID(ctx, opts.load, tags[0]))
	case opts.push:
		named, err := reference.ParseNormalizedNamed(tags[0])
		if err != nil {
			return ""
		}
		dgst, err := registry.ConfigDigest(ctx, named.Name()+"@"+r.Digest.String())
		if err != nil {
			fmt.Fprintf(opts.stderr, "warning: %s: configuration digest not recorded: %v\n",
				r.Node.Name, err)
		}
		return dgst
	}
	return ""
}

// sameConfig fails when the manifest at path records the builds of another
// configuration file: recording this one's would drop that one's records
// of images and services this one does not declare.
func sameConfig(m *manifest.Manifest, path, config string) error {
	if own := configPath(path, config); m.Config != "" && m.Config != own {
		return &usageError{fmt.Errorf("%s records the builds of %s, not %s: give this configuration "+
			"a manifest of its own with --manifest FILE, or move %s away", path, m.Config, own, path)}
	}
	return nil
}

// configPath returns the configuration file's path relative to the
// manifest's directory, as the manifest records it.
func configPath(manifestPath, config string) string {
	dir, err := filepath.Abs(filepath.Dir(manifestPath))
	if err != nil {
		return config
	}
	abs, err := filepath.Abs(config)
	if err != nil {
		return config
	}
	return plan.RelPath(dir, abs)
}

// checkOutputs refuses, before anything is built, outputs that the images
// would overwrite in turn or cannot take.
func checkOutputs(g *plan.Graph, opts *buildOptions) error {
	exported := g.Exported()
	if opts.output != "" && len(exported) > 1 && !strings.Contains(opts.output, "{image}") {
		return &usageError{errors.New("--output with several images needs {image} in dest")}
	}
	for _, spec := range opts.cacheTo {
		// An inline cache travels in each image; any other is one place.
		c, err := plan.ParseCache(spec)
		shared := err == nil && c.Type != "inline" && !strings.Contains(spec, "{image}")
		if shared && len(exported) > 1 {
			return &usageError{fmt.Errorf("--cache-to %s with several images needs {image} in its "+
				"ref, dest or scope: each image's cache would replace the one before", spec)}
		}
	}
	if opts.load == "" {
		return nil
	}
	for _, n := range exported {
		if len(n.Image.Platforms) > 1 {
			return &usageError{fmt.Errorf("--load: image %s is built for %d platforms, and an "+
				"engine loads one: pick one with --set %s.platforms=PLATFORM, or --push",
				n.Name, len(n.Image.Platforms), n.Name)}
		}
	}
	return nil
}

// preflight runs forge check's fast rules and prints what they find on
// stderr. Errors stop the build unless --no-check.
func preflight(g *plan.Graph, opts *buildOptions) error {
	findings := check.Run(g.Config, check.Options{})
	if len(findings) == 0 {
		return nil
	}
	printFindings(opts.stderr, findings)
	if check.HasErrors(findings) && !opts.noCheck {
		return &usageError{fmt.Errorf("%w; fix them, or build anyway with --no-check", errCheckFailed)}
	}
	return nil
}

// addPlatformDigests records, for each pushed multi-platform image, the
// digest of each platform's manifest as the registry holds it. It records
// what it can and returns the first error.
func addPlatformDigests(ctx context.Context, g *plan.Graph, built map[string]manifest.Built) error {
	var firstErr error
	for _, n := range g.Exported() {
		b := built[n.Name]
		if len(n.Image.Platforms) < 2 {
			continue
		}
		named, err := reference.ParseNormalizedNamed(n.Image.Tags[0])
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		platforms, err := registry.Platforms(ctx, named.Name()+"@"+b.Digest.String())
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("image %s: %w", n.Name, err))
			continue
		}
		b.PlatformDigests = map[string]string{}
		for p, d := range platforms {
			b.PlatformDigests[p] = d.String()
		}
		built[n.Name] = b
	}
	return firstErr
}
