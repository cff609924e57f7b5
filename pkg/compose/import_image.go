package compose

import (
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/forge-build/forge/pkg/plan"
)

// convertedBuildKeys are the build keys imageBlock carries over.
var convertedBuildKeys = setOf("context", "dockerfile", "dockerfile_inline", "args", "labels",
	"tags", "platforms", "cache_from", "cache_to", "additional_contexts", "secrets", "ssh",
	"no_cache", "pull", "network", "target")

func (im *importer) imageBlock(g *buildGroup) block {
	b, first := g.build, g.builders[0]
	blk := block{kind: "image", name: g.name}
	blk.addString("context", im.literal(first, "build.context", im.contextPath(first, b)))
	if b.DockerfileInline != "" {
		inline := im.literal(first, "build.dockerfile_inline", b.DockerfileInline)
		blk.add("dockerfile_inline", heredoc(inline))
	} else if b.Dockerfile != "" && b.Dockerfile != "Dockerfile" {
		blk.addString("dockerfile", im.literal(first, "build.dockerfile", b.Dockerfile))
	}
	blk.addString("target", im.literal(first, "build.target", b.Target))
	blk.add("args", im.args(g))
	blk.add("labels", im.stringMap(first, "build.labels", b.Labels))
	blk.add("tags", stringList(defaultTags(g)))
	blk.add("platforms", stringList(im.literals(first, "build.platforms", b.Platforms)))
	blk.add("cache_from", stringList(im.literals(first, "build.cache_from", b.CacheFrom)))
	blk.add("cache_to", stringList(im.literals(first, "build.cache_to", b.CacheTo)))
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
	if !within(im.dir, dir) {
		im.report(service, "build.context", "%s is outside %s, where forge.hcl is written; forge "+
			"builds only from inside the directory holding forge.hcl: write it to a directory "+
			"that contains every build context (-o)", dir, im.dir)
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
		tokens := stringTokens(im.literal(first, key, *value))
		entries = append(entries, objectEntry{key: name, value: tokens})
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
		tokens := stringTokens(im.literal(service, key+"."+name, m[name]))
		entries = append(entries, objectEntry{key: name, value: tokens})
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

// layoutPath returns spec, an OCI layout's DIR, DIR:TAG or DIR@DIGEST,
// with a relative DIR, which compose reads from the project directory,
// rewritten for forge.hcl, which forge reads from its own directory.
func (im *importer) layoutPath(spec string) string {
	dir, ref := spec, ""
	if i := strings.LastIndex(spec, "@"); i >= 0 {
		dir, ref = spec[:i], spec[i:]
	} else if i := strings.LastIndex(spec, ":"); i > strings.LastIndex(spec, "/") {
		dir, ref = spec[:i], spec[i:]
	}
	if filepath.IsAbs(dir) {
		return spec
	}
	return im.path(filepath.Join(im.project.WorkingDir, dir), false) + ref
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
	case strings.HasPrefix(value, "oci-layout://"):
		spec := strings.TrimPrefix(value, "oci-layout://")
		return stringTokens("oci-layout://" + im.layoutPath(spec))
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
