package manifest

import (
	"fmt"
	"maps"

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
	for _, svc := range g.Services {
		name := g.Node(svc.Image).Name
		rec, err := newService(svc, name, m.Artifacts[name])
		if err != nil {
			return err
		}
		m.Services[svc.Name] = rec
	}
	m.prune(g.Config)
	return nil
}

func newArtifact(n *plan.Node, dir string, dgst digest.Digest) *Artifact {
	img := n.Image
	return &Artifact{
		Tags:   img.Tags,
		Digest: dgst.String(),
		Inputs: Inputs{
			Context:    plan.RelPath(dir, img.Context),
			Dockerfile: plan.RelPath(dir, img.Dockerfile),
			Target:     img.Target,
			Args:       maps.Clone(img.Args),
		},
	}
}

func newService(svc *plan.Service, artifact string, art *Artifact) (*Service, error) {
	image, err := pin(art.Tags[0], digest.Digest(art.Digest))
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Name, err)
	}
	return &Service{
		Artifact: artifact,
		Image:    image,
		Command:  svc.Command,
		Env:      maps.Clone(svc.Env),
	}, nil
}

// pin returns tag with dgst appended, as NAME:TAG@DIGEST in its familiar
// form.
func pin(tag string, dgst digest.Digest) (string, error) {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return "", fmt.Errorf("invalid tag %q: %w", tag, err)
	}
	pinned, err := reference.WithDigest(named, dgst)
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
}
