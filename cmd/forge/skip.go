package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
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
//
// Fingerprints read every file of a context, so they are computed in the
// background, alongside the solves: a node waits for its own only when the
// manifest holds a record of the same declared inputs, the one case where
// the files decide whether to build.
type skipChecks struct {
	prev         *manifest.Manifest
	fingerprints map[string]*pending
	push         bool
	load         string
	files        bool
	provenance   string
	cacheTo      []plan.Cache
	forgeFiles   []string
	cache        *fingerprint.Cache
	// everyTime are the nodes solved on every build (solvedEveryTime).
	everyTime map[*plan.Node]bool
	// platform is the builder's, which images that name no platforms are
	// built for; set once connected.
	platform string
	// started is when the build started, before any solve read a file.
	started time.Time
	stderr  io.Writer
	// save waits for every fingerprint and stores the file digest cache.
	save func()
}

// pending is a fingerprint being computed.
type pending struct {
	done chan struct{}
	fp   digest.Digest
	err  error
}

// wait returns the fingerprint once computed, or ctx's error if ctx ends
// first: a failed or interrupted build does not wait for a large context
// to be hashed.
func (p *pending) wait(ctx context.Context) (digest.Digest, error) {
	select {
	case <-p.done:
		return p.fp, p.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

func newSkipChecks(ctx context.Context, g *plan.Graph, prev *manifest.Manifest, out buildkit.Outputs,
	opts *buildOptions) *skipChecks {
	s := &skipChecks{
		prev:         prev,
		fingerprints: make(map[string]*pending),
		push:         opts.push,
		load:         opts.load,
		files:        opts.output != "",
		provenance:   out.Provenance,
		cacheTo:      out.CacheTo,
		forgeFiles:   out.ForgeFiles,
		everyTime:    solvedEveryTime(g),
		started:      time.Now(),
		stderr:       opts.stderr,
	}
	cache := fingerprint.OpenCache(fingerprintCacheDir())
	s.cache = cache
	var wg sync.WaitGroup
	for _, n := range g.Exported() {
		p := &pending{done: make(chan struct{})}
		s.fingerprints[n.Name] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(p.done)
			p.fp, p.err = fingerprint.Node(ctx, n, out.ForgeFiles, cache)
		}()
	}
	s.save = func() {
		wg.Wait()
		// The cache only saves time later: a failure to save it is not
		// worth failing a build for.
		cache.Save()
	}
	return s
}

// fingerprintCacheDir returns where forge keeps file digests between
// builds: $XDG_CACHE_HOME/forge/file-digests.
func fingerprintCacheDir() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "forge-file-digests")
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "forge", "file-digests")
}

// fingerprint waits for the fingerprint of the node named name.
func (s *skipChecks) fingerprint(ctx context.Context, name string) (digest.Digest, error) {
	fp, err := s.fingerprints[name].wait(ctx)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", name, err)
	}
	return fp, nil
}

// recorded returns the fingerprint to record for n, which this build
// solved: the files' fingerprint, taken again now, when no file changed
// since the build started and it agrees with the one skip compared; else
// "", which makes the next build solve n again rather than trust a
// fingerprint of files the solve may not have read. (File timestamps come
// from a clock that advances once per tick, so a change in the first tick
// of the build may look older; the solve reads nothing that early, and the
// two fingerprints then disagree if they saw different files.)
func (s *skipChecks) recorded(ctx context.Context, n *plan.Node) digest.Digest {
	before, err := s.fingerprint(ctx, n.Name)
	if err == nil {
		var after digest.Digest
		after, err = fingerprint.Since(ctx, n, s.forgeFiles, s.cache, s.started)
		if err == nil && after == before {
			return after
		}
	}
	// The image is built, and pushed or loaded if asked: a fingerprint
	// that cannot be taken only costs the next build a solve.
	if err != nil {
		fmt.Fprintf(s.stderr, "warning: %s: no fingerprint recorded: %v\n", n.Name, err)
	} else {
		fmt.Fprintf(s.stderr, "%s: files changed while it was built; the next build will build it again\n", n.Name)
	}
	return ""
}

// skip reports whether n can be reused as the manifest recorded it.
func (s *skipChecks) skip(ctx context.Context, n *plan.Node) (*buildkit.Result, bool) {
	art := s.prev.Artifacts[n.Name]
	switch {
	case art == nil, s.files, s.everyTime[n]:
		return nil, false
	case art.Key != n.Key.String(), !slices.Equal(art.Tags, n.Image.Tags):
		return nil, false
	case !slices.Equal(sortedCopy(builtFor(n, s.platform)), sortedCopy(art.Inputs.Platforms)):
		// Another builder, of another platform, made it.
		return nil, false
	case s.provenance != "" && art.Provenance != s.provenance:
		// The build must attach an attestation the image lacks.
		return nil, false
	case !s.cachesExported(n, art):
		return nil, false
	}
	if fp, err := s.fingerprint(ctx, n.Name); err != nil || art.Fingerprint != fp.String() {
		return nil, false
	}
	switch {
	case s.push && !pushed(ctx, art):
		return nil, false
	case s.load != "" && !loaded(ctx, s.load, art):
		return nil, false
	}
	fmt.Fprintf(s.stderr, "%s: inputs unchanged since %s was built; not rebuilt\n", n.Name, art.Digest)
	return &buildkit.Result{Digest: digest.Digest(art.Digest), ConfigDigest: digest.Digest(art.ConfigDigest)}, true
}

// solvedEveryTime returns the nodes of g that are solved on every build:
// those with no_cache or pull, a named context fetched from a URL (such as
// a git branch), or a Dockerfile that ADDs a URL or a git repository
// without a checksum, and those built from or after such a node. What
// those hold now is not known without fetching them, so they are not
// skipped; BuildKit's cache makes their solve cheap when nothing moved.
func solvedEveryTime(g *plan.Graph) map[*plan.Node]bool {
	every := make(map[*plan.Node]bool, len(g.Nodes))
	// g.Nodes is in dependency order: a node's dependencies come first.
	for _, n := range g.Nodes {
		img := n.Image
		every[n] = img.NoCache || img.Pull || readsURL(img) || addsRemote(img) ||
			slices.ContainsFunc(n.Deps, func(d *plan.Node) bool { return every[d] })
	}
	return every
}

func readsURL(img *plan.Image) bool {
	for _, c := range img.Contexts {
		if c.Kind == plan.ContextURL {
			return true
		}
	}
	return false
}

// addsRemote reports whether img's Dockerfile has an ADD of a URL or a git
// repository that no --checksum pins. A Dockerfile that cannot be read or
// parsed adds nothing: the solve reports it.
func addsRemote(img *plan.Image) bool {
	src := []byte(img.DockerfileInline)
	if img.DockerfileInline == "" {
		data, err := os.ReadFile(img.Dockerfile)
		if err != nil {
			return false
		}
		src = data
	}
	result, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return false
	}
	for _, inst := range result.AST.Children {
		pinned := slices.ContainsFunc(inst.Flags, func(f string) bool {
			return strings.HasPrefix(f, "--checksum=")
		})
		if !strings.EqualFold(inst.Value, "add") || pinned {
			continue
		}
		var args []string
		for arg := inst.Next; arg != nil; arg = arg.Next {
			args = append(args, arg.Value)
		}
		// The last argument is the destination.
		for _, a := range args[:max(len(args)-1, 0)] {
			if remoteSource.MatchString(a) {
				return true
			}
		}
	}
	return false
}

// remoteSource matches the ADD sources BuildKit fetches: URLs and git
// repositories.
var remoteSource = regexp.MustCompile(`^(https?://|git://|ssh://|git@)`)

// builtFor returns the platforms n is built for: those it names, or the
// builder's.
func builtFor(n *plan.Node, builder string) []string {
	if len(n.Image.Platforms) > 0 || builder == "" {
		return n.Image.Platforms
	}
	return []string{builder}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// cachesExported reports whether the build that made art exported every
// cache this build would.
func (s *skipChecks) cachesExported(n *plan.Node, art *manifest.Artifact) bool {
	for _, c := range append(slices.Clone(n.Image.CacheTo), s.cacheTo...) {
		if !slices.Contains(art.Inputs.CacheTo, c.String()) {
			return false
		}
	}
	return true
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
