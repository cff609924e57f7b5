package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/forge-build/forge/pkg/buildkit"
	"github.com/forge-build/forge/pkg/engine"
	"github.com/forge-build/forge/pkg/fingerprint"
	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/plan"
	"github.com/forge-build/forge/pkg/registry"
)

// skipChecks decides which images need no build: those whose fingerprint
// matches the manifest's record and whose result is still everywhere this
// build would send it.
type skipChecks struct {
	prev         *manifest.Manifest
	fingerprints map[string]digest.Digest
	push         bool
	load         string
	files        bool
	stderr       io.Writer
}

func newSkipChecks(ctx context.Context, g *plan.Graph, prev *manifest.Manifest, forgeFiles []string,
	opts *buildOptions) (*skipChecks, error) {
	s := &skipChecks{
		prev:         prev,
		fingerprints: make(map[string]digest.Digest),
		push:         opts.push,
		load:         opts.load,
		files:        opts.output != "",
		stderr:       opts.stderr,
	}
	for _, n := range g.Exported() {
		fp, err := fingerprint.Node(ctx, n, forgeFiles)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", n.Name, err)
		}
		s.fingerprints[n.Name] = fp
	}
	return s, nil
}

// skip reports whether n can be reused as the manifest recorded it.
func (s *skipChecks) skip(ctx context.Context, n *plan.Node) (*buildkit.Result, bool) {
	art := s.prev.Artifacts[n.Name]
	switch {
	case art == nil, n.Image.NoCache, n.Image.Pull, s.files:
		return nil, false
	case art.Fingerprint != s.fingerprints[n.Name].String(), !slices.Equal(art.Tags, n.Image.Tags):
		return nil, false
	case s.push && !pushed(ctx, art):
		return nil, false
	case s.load != "" && !loaded(ctx, s.load, art):
		return nil, false
	}
	fmt.Fprintf(s.stderr, "%s: inputs unchanged since %s was built; not rebuilt\n", n.Name, art.Digest)
	return &buildkit.Result{Digest: digest.Digest(art.Digest), ConfigDigest: digest.Digest(art.ConfigDigest)}, true
}

// pushed reports whether every tag of art points at its digest in its
// registry.
func pushed(ctx context.Context, art *manifest.Artifact) bool {
	if !art.Pushed {
		return false
	}
	for _, tag := range art.Tags {
		if dgst, err := registry.Digest(ctx, tag); err != nil || dgst.String() != art.Digest {
			return false
		}
	}
	return true
}

// loaded reports whether every tag of art names its image in the engine.
func loaded(ctx context.Context, name string, art *manifest.Artifact) bool {
	if art.ConfigDigest == "" {
		return false
	}
	for _, tag := range art.Tags {
		if engine.ImageID(ctx, name, tag) != art.ConfigDigest {
			return false
		}
	}
	return true
}
