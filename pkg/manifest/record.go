package manifest

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/plan"
)

// Built is the outcome of building one node.
type Built struct {
	// Digest is the image manifest (or index) digest; required.
	Digest digest.Digest
	// ConfigDigest is the image configuration's digest, the image ID that
	// docker and podman show.
	ConfigDigest digest.Digest
	// Fingerprint digests every input of the build; see package
	// fingerprint.
	Fingerprint digest.Digest
	// Pushed is true when every tag was pushed to its registry.
	Pushed bool
	// Loaded names the engine the image was loaded into, or "".
	Loaded string
	// Provenance is the mode of the attached provenance, or "".
	Provenance string
	// CacheFrom and CacheTo are caches used besides the image's own.
	CacheFrom, CacheTo []plan.Cache
	// PlatformDigests are the digests of a multi-platform image's
	// platforms, by os/arch[/variant].
	PlatformDigests map[string]string
	// Platform is the builder's platform, which an image that names no
	// platforms is built for.
	Platform string
	// Reused is true when the build found the image unchanged and did not
	// solve it: what the recorded build did (its provenance, caches,
	// platforms, destinations) stays recorded, and this build's outputs
	// are added to it.
	Reused bool
}

// Record stores the outcome of building g in m. built maps each exported
// node's name to its outcome; every exported node must have one.
//
// Each node becomes an artifact and each service of g is pinned to its
// artifact's digest, replacing earlier records of the same names. Records of
// names that g's configuration no longer declares are dropped; records of
// other images and services are kept, so building part of a project does not
// forget the rest.
func (m *Manifest) Record(g *plan.Graph, built map[string]Built) error {
	for _, n := range g.Exported() {
		b, ok := built[n.Name]
		if !ok || b.Digest == "" {
			return fmt.Errorf("no digest recorded for image %q", n.Name)
		}
		art := newArtifact(n, g.Config.Dir, b)
		// Promotions of this very image stay true; those of an earlier
		// build of it no longer are.
		if prev := m.Artifacts[n.Name]; prev != nil && prev.Digest == art.Digest {
			art.Promotions = prev.Promotions
			if b.Reused {
				keepBuildFacts(art, prev)
			}
		}
		m.Artifacts[n.Name] = art
	}
	dir := g.Config.Dir
	pins := make(map[string]string)
	pinned := func(name string) (string, error) {
		if image, ok := pins[name]; ok {
			return image, nil
		}
		image, err := pin(m.Artifacts[name])
		if err != nil {
			return "", err
		}
		pins[name] = image
		return image, nil
	}
	for _, svc := range g.Services {
		name := g.Node(svc.Image).Name
		image, err := pinned(name)
		if err != nil {
			return fmt.Errorf("service %s: %w", svc.Name, err)
		}
		m.Services[svc.Name] = newService(svc, name, image, dir)
	}
	for _, t := range g.Tasks {
		name := g.Node(t.Image).Name
		image, err := pinned(name)
		if err != nil {
			return fmt.Errorf("task %s: %w", t.Name, err)
		}
		m.Tasks[t.Name] = &Task{Artifact: name, Image: image, Command: t.Command,
			Env: maps.Clone(t.Env), SecretEnv: t.SecretEnv, Volumes: volumes(t.Volumes, dir), When: t.When}
	}
	m.prune(g.Config)
	return nil
}

// keepBuildFacts carries into art, the record of an image reused without a
// solve, what prev says the build that made it did.
func keepBuildFacts(art, prev *Artifact) {
	art.Provenance = prev.Provenance
	art.Inputs.CacheFrom, art.Inputs.CacheTo = prev.Inputs.CacheFrom, prev.Inputs.CacheTo
	if art.PlatformDigests == nil {
		art.PlatformDigests = prev.PlatformDigests
	}
	art.Pushed = art.Pushed || prev.Pushed
	if art.Loaded == "" {
		art.Loaded = prev.Loaded
	}
}

func newArtifact(n *plan.Node, dir string, b Built) *Artifact {
	img := n.Image
	in := Inputs{
		Context:   plan.RelPath(dir, img.Context),
		Target:    img.Target,
		Args:      maps.Clone(img.Args),
		Labels:    maps.Clone(img.Labels),
		Platforms: img.Platforms,
	}
	if len(in.Platforms) == 0 && b.Platform != "" {
		in.Platforms = []string{b.Platform}
	}
	if img.Dockerfile != "" {
		in.Dockerfile = plan.RelPath(dir, img.Dockerfile)
	}
	for name, c := range img.Contexts {
		if in.Contexts == nil {
			in.Contexts = make(map[string]string)
		}
		in.Contexts[name] = c.String()
		if c.Path != "" {
			c.Path = plan.RelPath(dir, c.Path)
			in.Contexts[name] = c.String()
		}
	}
	for _, s := range img.Secrets {
		in.Secrets = append(in.Secrets, s.ID)
	}
	for _, c := range append(slices.Clone(img.CacheFrom), b.CacheFrom...) {
		in.CacheFrom = append(in.CacheFrom, c.String())
	}
	for _, c := range append(slices.Clone(img.CacheTo), b.CacheTo...) {
		in.CacheTo = append(in.CacheTo, c.String())
	}
	return &Artifact{
		Images:          n.Images,
		Tags:            img.Tags,
		Digest:          b.Digest.String(),
		PlatformDigests: b.PlatformDigests,
		ConfigDigest:    string(b.ConfigDigest),
		Key:             n.Key.String(),
		Fingerprint:     string(b.Fingerprint),
		Pushed:          b.Pushed,
		Loaded:          b.Loaded,
		Provenance:      b.Provenance,
		Inputs:          in,
	}
}

func newService(svc *plan.Service, artifact, image, dir string) *Service {
	rec := &Service{
		Artifact:   artifact,
		Image:      image,
		Command:    svc.Command,
		Entrypoint: svc.Entrypoint,
		WorkingDir: svc.WorkingDir,
		User:       svc.User,
		Env:        maps.Clone(svc.Env),
		SecretEnv:  svc.SecretEnv,
		Ports:      svc.Ports,
		DependsOn:  svc.DependsOn,
	}
	for _, f := range svc.EnvFiles {
		rec.EnvFiles = append(rec.EnvFiles, plan.RelPath(dir, f))
	}
	rec.Volumes = volumes(svc.Volumes, dir)
	return rec
}

// volumes returns vols in compose's short form, bind sources relative to
// dir.
func volumes(vols []plan.Volume, dir string) []string {
	var out []string
	for _, v := range vols {
		if v.Bind {
			v.Source = bindSource(dir, v.Source)
		}
		out = append(out, v.String())
	}
	return out
}

// bindSource returns a bind mount's source relative to dir, starting with
// . so that it still reads as a path.
func bindSource(dir, source string) string {
	rel := plan.RelPath(dir, source)
	if rel == "." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return rel
	}
	return "./" + rel
}

// pin returns the artifact's first tag with its digest appended, as
// NAME:TAG@DIGEST in its familiar form.
func pin(art *Artifact) (string, error) {
	tag := art.Tags[0]
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return "", fmt.Errorf("invalid tag %q: %w", tag, err)
	}
	pinned, err := reference.WithDigest(named, digest.Digest(art.Digest))
	if err != nil {
		return "", fmt.Errorf("pinning %s: %w", tag, err)
	}
	return reference.FamiliarString(pinned), nil
}

// prune drops the records of images and services cfg does not declare, and
// of services whose artifact is gone.
func (m *Manifest) prune(cfg *plan.Config) {
	images := nameSet(cfg.Images, func(img *plan.Image) string { return img.Name })
	services := nameSet(cfg.Services, func(svc *plan.Service) string { return svc.Name })
	tasks := nameSet(cfg.Tasks, func(t *plan.Task) string { return t.Name })
	for name := range m.Artifacts {
		if !images[name] {
			delete(m.Artifacts, name)
		}
	}
	for name, svc := range m.Services {
		if !services[name] || m.Artifacts[svc.Artifact] == nil {
			delete(m.Services, name)
		}
	}
	for name, t := range m.Tasks {
		if !tasks[name] || m.Artifacts[t.Artifact] == nil {
			delete(m.Tasks, name)
		}
	}
}

// nameSet returns the set of the blocks' names.
func nameSet[B any](blocks []B, name func(B) string) map[string]bool {
	set := make(map[string]bool, len(blocks))
	for _, b := range blocks {
		set[name(b)] = true
	}
	return set
}
