package compose

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
)

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
	byRef, claimed := im.assignTags()
	im.renameUntagged(claimed, taken)
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
// group building each image: reference and the group claiming each tag, by
// canonical reference.
func (im *importer) assignTags() (byRef map[string]*buildGroup, claimed map[string]string) {
	byRef = make(map[string]*buildGroup)
	claimed = make(map[string]string)
	for _, g := range im.groups {
		for _, name := range g.builders {
			svc := im.project.Services[name]
			if ref := canonicalRef(svc.Image); ref != "" && byRef[ref] == nil {
				byRef[ref] = g
			}
			im.addTag(g, name, "image", svc.Image, claimed)
			for _, tag := range svc.Build.Tags {
				im.addTag(g, name, "build.tags", tag, claimed)
			}
		}
	}
	return byRef, claimed
}

// addTag gives g tag unless another spelling of it is already claimed:
// app, app:latest and docker.io/library/app:latest are one tag.
func (im *importer) addTag(g *buildGroup, service, key, tag string, claimed map[string]string) {
	if tag == "" {
		return
	}
	if usesVariable(tag) {
		im.report(service, key, "%s uses compose variables, which forge does not read from the "+
			"environment: left out of the tags; write it with a variable block", tag)
		return
	}
	if _, err := reference.ParseNormalizedNamed(tag); err != nil {
		im.report(service, key, "%s is not a valid tag: left out: %v", tag, err)
		return
	}
	ref := canonicalRef(tag)
	switch other, seen := claimed[ref]; {
	case other == g.name:
		return
	case seen:
		im.report(service, key, "%s is also the tag of image %s, built differently; "+
			"forge exports a tag from one build only: left out of image %s", tag, other, g.name)
		return
	}
	claimed[ref] = g.name
	g.tags = append(g.tags, tag)
}

// renameUntagged renames each group without tags whose default tag,
// NAME:latest, another group claims: both would export it.
func (im *importer) renameUntagged(claimed map[string]string, taken map[string]bool) {
	for _, g := range im.groups {
		if len(g.tags) > 0 || claimed[canonicalRef(g.name+":latest")] == "" {
			continue
		}
		base := g.name
		delete(taken, base)
		for i := 2; taken[g.name] || claimed[canonicalRef(g.name+":latest")] != ""; i++ {
			g.name = base + "-" + strconv.Itoa(i)
		}
		taken[g.name] = true
	}
}

// canonicalRef returns ref fully qualified, with the tag latest when it
// has none, as compose resolves it: app, app:latest and
// docker.io/library/app:latest are one image. An invalid ref is returned
// as it is.
func canonicalRef(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.TagNameOnly(named).String()
}

// attachRunners decides what each service without a build section runs: the
// image another service builds under the same reference, or nothing.
func (im *importer) attachRunners(byRef map[string]*buildGroup) {
	for _, svc := range im.services {
		switch {
		case svc.Build != nil:
		case byRef[canonicalRef(svc.Image)] != nil:
			im.runs[svc.Name] = byRef[canonicalRef(svc.Image)]
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

// nameServices names the service blocks. A compose name that is a forge
// block name is kept; the others are derived from theirs, around the kept
// ones.
func (im *importer) nameServices() {
	taken := make(map[string]bool)
	for _, svc := range im.services {
		if im.runs[svc.Name] != nil && sanitize(svc.Name, "service") == svc.Name {
			taken[svc.Name] = true
			im.blocks[svc.Name] = svc.Name
		}
	}
	for _, svc := range im.services {
		if im.runs[svc.Name] == nil || im.blocks[svc.Name] != "" {
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
