package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/zclconf/go-cty/cty"
)

// ContextKind tells where a named context comes from.
type ContextKind string

// The kinds of named context.
const (
	// ContextImage is the result of another image block.
	ContextImage ContextKind = "image"
	// ContextDockerImage is an image in a registry: docker-image://REF.
	ContextDockerImage ContextKind = "docker-image"
	// ContextOCILayout is an image in an OCI layout directory on this
	// machine: oci-layout://DIR, oci-layout://DIR:TAG or
	// oci-layout://DIR@DIGEST.
	ContextOCILayout ContextKind = "oci-layout"
	// ContextLocal is a directory on this machine.
	ContextLocal ContextKind = "local"
	// ContextURL is a Git repository or an HTTP(S) tarball.
	ContextURL ContextKind = "url"
)

// NamedContext is one entry of an image's contexts.
type NamedContext struct {
	Kind ContextKind
	// Image names the image block of a ContextImage.
	Image string
	// Ref is the image reference of a ContextDockerImage, or the URL of a
	// ContextURL.
	Ref string
	// Path is the absolute directory of a ContextLocal or ContextOCILayout.
	Path string
	// Digest is the manifest digest of a ContextOCILayout, read from the
	// layout's index when not given.
	Digest digest.Digest
}

// String returns the context as it would be written in forge.hcl.
func (c NamedContext) String() string {
	switch c.Kind {
	case ContextImage:
		return "image." + c.Image
	case ContextOCILayout:
		return "oci-layout://" + c.Path + "@" + c.Digest.String()
	case ContextLocal:
		return c.Path
	case ContextDockerImage:
		return "docker-image://" + c.Ref
	default:
		return redactURL(c.Ref)
	}
}

// relativeTo returns c with its path relative to dir.
func (c NamedContext) relativeTo(dir string) NamedContext {
	if c.Path != "" {
		c.Path = RelPath(dir, c.Path)
	}
	return c
}

func decodeContexts(attr *hcl.Attribute, dir string, ctx *hcl.EvalContext) (map[string]NamedContext, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := eval(attr.Expr, ctx)
	if diags.HasErrors() || !val.IsWhollyKnown() || val.IsNull() {
		return nil, diags
	}
	if !val.Type().IsObjectType() && !val.Type().IsMapType() {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   "contexts maps names to sources, as in { base = image.base, src = \"../src\" }.",
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	out := make(map[string]NamedContext)
	given := make(map[string]string)
	values := val.AsValueMap()
	for _, name := range sortedKeys(values) {
		invalid := func(format string, args ...any) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid named context",
				Detail:   fmt.Sprintf("Context %q: ", name) + fmt.Sprintf(format, args...) + ".",
				Subject:  mapKeyRange(attr, name),
			})
		}
		key, err := contextName(name)
		if err != nil {
			invalid("a context is named as a Dockerfile names an image or stage (FROM NAME, "+
				"COPY --from=NAME): %v", err)
			continue
		}
		if prev, dup := given[key]; dup {
			invalid("%q names the same image", prev)
			continue
		}
		c, err := parseContext(values[name], dir)
		if err != nil {
			invalid("%s", err)
			continue
		}
		out[key], given[key] = c, name
	}
	return out, diags
}

// contextName returns the name the Dockerfile frontend looks a named
// context up by: familiar, without :latest, so that alpine,
// alpine:latest and docker.io/library/alpine are one name.
func contextName(name string) (string, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest"), nil
}

func parseContext(v cty.Value, dir string) (NamedContext, error) {
	if name, ok := refName(v, imageRefType); ok {
		return NamedContext{Kind: ContextImage, Image: name}, nil
	}
	src := ctyString(v)
	if src == "" {
		return NamedContext{}, fmt.Errorf("a source is an image reference such as image.base, " +
			"or a string: docker-image://REF, oci-layout://DIR, a URL or a directory")
	}
	switch {
	case strings.HasPrefix(src, "docker-image://"):
		ref := strings.TrimPrefix(src, "docker-image://")
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return NamedContext{}, fmt.Errorf("%q is not an image reference: %w", ref, err)
		}
		return NamedContext{Kind: ContextDockerImage, Ref: ref}, nil
	case strings.HasPrefix(src, "oci-layout://"):
		return parseOCILayout(strings.TrimPrefix(src, "oci-layout://"), dir)
	case strings.HasPrefix(src, "https://"), strings.HasPrefix(src, "http://"),
		strings.HasPrefix(src, "git@"), strings.HasPrefix(src, "git://"):
		return NamedContext{Kind: ContextURL, Ref: src}, nil
	}
	path := resolvePath(dir, src, ".")
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return NamedContext{}, fmt.Errorf("%s is not a directory", path)
	}
	if err := inside(path, dir); err != nil {
		return NamedContext{}, fmt.Errorf("%w; a local context must be inside the directory holding forge.hcl", err)
	}
	return NamedContext{Kind: ContextLocal, Path: path}, nil
}

// parseOCILayout resolves DIR, DIR:TAG or DIR@DIGEST to a layout directory
// and the digest of one manifest it holds. The builder needs the digest:
// a layout cannot be named by tag alone.
func parseOCILayout(spec, dir string) (NamedContext, error) {
	path, want, tag := spec, "", ""
	if i := strings.LastIndex(spec, "@"); i >= 0 {
		path, want = spec[:i], spec[i+1:]
	} else if i := strings.LastIndex(spec, ":"); i > strings.LastIndex(spec, "/") {
		path, tag = spec[:i], spec[i+1:]
	}
	path = resolvePath(dir, path, ".")
	index, err := readOCIIndex(path)
	if err != nil {
		return NamedContext{}, err
	}
	if want != "" {
		dgst, err := digest.Parse(want)
		if err != nil {
			return NamedContext{}, fmt.Errorf("%q is not a digest: %w", want, err)
		}
		return NamedContext{Kind: ContextOCILayout, Path: path, Digest: dgst}, nil
	}
	dgst, err := pickManifest(index, tag, path)
	if err != nil {
		return NamedContext{}, err
	}
	return NamedContext{Kind: ContextOCILayout, Path: path, Digest: dgst}, nil
}

func readOCIIndex(path string) (*ocispecs.Index, error) {
	data, err := os.ReadFile(filepath.Join(path, ocispecs.ImageIndexFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", path, err)
	}
	var index ocispecs.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s/%s is not valid: %w", path, ocispecs.ImageIndexFile, err)
	}
	return &index, nil
}

// pickManifest returns the digest of the manifest tagged tag, or of the
// only manifest when tag is empty.
func pickManifest(index *ocispecs.Index, tag, path string) (digest.Digest, error) {
	var tags []string
	for _, m := range index.Manifests {
		name := m.Annotations[ocispecs.AnnotationRefName]
		if tag != "" && name == tag {
			return m.Digest, nil
		}
		if name != "" {
			tags = append(tags, name)
		}
	}
	switch {
	case tag != "":
		return "", fmt.Errorf("the OCI layout %s has no manifest tagged %q (tags: %s)",
			path, tag, strings.Join(tags, ", "))
	case len(index.Manifests) == 1:
		return index.Manifests[0].Digest, nil
	case len(index.Manifests) == 0:
		return "", fmt.Errorf("the OCI layout %s holds no manifest", path)
	}
	return "", fmt.Errorf("the OCI layout %s holds %d manifests; name one as DIR:TAG or DIR@DIGEST",
		path, len(index.Manifests))
}
