package plan

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/zclconf/go-cty/cty"
)

// Image is an image block: the inputs of one Dockerfile build and what to
// do with its result.
type Image struct {
	Name string
	// Context is the absolute path of the build context directory. It
	// defaults to the directory holding forge.hcl.
	Context string
	// Dockerfile is the absolute path of the Dockerfile. It defaults to
	// "Dockerfile" inside Context; a relative value resolves against
	// Context. It is empty when DockerfileInline is set.
	Dockerfile string
	// DockerfileInline is the Dockerfile's text, when given in forge.hcl.
	DockerfileInline string
	// Target is the Dockerfile stage to build; empty means the last stage.
	Target string
	// Args are the build arguments, passed to the build and nowhere else.
	Args        map[string]string
	Labels      map[string]string
	Annotations map[string]string
	// Tags are the image references the result is exported under. An image
	// block without tags is tagged NAME:latest.
	Tags []string
	// Platforms are normalised platform specifiers (linux/amd64); empty
	// means the builder's own platform.
	Platforms []string
	CacheFrom []Cache
	CacheTo   []Cache
	// Contexts are the named build contexts, keyed by the name the
	// Dockerfile uses (FROM NAME, COPY --from=NAME).
	Contexts map[string]NamedContext
	Secrets  []Secret
	SSH      []SSH
	NoCache  bool
	// Pull makes the builder check for newer versions of base images.
	Pull bool
	// Network is the network mode of RUN steps: "default", "none" or "host".
	Network string
	// DependsOn names image blocks that must be built before this one.
	DependsOn []string

	DeclRange hcl.Range
	// dockerfileSpec is the dockerfile attribute as written, which resolves
	// against Context; empty when the attribute is not set.
	dockerfileSpec string
	// attrRanges holds the value range of each attribute set in the block,
	// tagRanges the range of each tag.
	attrRanges map[string]hcl.Range
	tagRanges  map[string]hcl.Range
	argRanges  map[string]hcl.Range
}

// ArgRange returns the range of the build argument name's key in forge.hcl,
// or of the args attribute when the key cannot be located.
func (img *Image) ArgRange(name string) hcl.Range {
	if rng, ok := img.argRanges[name]; ok {
		return rng
	}
	return img.AttrRange("args")
}

// AttrRange returns the range of the named attribute's value, or the block
// header's range when the attribute was not set.
func (img *Image) AttrRange(name string) hcl.Range {
	if rng, ok := img.attrRanges[name]; ok {
		return rng
	}
	return img.DeclRange
}

// Cache is one cache import or export, in BuildKit's terms.
type Cache struct {
	Type  string
	Attrs map[string]string
}

// Secret is a build secret: RUN --mount=type=secret,id=ID reads it. Its
// value comes from the environment variable Env or the file File at build
// time and is never stored.
type Secret struct {
	ID   string
	Env  string
	File string
}

// SSH is an SSH agent socket or key set forwarded to RUN --mount=type=ssh.
// No Paths means the agent at $SSH_AUTH_SOCK.
type SSH struct {
	ID    string
	Paths []string
}

var imageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "context"},
		{Name: "dockerfile"},
		{Name: "dockerfile_inline"},
		{Name: "target"},
		{Name: "args"},
		{Name: "labels"},
		{Name: "annotations"},
		{Name: "tags"},
		{Name: "platforms"},
		{Name: "cache_from"},
		{Name: "cache_to"},
		{Name: "contexts"},
		{Name: "secrets"},
		{Name: "ssh"},
		{Name: "no_cache"},
		{Name: "pull"},
		{Name: "network"},
		{Name: "depends_on"},
		// Read by expandImages.
		{Name: "matrix"},
		{Name: "name"},
	},
}

// imageDecoder decodes one image block.
type imageDecoder struct {
	img   *Image
	block *hcl.Block
	attrs hcl.Attributes
	ctx   *hcl.EvalContext
	dir   string
	diags hcl.Diagnostics
}

// decodeImage decodes the image inst declares, evaluating its attributes
// in ctx with inst's matrix variables added.
func decodeImage(inst imageInstance, dir string, ctx *hcl.EvalContext) (*Image, hcl.Diagnostics) {
	block := inst.block
	content, diags := block.Body.Content(imageSchema)
	d := &imageDecoder{
		img:   &Image{Name: inst.name, DeclRange: block.DefRange, attrRanges: map[string]hcl.Range{}},
		block: block, attrs: content.Attributes, ctx: matrixContext(ctx, inst.vars), dir: dir, diags: diags,
	}
	delete(d.attrs, "matrix")
	delete(d.attrs, "name")
	for name, attr := range d.attrs {
		d.img.attrRanges[name] = attr.Expr.Range()
	}
	d.decodeSources()
	d.decodeBuildSettings()
	d.decodeOutputs()
	return d.img, d.diags
}

func (d *imageDecoder) add(diags hcl.Diagnostics) {
	d.diags = append(d.diags, diags...)
}

func (d *imageDecoder) string(name string) string {
	s, diags := decodeString(d.attrs[name], d.ctx)
	d.add(diags)
	return s
}

func (d *imageDecoder) stringMap(name string) map[string]string {
	m, diags := decodeStringMap(d.attrs[name], d.ctx)
	d.add(diags)
	return m
}

func (d *imageDecoder) stringList(name string) []string {
	l, diags := decodeStringList(d.attrs[name], d.ctx)
	d.add(diags)
	return l
}

// decodeSources decodes where the build reads from: context, Dockerfile and
// named contexts.
func (d *imageDecoder) decodeSources() {
	img := d.img
	contextDir := d.string("context")
	dockerfile := d.string("dockerfile")
	img.DockerfileInline = d.string("dockerfile_inline")
	img.Context = resolvePath(d.dir, contextDir, ".")
	contexts, diags := decodeContexts(d.attrs["contexts"], d.dir, d.ctx)
	img.Contexts = contexts
	d.add(diags)
	if d.diags.HasErrors() {
		return
	}
	// A missing context hides its Dockerfile too: report only the cause.
	if diags := checkDir(img.Context, d.attrs["context"], d.block); diags.HasErrors() {
		d.add(diags)
		return
	}
	if diags := checkInside(img.Context, d.dir, d.attrs["context"], d.block); diags.HasErrors() {
		d.add(diags)
		return
	}
	if img.DockerfileInline != "" {
		if attr := d.attrs["dockerfile"]; attr != nil {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Conflicting Dockerfile sources",
				Detail:   "Set either dockerfile or dockerfile_inline, not both.",
				Subject:  attr.NameRange.Ptr(),
			}})
		}
		return
	}
	img.dockerfileSpec = dockerfile
	img.Dockerfile = resolvePath(img.Context, dockerfile, "Dockerfile")
	if diags := checkFile(img.Dockerfile, d.attrs["dockerfile"], d.block); diags.HasErrors() {
		d.add(diags)
		return
	}
	d.add(checkInside(img.Dockerfile, d.dir, d.attrs["dockerfile"], d.block))
}

// checkInside reports a build input outside project, the directory
// holding forge.hcl, symbolic links resolved: a configuration can only make
// forge read and send files of its own project. OCI layouts (read-only
// image stores) and secret files are exempt.
func checkInside(path, project string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	if err := inside(path, project); err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Path outside the project",
			Detail: fmt.Sprintf("%s. Build inputs must be inside the directory holding forge.hcl; "+
				"put forge.hcl in a directory that contains them all.", err),
			Subject: subject(attr, block),
		}}
	}
	return nil
}

// inside returns an error when path, symbolic links resolved, is not
// project or below it.
func inside(path, project string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	root, err := filepath.EvalSymlinks(project)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("%s is outside %s", real, root)
	}
	return nil
}

// decodeBuildSettings decodes what changes the build's result or how it
// runs.
func (d *imageDecoder) decodeBuildSettings() {
	img := d.img
	img.Target = d.string("target")
	img.Args = d.stringMap("args")
	img.Labels = d.stringMap("labels")
	img.Annotations = d.stringMap("annotations")
	img.Platforms = d.platforms()
	img.Secrets = d.secrets()
	img.SSH = d.ssh()
	var diags hcl.Diagnostics
	img.NoCache, diags = decodeBool(d.attrs["no_cache"], d.ctx)
	d.add(diags)
	img.Pull, diags = decodeBool(d.attrs["pull"], d.ctx)
	d.add(diags)
	img.Network = d.network()
	img.DependsOn, diags = decodeRefList(d.attrs["depends_on"], imageRefType, d.ctx)
	d.add(diags)
	if attr := d.attrs["args"]; attr != nil {
		d.add(checkArgs(img.Args, attr))
		img.argRanges = make(map[string]hcl.Range, len(img.Args))
		for name := range img.Args {
			img.argRanges[name] = *mapKeyRange(attr, name)
		}
	}
}

// decodeOutputs decodes where the result goes: tags and caches.
func (d *imageDecoder) decodeOutputs() {
	img := d.img
	img.Tags = d.stringList("tags")
	if img.Tags == nil {
		// Absent or null: the default.
		img.Tags = []string{img.Name + ":latest"}
	}
	if len(img.Tags) == 0 {
		d.add(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No tags",
			Detail: fmt.Sprintf("An image needs at least one tag to be pushed, loaded or run. "+
				"Leave tags out for %s:latest.", img.Name),
			Subject: d.attrs["tags"].Expr.Range().Ptr(),
		}})
	}
	d.add(checkTags(img.Tags, d.attrs["tags"], d.block))
	img.tagRanges = make(map[string]hcl.Range, len(img.Tags))
	for i, tag := range img.Tags {
		rng := *subject(d.attrs["tags"], d.block)
		if d.attrs["tags"] != nil {
			rng = *elemRange(d.attrs["tags"], i)
		}
		img.tagRanges[tag] = rng
	}
	img.CacheFrom = d.caches("cache_from")
	img.CacheTo = d.caches("cache_to")
}

func (d *imageDecoder) platforms() []string {
	specs := d.stringList("platforms")
	var out, given []string
	for i, spec := range specs {
		p, err := platforms.Parse(spec)
		if err != nil {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid platform",
				Detail:   fmt.Sprintf("%q is not a platform: %s. A platform looks like linux/amd64 or linux/arm64/v8.", spec, err),
				Subject:  elemRange(d.attrs["platforms"], i),
			}})
			continue
		}
		name := platforms.Format(platforms.Normalize(p))
		if j := slices.Index(out, name); j >= 0 {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Duplicate platform",
				Detail:   fmt.Sprintf("%q is the platform %s, listed already as %q.", spec, name, given[j]),
				Subject:  elemRange(d.attrs["platforms"], i),
			}})
			continue
		}
		out, given = append(out, name), append(given, spec)
	}
	return out
}

func (d *imageDecoder) network() string {
	mode := d.string("network")
	if mode == "" || slices.Contains([]string{"default", "none", "host"}, mode) {
		return mode
	}
	d.add(hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid network mode",
		Detail:   fmt.Sprintf("%q is not a network mode. Use \"default\", \"none\" or \"host\".", mode),
		Subject:  d.attrs["network"].Expr.Range().Ptr(),
	}})
	return ""
}

// resolvePath returns p made absolute against base, or def when p is empty.
func resolvePath(base, p, def string) string {
	if p == "" {
		p = def
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// subject returns the range a diagnostic about attr should point at: the
// attribute's value, or the block header when the attribute is absent and
// its default was used.
func subject(attr *hcl.Attribute, block *hcl.Block) *hcl.Range {
	if attr != nil {
		return attr.Expr.Range().Ptr()
	}
	return block.DefRange.Ptr()
}

func checkDir(path string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil
	}
	detail := fmt.Sprintf("The build context %s is not a directory.", path)
	if err != nil {
		detail = fmt.Sprintf("The build context %s does not exist.", path)
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Missing build context",
		Detail:   detail + " Relative paths resolve against the directory holding forge.hcl.",
		Subject:  subject(attr, block),
	}}
}

func checkFile(path string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Missing Dockerfile",
		Detail: fmt.Sprintf("No Dockerfile at %s. A relative dockerfile path resolves "+
			"against the build context.", path),
		Subject: subject(attr, block),
	}}
}

func checkArgs(args map[string]string, attr *hcl.Attribute) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(args) {
		switch {
		case name == "" || strings.ContainsAny(name, "= \t\n"):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid build argument name",
				Detail: fmt.Sprintf("%q cannot name a build argument: names are not empty "+
					"and hold no '=' or whitespace.", name),
				Subject: mapKeyRange(attr, name),
			})
		case LooksSecret(name):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Build argument looks like a secret",
				Detail: fmt.Sprintf("Build argument %q is stored in the image's history and in the "+
					"manifest. Pass secrets with the secrets attribute and RUN --mount=type=secret,id=...",
					name),
				Subject: mapKeyRange(attr, name),
				Extra:   secretArg{},
			})
		}
	}
	return diags
}

type secretArg struct{}

// SecretArgWarning reports whether d is the warning that a build argument
// is named like a secret. forge check reports such an argument as an error,
// so a command that runs the check leaves the warning out.
func SecretArgWarning(d *hcl.Diagnostic) bool {
	_, ok := d.Extra.(secretArg)
	return ok
}

// checkTags validates each tag with the same reference grammar the
// registries use, pointing at the offending list element when it can.
func checkTags(tags []string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, tag := range tags {
		err := checkTag(tag)
		if err == nil {
			continue
		}
		rng := subject(attr, block)
		if attr != nil {
			rng = elemRange(attr, i)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid image tag",
			Detail: fmt.Sprintf("%q is not a valid image reference: %s. A tag looks like "+
				"registry.example.com/team/app:1.2 or app:latest.", tag, err),
			Subject: rng,
		})
	}
	return diags
}

func checkTag(tag string) error {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return err
	}
	if _, digested := named.(reference.Digested); digested {
		return fmt.Errorf("a tag cannot hold a digest")
	}
	return nil
}

// secretWords are the words of a variable name that mark its value as a
// likely secret; secretPairs are pairs of consecutive words that do.
var (
	secretWords = []string{"SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "TOKEN", "APIKEY",
		"CREDENTIAL", "CREDENTIALS"}
	secretPairs = []string{"API_KEY", "PRIVATE_KEY", "ACCESS_KEY", "SECRET_KEY", "AUTH_KEY"}
)

// LooksSecret reports whether a variable name suggests its value is a
// secret, such as DJANGO_SECRET_KEY or NPM_TOKEN. Names of files or paths
// holding a secret (SECRET_KEY_FILE, TOKEN_PATH) do not.
func LooksSecret(name string) bool {
	words := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return r == '_' || r == '-' || r == '.'
	})
	if len(words) == 0 {
		return false
	}
	if last := words[len(words)-1]; last == "FILE" || last == "PATH" || last == "DIR" {
		return false
	}
	for i, w := range words {
		if slices.Contains(secretWords, w) {
			return true
		}
		if i > 0 && slices.Contains(secretPairs, words[i-1]+"_"+w) {
			return true
		}
	}
	return false
}

// ctyString returns the string in v, or "" when v is null or not a string.
func ctyString(v cty.Value) string {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// IgnoreFile returns the .dockerignore file that applies to the image's
// context, as the Dockerfile frontend chooses it: DOCKERFILE.dockerignore
// next to the Dockerfile, else the context's .dockerignore. It returns
// false when there is none.
func (img *Image) IgnoreFile() (string, bool) {
	candidates := []string{filepath.Join(img.Context, ".dockerignore")}
	if img.Dockerfile != "" {
		candidates = append([]string{img.Dockerfile + ".dockerignore"}, candidates...)
	}
	for _, path := range candidates {
		if _, err := os.Stat(path); err == nil {
			return path, true
		}
	}
	return "", false
}

// IgnorePatterns returns the patterns of the image's IgnoreFile, or none
// when it has none. It fails when the file cannot be read.
func (img *Image) IgnorePatterns() ([]string, error) {
	path, ok := img.IgnoreFile()
	if !ok {
		return nil, nil
	}
	patterns, err := readIgnoreFile(path)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return patterns, nil
}

// IgnoreFile returns the .dockerignore at the root of a local named
// context, which the Dockerfile frontend applies to it. It returns false
// when there is none.
func (c NamedContext) IgnoreFile() (string, bool) {
	if c.Kind != ContextLocal {
		return "", false
	}
	path := filepath.Join(c.Path, ".dockerignore")
	if _, err := os.Stat(path); err != nil {
		return "", false
	}
	return path, true
}

// IgnorePatterns returns the patterns of the context's IgnoreFile, or none
// when it has none. It fails when the file cannot be read.
func (c NamedContext) IgnorePatterns() ([]string, error) {
	path, ok := c.IgnoreFile()
	if !ok {
		return nil, nil
	}
	return readIgnoreFile(path)
}

func readIgnoreFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return patterns, nil
}

// ForgeFiles returns patterns, relative to the image's context, that
// exclude files forge itself writes (paths) when they lie inside the
// context: a manifest written next to forge.hcl must not become an input
// of the images built from that directory.
func (img *Image) ForgeFiles(paths []string) []string {
	return ForgeFilesIn(img.Context, paths)
}

// ForgeFilesIn returns patterns, relative to dir, that exclude the files
// forge writes (paths) that lie inside dir: the build context of an
// image, or a local named context.
func ForgeFilesIn(dir string, paths []string) []string {
	var patterns []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(dir, abs)
		if err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			patterns = append(patterns, filepath.ToSlash(rel))
		}
	}
	return patterns
}
