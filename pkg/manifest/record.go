package manifest

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/plan"
)

// Record stores the outcome of building g in m. digests maps each node name
// to the digest its export produced; every node of g must have one.
//
// Each node becomes an artifact and each service of g is pinned to its
// artifact's digest, replacing earlier records of the same names. Records of
// names that g's configuration no longer declares are dropped; records of
// other images and services are kept, so building part of a project does not
// forget the rest.
func (m *Manifest) Record(g *plan.Graph, digests map[string]digest.Digest) error {
	for _, n := range g.Exported() {
		dgst, ok := digests[n.Name]
		if !ok {
			return fmt.Errorf("no digest recorded for image %q", n.Name)
		}
		m.Artifacts[n.Name] = newArtifact(n, g.Config.Dir, dgst)
	}
	dir := g.Config.Dir
	for _, svc := range g.Services {
		name := g.Node(svc.Image).Name
		image, err := pin(m.Artifacts[name])
		if err != nil {
			return fmt.Errorf("service %s: %w", svc.Name, err)
		}
		m.Services[svc.Name] = newService(svc, name, image, dir)
	}
	for _, t := range g.Tasks {
		name := g.Node(t.Image).Name
		image, err := pin(m.Artifacts[name])
		if err != nil {
			return fmt.Errorf("task %s: %w", t.Name, err)
		}
		m.Tasks[t.Name] = &Task{Artifact: name, Image: image, Command: t.Command,
			Env: maps.Clone(t.Env), SecretEnv: t.SecretEnv, When: t.When}
	}
	m.prune(g.Config)
	return nil
}

func newArtifact(n *plan.Node, dir string, dgst digest.Digest) *Artifact {
	img := n.Image
	in := Inputs{
		Context:   plan.RelPath(dir, img.Context),
		Target:    img.Target,
		Args:      maps.Clone(img.Args),
		Labels:    maps.Clone(img.Labels),
		Platforms: img.Platforms,
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
	return &Artifact{
		Images: n.Images,
		Tags:   img.Tags,
		Digest: dgst.String(),
		Key:    n.Key.String(),
		Inputs: in,
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
	for _, v := range svc.Volumes {
		if v.Bind {
			v.Source = bindSource(dir, v.Source)
		}
		rec.Volumes = append(rec.Volumes, v.String())
	}
	return rec
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
	for name := range m.Artifacts {
		if cfg.Image(name) == nil {
			delete(m.Artifacts, name)
		}
	}
	for name, svc := range m.Services {
		if cfg.Service(name) == nil || m.Artifacts[svc.Artifact] == nil {
			delete(m.Services, name)
		}
	}
	for name, t := range m.Tasks {
		if cfg.Task(name) == nil || m.Artifacts[t.Artifact] == nil {
			delete(m.Tasks, name)
		}
	}
}
