package compose

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
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
	project, err := loadCompose(ctx, abs, filepath.Dir(abs[0]), opts)
	if err != nil {
		return nil, err
	}

	im := newImporter(project, out, readOrigins(paths, abs))
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
func loadCompose(ctx context.Context, paths []string, dir string,
	opts ImportOptions) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: types.ToConfigFiles(paths),
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
		return nil, fmt.Errorf("loading %s: %w", strings.Join(paths, ", "), err)
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

// importer converts one compose project.
type importer struct {
	project  *types.Project
	dir      string // where forge.hcl goes
	home     string
	origins  keyOrigins
	services []types.ServiceConfig // by name
	groups   []*buildGroup
	runs     map[string]*buildGroup // compose service → the image it runs
	blocks   map[string]string      // kept compose service → service block name
	external []types.ServiceConfig  // services left out
	problems []Problem
}

// buildGroup is one image block: the identical build sections of several
// services.
type buildGroup struct {
	name     string
	build    *types.BuildConfig
	builders []string // services with this build section, by name
	tags     []string
}

func newImporter(project *types.Project, dir string, origins keyOrigins) *importer {
	home, _ := os.UserHomeDir()
	im := &importer{
		project: project,
		dir:     dir,
		home:    home,
		origins: origins,
		runs:    make(map[string]*buildGroup),
		blocks:  make(map[string]string),
	}
	for _, name := range slices.Sorted(maps.Keys(project.Services)) {
		im.services = append(im.services, project.Services[name])
	}
	return im
}

func (im *importer) report(service, key, format string, args ...any) {
	im.problems = append(im.problems, Problem{
		File:    im.origins.file(service, key),
		Service: service,
		Key:     key,
		Message: fmt.Sprintf(format, args...),
	})
}

// plan decides the image blocks, who runs them and the block names.
func (im *importer) plan() {
	im.groupBuilds()
	taken := make(map[string]bool)
	for _, g := range im.groups {
		g.name = uniqueName(im.groupBaseName(g), taken)
	}
	byRef := im.assignTags()
	im.attachRunners(byRef)
	im.orderGroups()
	im.nameServices()
	im.reportTopLevel()
}

func (im *importer) groupBuilds() {
	byKey := make(map[string]*buildGroup)
	for _, svc := range im.services {
		if svc.Build == nil {
			continue
		}
		key := im.buildKey(svc.Build)
		g := byKey[key]
		if g == nil {
			g = &buildGroup{build: svc.Build}
			byKey[key] = g
			im.groups = append(im.groups, g)
		}
		g.builders = append(g.builders, svc.Name)
		im.runs[svc.Name] = g
	}
}

// buildKey identifies the build inputs of a build section: the sections
// with equal keys build the same image.
func (im *importer) buildKey(b *types.BuildConfig) string {
	var secrets, ssh []string
	for _, s := range b.Secrets {
		secrets = append(secrets, s.Source+">"+s.Target)
	}
	for _, k := range b.SSH {
		ssh = append(ssh, k.ID+"="+k.Path)
	}
	key := struct {
		Context, Dockerfile, Inline, Target, Network string
		Args                                         map[string]*string
		Labels, Contexts                             map[string]string
		CacheFrom, CacheTo, Platforms, Secrets, SSH  []string
		NoCache, Pull                                bool
	}{
		im.contextDir(b), dockerfileOf(b), b.DockerfileInline, b.Target, cmp.Or(b.Network, "default"),
		b.Args, b.Labels, b.AdditionalContexts,
		b.CacheFrom, b.CacheTo, b.Platforms, secrets, ssh,
		b.NoCache, b.Pull,
	}
	data, _ := json.Marshal(key) // strings, maps and slices of them always encode
	return string(data)
}

// contextDir returns the build context as an absolute path, or as written
// when it is remote.
func (im *importer) contextDir(b *types.BuildConfig) string {
	switch {
	case b.Context == "":
		return im.project.WorkingDir
	case isRemote(b.Context) || filepath.IsAbs(b.Context):
		return b.Context
	}
	return filepath.Join(im.project.WorkingDir, b.Context)
}

func dockerfileOf(b *types.BuildConfig) string {
	if b.DockerfileInline != "" {
		return ""
	}
	return cmp.Or(b.Dockerfile, "Dockerfile")
}

func isRemote(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@") ||
		strings.HasPrefix(s, "github.com/")
}

// groupBaseName is the name of the image of the first builder that sets
// image:, else the first builder's name.
func (im *importer) groupBaseName(g *buildGroup) string {
	for _, name := range g.builders {
		if ref := im.project.Services[name].Image; ref != "" {
			return sanitize(refName(ref), sanitize(name, "app"))
		}
	}
	return sanitize(g.builders[0], "app")
}

// refName returns the last path component of an image reference, without
// tag or digest: app for registry.example.com/team/app:1.2.
func refName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	ref = ref[strings.LastIndex(ref, "/")+1:]
	name, _, _ := strings.Cut(ref, ":")
	return name
}

// sanitize makes s a block name: letters, digits, underscores and dashes,
// starting with a letter. It returns fallback when nothing of s is left.
func sanitize(s, fallback string) string {
	s = strings.Map(func(r rune) rune {
		if isLetter(r) || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
	s = strings.TrimRight(strings.TrimLeftFunc(s, func(r rune) bool { return !isLetter(r) }), "_")
	return cmp.Or(s, fallback)
}

func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

func uniqueName(base string, taken map[string]bool) string {
	name := base
	for i := 2; taken[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	taken[name] = true
	return name
}

// assignTags gives each group the image: and build.tags references of its
// builders that are valid tags no earlier group claims, and returns the
// group building each image: reference.
func (im *importer) assignTags() map[string]*buildGroup {
	byRef := make(map[string]*buildGroup)
	claimed := make(map[string]string)
	for _, g := range im.groups {
		for _, name := range g.builders {
			svc := im.project.Services[name]
			if svc.Image != "" && byRef[svc.Image] == nil {
				byRef[svc.Image] = g
			}
			im.addTag(g, name, "image", svc.Image, claimed)
			for _, tag := range svc.Build.Tags {
				im.addTag(g, name, "build.tags", tag, claimed)
			}
		}
	}
	return byRef
}

func (im *importer) addTag(g *buildGroup, service, key, tag string, claimed map[string]string) {
	switch other, seen := claimed[tag]; {
	case tag == "" || other == g.name:
		return
	case seen:
		im.report(service, key, "%s is also the tag of image %s, built differently; "+
			"forge exports a tag from one build only: left out of image %s", tag, other, g.name)
		return
	case hasVariable(tag):
		im.report(service, key, "%s uses compose variables, which forge does not read from the "+
			"environment: left out of the tags; write it with a variable block", tag)
		return
	}
	if _, err := reference.ParseNormalizedNamed(tag); err != nil {
		im.report(service, key, "%s is not a valid tag: left out: %v", tag, err)
		return
	}
	claimed[tag] = g.name
	g.tags = append(g.tags, tag)
}

// attachRunners decides what each service without a build section runs: the
// image another service builds under the same reference, or nothing.
func (im *importer) attachRunners(byRef map[string]*buildGroup) {
	for _, svc := range im.services {
		switch {
		case svc.Build != nil:
		case byRef[svc.Image] != nil:
			im.runs[svc.Name] = byRef[svc.Image]
		case svc.Image == "":
			im.report(svc.Name, "provider", "has neither build nor image: left out")
		default:
			im.external = append(im.external, svc)
			im.report(svc.Name, "image", "runs an external image; forge builds images and runs "+
				"only what it built: add an image block or keep this service in compose")
		}
	}
}

// orderGroups puts the groups in the order of the first service, by name,
// that runs each.
func (im *importer) orderGroups() {
	var ordered []*buildGroup
	for _, svc := range im.services {
		if g := im.runs[svc.Name]; g != nil && !slices.Contains(ordered, g) {
			ordered = append(ordered, g)
		}
	}
	im.groups = ordered
}

func (im *importer) nameServices() {
	taken := make(map[string]bool)
	for _, svc := range im.services {
		if im.runs[svc.Name] == nil {
			continue
		}
		name := uniqueName(sanitize(svc.Name, "service"), taken)
		if name != svc.Name {
			im.report(svc.Name, "name", "is not a forge block name: written as service %q", name)
		}
		im.blocks[svc.Name] = name
	}
}

// reportTopLevel reports the top-level keys that describe more than names.
func (im *importer) reportTopLevel() {
	for _, name := range slices.Sorted(maps.Keys(im.project.Jobs)) {
		im.report("", "jobs."+name, "jobs are not carried over: write it as a task block "+
			"if it runs an image forge builds")
	}
	for _, name := range slices.Sorted(maps.Keys(im.project.Volumes)) {
		if !reflect.ValueOf(im.project.Volumes[name]).IsZero() {
			im.report("", "volumes."+name, "volume settings are not carried over: "+
				"forge names the volume only")
		}
	}
}

// block is an HCL block being written: its attributes in order.
type block struct {
	kind, name string
	attrs      []attr
}

type attr struct {
	name   string
	tokens hclwrite.Tokens
}

func (b *block) add(name string, tokens hclwrite.Tokens) {
	if len(tokens) > 0 {
		b.attrs = append(b.attrs, attr{name, tokens})
	}
}

func (b *block) addString(name, value string) {
	if value != "" {
		b.add(name, hclwrite.TokensForValue(cty.StringVal(value)))
	}
}

func (b *block) addBool(name string, value bool) {
	if value {
		b.add(name, hclwrite.TokensForValue(cty.True))
	}
}

// write converts the groups and services and renders the file.
func (im *importer) write(files string) []byte {
	var images, services []block
	for _, g := range im.groups {
		images = append(images, im.imageBlock(g))
	}
	for _, svc := range im.services {
		if im.runs[svc.Name] != nil {
			services = append(services, im.serviceBlock(svc))
		}
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	appendComment(body, "Generated by forge import from "+files+"; review before use.")
	for _, svc := range im.external {
		appendComment(body, fmt.Sprintf("Not imported: service %q runs the external image %s, "+
			"which forge does not build.", svc.Name, svc.Image))
	}
	for i, b := range images {
		im.appendBlock(body, b, im.imageNotes(im.groups[i]))
	}
	for _, b := range services {
		im.appendBlock(body, b, im.serviceNotes(b.name))
	}
	return hclwrite.Format(f.Bytes())
}

func (im *importer) appendBlock(body *hclwrite.Body, b block, notes []string) {
	body.AppendNewline()
	if len(notes) > 0 {
		appendComment(body, "Not carried over as is (see the import report): "+strings.Join(notes, ", "))
	}
	blk := body.AppendNewBlock(b.kind, []string{b.name}).Body()
	for _, a := range b.attrs {
		blk.SetAttributeRaw(a.name, a.tokens)
	}
}

// imageNotes lists the build keys of the group's builders with problems.
func (im *importer) imageNotes(g *buildGroup) []string {
	var keys []string
	for _, p := range im.problems {
		if slices.Contains(g.builders, p.Service) && strings.HasPrefix(p.Key, "build.") {
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// serviceNotes lists the keys with problems of the service written as the
// block name, build keys aside.
func (im *importer) serviceNotes(blockName string) []string {
	var keys []string
	for _, p := range im.problems {
		if im.blocks[p.Service] == blockName && !strings.HasPrefix(p.Key, "build.") {
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func appendComment(body *hclwrite.Body, text string) {
	body.AppendUnstructuredTokens(hclwrite.Tokens{commentToken(text)})
}

func commentToken(text string) *hclwrite.Token {
	return &hclwrite.Token{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}
}

// convertedBuildKeys are the build keys imageBlock carries over.
var convertedBuildKeys = setOf("context", "dockerfile", "dockerfile_inline", "args", "labels",
	"tags", "platforms", "cache_from", "cache_to", "additional_contexts", "secrets", "ssh",
	"no_cache", "pull", "network", "target")

func (im *importer) imageBlock(g *buildGroup) block {
	b, first := g.build, g.builders[0]
	blk := block{kind: "image", name: g.name}
	blk.addString("context", im.contextPath(first, b))
	if b.DockerfileInline != "" {
		im.checkVariables(first, "build.dockerfile_inline", b.DockerfileInline)
		blk.add("dockerfile_inline", heredoc(b.DockerfileInline))
	} else if b.Dockerfile != "" && b.Dockerfile != "Dockerfile" {
		blk.addString("dockerfile", b.Dockerfile)
	}
	blk.addString("target", b.Target)
	blk.add("args", im.args(g))
	blk.add("labels", im.stringMap(first, "build.labels", b.Labels))
	blk.add("tags", stringList(defaultTags(g)))
	blk.add("platforms", stringList(b.Platforms))
	blk.add("cache_from", stringList(b.CacheFrom))
	blk.add("cache_to", stringList(b.CacheTo))
	blk.add("contexts", im.contexts(first, b))
	blk.add("secrets", im.buildSecrets(first, b))
	blk.add("ssh", im.ssh(b))
	blk.addBool("no_cache", b.NoCache)
	blk.addBool("pull", b.Pull)
	blk.addString("network", im.network(first, b))
	for _, name := range g.builders {
		svc := im.project.Services[name]
		im.reportUnconverted(name, "build.", reflect.ValueOf(*svc.Build), convertedBuildKeys)
	}
	return blk
}

// defaultTags returns the group's tags. Without any, forge tags the image
// NAME:latest, which is not a valid reference for every block name: such a
// group is tagged with the name in lower case, separators collapsed.
func defaultTags(g *buildGroup) []string {
	if len(g.tags) > 0 {
		return g.tags
	}
	if _, err := reference.ParseNormalizedNamed(g.name + ":latest"); err == nil {
		return nil
	}
	repo := strings.Trim(nonRepoChars.ReplaceAllString(strings.ToLower(g.name), "-"), "-")
	return []string{repo + ":latest"}
}

var nonRepoChars = regexp.MustCompile(`[^a-z0-9]+`)

func (im *importer) contextPath(service string, b *types.BuildConfig) string {
	dir := im.contextDir(b)
	if isRemote(dir) {
		im.report(service, "build.context", "%s is remote; forge builds from a local "+
			"directory: clone it and point context at the clone", dir)
		return dir
	}
	return im.path(dir, false)
}

func (im *importer) args(g *buildGroup) hclwrite.Tokens {
	first := g.builders[0]
	var entries []objectEntry
	for _, name := range slices.Sorted(maps.Keys(g.build.Args)) {
		key, value := "build.args."+name, g.build.Args[name]
		if value == nil {
			im.report(first, key, "has no value; compose takes it from the shell environment "+
				"at build time, forge never does: written as \"\"; set it in forge.hcl or with "+
				"--set %s.args.%s=VALUE%s", g.name, name, secretArgHint(name))
			entries = append(entries, objectEntry{key: name, value: stringTokens(""), comment: fmt.Sprintf(
				"%s had no value in compose, which takes it from the shell environment at build time; "+
					"set it here or with --set %s.args.%s=VALUE", name, g.name, name)})
			continue
		}
		if plan.LooksSecret(name) {
			im.report(first, key, "looks like a secret: "+secretArgAdvice)
		}
		im.checkVariables(first, key, *value)
		entries = append(entries, objectEntry{key: name, value: stringTokens(*value)})
	}
	return objectTokens(entries, false)
}

// secretArgAdvice is what a build arg that looks like a secret should be.
const secretArgAdvice = "a build argument stays in the image's history; " +
	"pass it with secrets and RUN --mount=type=secret instead"

func secretArgHint(name string) string {
	if !plan.LooksSecret(name) {
		return ""
	}
	return "; it also looks like a secret: " + secretArgAdvice
}

func (im *importer) stringMap(service, key string, m map[string]string) hclwrite.Tokens {
	var entries []objectEntry
	for _, name := range slices.Sorted(maps.Keys(m)) {
		im.checkVariables(service, key+"."+name, m[name])
		entries = append(entries, objectEntry{key: name, value: stringTokens(m[name])})
	}
	return objectTokens(entries, false)
}

// contexts converts additional_contexts. A service:NAME or target:NAME
// context becomes a reference to the image block NAME builds.
func (im *importer) contexts(service string, b *types.BuildConfig) hclwrite.Tokens {
	var entries []objectEntry
	for _, name := range slices.Sorted(maps.Keys(b.AdditionalContexts)) {
		value := b.AdditionalContexts[name]
		key := "build.additional_contexts." + name
		tokens := im.contextValue(service, key, value)
		if tokens != nil {
			entries = append(entries, objectEntry{key: name, value: tokens})
		}
	}
	return objectTokens(entries, false)
}

func (im *importer) contextValue(service, key, value string) hclwrite.Tokens {
	target, isRef := strings.CutPrefix(value, types.ServicePrefix)
	if !isRef && filepath.IsAbs(value) {
		// compose-go resolves target:NAME as if it were a relative path
		target, isRef = strings.CutPrefix(filepath.Base(value), "target:")
	}
	switch {
	case isRef && im.runs[target] == im.runs[service]:
		im.report(service, key, "%s is this image's own build: left out", value)
		return nil
	case isRef && im.project.Services[target].Build != nil:
		return traversalTokens("image", im.runs[target].name)
	case isRef:
		im.report(service, key, "%s does not name a service with a build section: left out", value)
		return nil
	case isRemote(value):
		return stringTokens(value)
	}
	return stringTokens(im.path(value, false))
}

// buildSecrets converts build secrets, whose sources are top-level secrets.
func (im *importer) buildSecrets(service string, b *types.BuildConfig) hclwrite.Tokens {
	var elems []hclwrite.Tokens
	for _, s := range b.Secrets {
		key := "build.secrets." + s.Source
		top := im.project.Secrets[s.Source]
		if s.UID != "" || s.GID != "" || s.Mode != nil {
			im.report(service, key, "uid, gid and mode are not carried over")
		}
		var source objectEntry
		switch {
		case top.Environment != "":
			source = objectEntry{key: "env", value: stringTokens(top.Environment)}
		case top.File != "":
			source = objectEntry{key: "file", value: stringTokens(im.path(top.File, true))}
		default:
			im.report(service, key, "the top-level secret has neither environment nor file, "+
				"the two sources forge reads: left out")
			continue
		}
		id := objectEntry{key: "id", value: stringTokens(cmp.Or(s.Target, s.Source))}
		elems = append(elems, objectTokens([]objectEntry{id, source}, true))
	}
	if len(elems) == 0 {
		return nil
	}
	return hclwrite.TokensForTuple(elems)
}

func (im *importer) ssh(b *types.BuildConfig) hclwrite.Tokens {
	var specs []string
	for _, k := range b.SSH {
		spec := k.ID
		if k.Path != "" {
			spec += "=" + im.path(k.Path, true)
		}
		specs = append(specs, spec)
	}
	return stringList(specs)
}

func (im *importer) network(service string, b *types.BuildConfig) string {
	switch b.Network {
	case "", "default", "none", "host":
		return b.Network
	}
	im.report(service, "build.network", "network %q is not carried over: "+
		"forge builds with the default, none or host network", b.Network)
	return ""
}

// convertedServiceKeys are the service keys serviceBlock carries over or
// reports with its own message.
var convertedServiceKeys = setOf("name", "image", "build", "command", "entrypoint", "working_dir",
	"user", "environment", "env_file", "ports", "volumes", "depends_on", "extends", "profiles")

func (im *importer) serviceBlock(svc types.ServiceConfig) block {
	b := block{kind: "service", name: im.blocks[svc.Name]}
	b.add("image", traversalTokens("image", im.runs[svc.Name].name))
	b.add("command", im.command(svc.Name, "command", svc.Command))
	b.add("entrypoint", im.command(svc.Name, "entrypoint", svc.Entrypoint))
	b.addString("working_dir", svc.WorkingDir)
	b.addString("user", svc.User)
	env, secret := im.environment(svc)
	b.add("env", env)
	b.add("secret_env", secret)
	b.add("env_file", im.envFiles(svc))
	b.add("ports", im.ports(svc))
	b.add("volumes", im.volumes(svc))
	b.add("depends_on", im.dependsOn(svc))
	im.checkVariables(svc.Name, "working_dir", svc.WorkingDir)
	im.checkVariables(svc.Name, "user", svc.User)
	if len(svc.Profiles) > 0 {
		im.report(svc.Name, "profiles", "only in profile(s) %s; forge has no profiles: "+
			"the service is always built and run", strings.Join(svc.Profiles, ", "))
	}
	im.reportUnconverted(svc.Name, "", reflect.ValueOf(svc), convertedServiceKeys)
	return b
}

func (im *importer) command(service, key string, cmd types.ShellCommand) hclwrite.Tokens {
	if cmd != nil && len(cmd) == 0 {
		im.report(service, key, "compose clears the image's %s; forge cannot: "+
			"the image's own applies", key)
	}
	for _, arg := range cmd {
		im.checkVariables(service, key, arg)
	}
	return stringList(cmd)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// environment splits the service's environment into env, the variables with
// a value, and secret_env, those compose passes through from the host.
func (im *importer) environment(svc types.ServiceConfig) (env, secret hclwrite.Tokens) {
	var entries []objectEntry
	var names []string
	for _, name := range slices.Sorted(maps.Keys(svc.Environment)) {
		key, value := "environment."+name, svc.Environment[name]
		switch {
		case !envName.MatchString(name):
			im.report(svc.Name, key, "is not a variable name forge accepts "+
				"(letters, digits and underscores): left out")
		case value == nil:
			names = append(names, name)
			if !plan.LooksSecret(name) {
				im.report(svc.Name, key, "has no value: compose passes it through from the shell "+
					"environment; written in secret_env, so the runtime must supply it")
			}
		default:
			if plan.LooksSecret(name) {
				im.report(svc.Name, key, "looks like a secret but has a value, which forge writes "+
					"into forge.hcl and the manifest: move it to secret_env")
			}
			im.checkVariables(svc.Name, key, *value)
			entries = append(entries, objectEntry{key: name, value: stringTokens(*value)})
		}
	}
	return objectTokens(entries, false), stringList(names)
}

func (im *importer) envFiles(svc types.ServiceConfig) hclwrite.Tokens {
	var paths []string
	for _, f := range svc.EnvFiles {
		path := im.path(f.Path, false)
		if f.Format != "" {
			im.report(svc.Name, "env_file", "%s: format %s is not carried over", path, f.Format)
		}
		info, err := os.Stat(f.Path)
		exists, required := err == nil && info.Mode().IsRegular(), bool(f.Required)
		switch {
		case !exists && !required:
			im.report(svc.Name, "env_file", "%s is optional and missing; forge requires its "+
				"env files to exist: left out", path)
			continue
		case !exists:
			im.report(svc.Name, "env_file", "%s is missing; forge requires its env files "+
				"to exist: left out", path)
			continue
		case !required:
			im.report(svc.Name, "env_file", "%s is optional in compose; forge requires it", path)
		}
		paths = append(paths, path)
	}
	return stringList(paths)
}

// ports writes ports in compose's short syntax.
func (im *importer) ports(svc types.ServiceConfig) hclwrite.Tokens {
	var specs []string
	for _, p := range svc.Ports {
		spec := portSpec(p)
		if p.Name != "" || p.AppProtocol != "" || p.Mode == "host" {
			im.report(svc.Name, "ports", "%s: name, app_protocol and mode are not carried over", spec)
		}
		specs = append(specs, spec)
	}
	return stringList(specs)
}

func portSpec(p types.ServicePortConfig) string {
	spec := strconv.FormatUint(uint64(p.Target), 10)
	if p.Protocol != "" && p.Protocol != "tcp" {
		spec += "/" + p.Protocol
	}
	ip := p.HostIP
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	switch {
	case ip != "":
		return ip + ":" + p.Published + ":" + spec
	case p.Published != "":
		return p.Published + ":" + spec
	}
	return spec
}

var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (im *importer) volumes(svc types.ServiceConfig) hclwrite.Tokens {
	var specs []string
	for _, v := range svc.Volumes {
		if spec, ok := im.volume(svc.Name, v); ok {
			specs = append(specs, spec)
		}
	}
	return stringList(specs)
}

// volume writes a bind mount or a named volume as SOURCE:TARGET[:OPTIONS].
func (im *importer) volume(service string, v types.ServiceVolumeConfig) (string, bool) {
	source := v.Source
	switch {
	case v.Type == types.VolumeTypeBind:
		source = im.path(v.Source, true)
		if source == "" || !strings.ContainsAny(source[:1], "./~") {
			source = "./" + source
		}
	case v.Type != types.VolumeTypeVolume:
		im.report(service, "volumes", "%s: %s mounts are not carried over", v.Target, v.Type)
		return "", false
	case v.Source == "":
		im.report(service, "volumes", "%s: anonymous volumes are not carried over: name it", v.Target)
		return "", false
	case !volumeName.MatchString(v.Source):
		im.report(service, "volumes", "%s: %q is not a volume name forge accepts: left out",
			v.Target, v.Source)
		return "", false
	}
	im.reportVolumeOptions(service, v)
	var opts []string
	if v.ReadOnly {
		opts = append(opts, "ro")
	}
	if v.Bind != nil && v.Bind.SELinux != "" {
		opts = append(opts, v.Bind.SELinux)
	}
	spec := source + ":" + v.Target
	if len(opts) > 0 {
		spec += ":" + strings.Join(opts, ",")
	}
	return spec, true
}

func (im *importer) reportVolumeOptions(service string, v types.ServiceVolumeConfig) {
	var keys []string
	if v.Consistency != "" {
		keys = append(keys, "consistency")
	}
	if v.Bind != nil {
		converted := setOf("selinux", "create_host_path")
		keys = append(keys, unconvertedKeys(reflect.ValueOf(*v.Bind), converted)...)
	}
	if v.Volume != nil {
		keys = append(keys, unconvertedKeys(reflect.ValueOf(*v.Volume), nil)...)
	}
	if len(keys) > 0 {
		im.report(service, "volumes", "%s: %s not carried over", v.Target, strings.Join(keys, ", "))
	}
}

func (im *importer) dependsOn(svc types.ServiceConfig) hclwrite.Tokens {
	var refs []hclwrite.Tokens
	for _, name := range slices.Sorted(maps.Keys(svc.DependsOn)) {
		dep, key := svc.DependsOn[name], "depends_on."+name
		if im.blocks[name] == "" {
			im.report(svc.Name, key, "%s is not imported: left out", name)
			continue
		}
		if dep.Condition != "" && dep.Condition != types.ServiceConditionStarted {
			im.report(svc.Name, key, "condition %s is not carried over: forge only starts %s first",
				dep.Condition, name)
		}
		refs = append(refs, traversalTokens("service", im.blocks[name]))
	}
	if len(refs) == 0 {
		return nil
	}
	return hclwrite.TokensForTuple(refs)
}

// reportUnconverted reports every key of v, a compose struct, that is set
// and not in converted. Nested structs marked inline are walked.
func (im *importer) reportUnconverted(service, prefix string, v reflect.Value,
	converted map[string]bool) {
	for _, key := range unconvertedKeys(v, converted) {
		im.report(service, prefix+key, "%s", unconvertedMessage(key))
	}
}

func unconvertedKeys(v reflect.Value, converted map[string]bool) []string {
	var keys []string
	t := v.Type()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case name == "" && strings.Contains(opts, "inline") && v.Field(i).Kind() == reflect.Struct:
			keys = append(keys, unconvertedKeys(v.Field(i), converted)...)
		case name == "" || name == "-" || strings.HasPrefix(name, "#") || converted[name]:
		case !v.Field(i).IsZero():
			keys = append(keys, name)
		}
	}
	return keys
}

func unconvertedMessage(key string) string {
	switch key {
	case "secrets":
		return "runtime secrets are not carried over: list the variables they hold in " +
			"secret_env, or keep the service in compose"
	case "labels":
		return "container labels are not carried over; image labels are build.labels"
	case "platform":
		return "not carried over: set platforms on the image block"
	case "links":
		return "not carried over: use depends_on"
	}
	return "not carried over: forge.hcl has no equivalent"
}

var variableRef = regexp.MustCompile(`\$(\{|\$|[A-Za-z_])`)

func hasVariable(s string) bool { return variableRef.MatchString(s) }

// checkVariables reports compose variable syntax, which compose substitutes
// when it loads the file and forge keeps as written.
func (im *importer) checkVariables(service, key, value string) {
	if !hasVariable(value) {
		return
	}
	subject := "uses"
	if !strings.Contains(value, "\n") {
		subject = strconv.Quote(value) + " uses"
	}
	im.report(service, key, "%s compose variables ($VAR, ${VAR} or $$), which compose "+
		"substitutes when it loads the file; forge keeps the text as written", subject)
}

// path returns p, an absolute path, as forge.hcl should hold it: relative
// to the output directory when p is inside it or when they share a
// directory below the home directory or outside it; else, for attributes
// that expand ~/, relative to the home directory when p is in it; else
// relative when they share more than the filesystem root; else absolute.
func (im *importer) path(p string, tilde bool) string {
	rel, err := filepath.Rel(im.dir, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	common := im.dir
	for !within(common, p) {
		common = filepath.Dir(common)
	}
	inHome := im.home != "" && im.home != "/" && within(im.home, p)
	switch {
	case common == im.dir:
		return filepath.ToSlash(rel)
	case tilde && inHome && !(within(im.home, common) && common != im.home):
		return "~/" + filepath.ToSlash(strings.TrimPrefix(p, im.home+string(filepath.Separator)))
	case common != filepath.Dir(common):
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func setOf(keys ...string) map[string]bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set
}

// objectEntry is one attribute of an object constructor, with an optional
// comment on the line before it.
type objectEntry struct {
	key     string
	value   hclwrite.Tokens
	comment string
}

// objectTokens returns an object constructor: on one line when oneLine is
// set or there is a single entry without comment, else one entry a line.
func objectTokens(entries []objectEntry, oneLine bool) hclwrite.Tokens {
	if len(entries) == 0 {
		return nil
	}
	oneLine = oneLine || len(entries) == 1 && entries[0].comment == ""
	toks := hclwrite.Tokens{token(hclsyntax.TokenOBrace, "{")}
	for i, e := range entries {
		switch {
		case !oneLine:
			toks = append(toks, token(hclsyntax.TokenNewline, "\n"))
			if e.comment != "" {
				toks = append(toks, commentToken(e.comment))
			}
		case i > 0:
			toks = append(toks, token(hclsyntax.TokenComma, ","))
		}
		toks = append(toks, keyTokens(e.key)...)
		toks = append(toks, token(hclsyntax.TokenEqual, "="))
		toks = append(toks, e.value...)
	}
	if !oneLine {
		toks = append(toks, token(hclsyntax.TokenNewline, "\n"))
	}
	return append(toks, token(hclsyntax.TokenCBrace, "}"))
}

func keyTokens(key string) hclwrite.Tokens {
	if hclsyntax.ValidIdentifier(key) {
		return hclwrite.TokensForIdentifier(key)
	}
	return stringTokens(key)
}

func token(t hclsyntax.TokenType, s string) *hclwrite.Token {
	return &hclwrite.Token{Type: t, Bytes: []byte(s)}
}

func stringTokens(s string) hclwrite.Tokens {
	return hclwrite.TokensForValue(cty.StringVal(s))
}

func stringList(ss []string) hclwrite.Tokens {
	if len(ss) == 0 {
		return nil
	}
	elems := make([]hclwrite.Tokens, len(ss))
	for i, s := range ss {
		elems[i] = stringTokens(s)
	}
	return hclwrite.TokensForTuple(elems)
}

func traversalTokens(root, name string) hclwrite.Tokens {
	return hclwrite.TokensForTraversal(hcl.Traversal{
		hcl.TraverseRoot{Name: root},
		hcl.TraverseAttr{Name: name},
	})
}

// heredoc returns text as a heredoc template that evaluates to text, with
// a final newline added when it lacks one.
func heredoc(text string) hclwrite.Tokens {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "${", "$${"), "%{", "%%{")
	marker := "EOT"
	for slices.ContainsFunc(strings.Split(text, "\n"), func(line string) bool {
		return strings.TrimSpace(line) == marker
	}) {
		marker += "_"
	}
	return hclwrite.Tokens{
		token(hclsyntax.TokenOHeredoc, "<<"+marker+"\n"),
		token(hclsyntax.TokenStringLit, text),
		token(hclsyntax.TokenCHeredoc, marker),
	}
}
