package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"github.com/forge-build/forge/pkg/manifest"
	"github.com/forge-build/forge/pkg/registry"
)

type releaseOptions struct {
	*globalOptions
	tags     []string
	manifest string
	json     bool
	force    bool
	images   []string
	stdout   io.Writer
	stderr   io.Writer
}

func newReleaseCmd(g *globalOptions, stdout, stderr io.Writer) *cobra.Command {
	opts := &releaseOptions{globalOptions: g, stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "release --tag TAG [IMAGE ...]",
		Short: "Add tags to the pushed images the manifest records, without rebuilding",
		Long: "Give each pushed image the manifest records (or only the named ones) the tag\n" +
			"TAG in every repository it was pushed to, registry-side: only the image\n" +
			"manifest is written, no layer moves. The manifest records each promotion.",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.images = args
			return runRelease(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.tags, "tag", nil, "tag to add, as in v1.2.3 (repeatable; required)")
	cmd.Flags().StringVar(&opts.manifest, "manifest", "",
		"manifest path (default "+manifest.DefaultName+" next to the configuration file)")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print the promotions as JSON")
	cmd.Flags().BoolVar(&opts.force, "force", false, "move tags that already name another image")
	return cmd
}

// promotion is one tag release added.
type promotion struct {
	Image  string `json:"image"`
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
}

func runRelease(ctx context.Context, opts *releaseOptions) error {
	if len(opts.tags) == 0 {
		return &usageError{errors.New("--tag is required")}
	}
	for _, t := range opts.tags {
		if !reference.TagRegexp.MatchString(t) || len(reference.TagRegexp.FindString(t)) != len(t) {
			return &usageError{fmt.Errorf("--tag %q is not a valid tag", t)}
		}
	}
	path := manifestPathFor(opts.file, opts.manifest)
	m, err := manifest.Read(path)
	if err != nil {
		return err
	}
	names, err := releaseTargets(m, opts.images)
	if err != nil {
		return err
	}
	plan, err := releasePlan(m, names, distinct(opts.tags))
	if err != nil {
		return err
	}
	if err := checkMoves(ctx, plan, opts.force); err != nil {
		return err
	}
	done, releaseErr := promote(ctx, m, plan)
	// What did happen is printed and recorded even when a later tag
	// failed: those tags have moved.
	printErr := printPromotions(opts, done)
	var recordErr error
	if len(done) > 0 {
		// Under the lock builds take: a build recording meanwhile keeps
		// its records.
		recordErr = manifest.Update(path, func(cur *manifest.Manifest) error {
			for _, p := range recordPromotions(cur, m, done) {
				fmt.Fprintf(opts.stderr, "warning: %s now points at %s, but the manifest records another build "+
					"of %s since; the promotion is not recorded\n", p.Tag, p.Digest, p.Image)
			}
			return nil
		})
		if recordErr != nil {
			recordErr = fmt.Errorf("the tags above moved, but recording them failed: %w", recordErr)
		}
	}
	return errors.Join(releaseErr, recordErr, printErr)
}

// releaseTargets returns the artifacts to release: the named ones, each of
// which must have been pushed, or, when none is named, every pushed one.
func releaseTargets(m *manifest.Manifest, images []string) ([]string, error) {
	if len(images) == 0 {
		var names []string
		for name, art := range m.Artifacts {
			if art.Pushed {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return nil, &usageError{errors.New(
				"the manifest records no pushed image; build with --push first")}
		}
		sort.Strings(names)
		return names, nil
	}
	var names []string
	for _, image := range images {
		name := artifactOf(m, image)
		if name == "" {
			return nil, &usageError{fmt.Errorf("the manifest records no image %q", image)}
		}
		if !m.Artifacts[name].Pushed {
			return nil, &usageError{fmt.Errorf(
				"image %s was not pushed; build it with --push first", image)}
		}
		names = append(names, name)
	}
	return distinct(names), nil
}

// artifactOf returns the name under which m records image: its own, or
// that of the build it was merged into.
func artifactOf(m *manifest.Manifest, image string) string {
	if m.Artifacts[image] != nil {
		return image
	}
	for _, name := range slices.Sorted(maps.Keys(m.Artifacts)) {
		if slices.Contains(m.Artifacts[name].Images, image) {
			return name
		}
	}
	return ""
}

// distinct returns list without repetitions, in order.
func distinct(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkMoves refuses, before any tag moves, a plan that would move a tag
// the registry already has on another image, unless force: a published
// release tag moves only when asked to.
func checkMoves(ctx context.Context, plan []*tagging, force bool) error {
	var taken []string
	for _, t := range plan {
		current, err := registry.Lookup(ctx, t.dst)
		if err != nil {
			return fmt.Errorf("releasing %s: %w", strings.Join(t.images, ", "), err)
		}
		if current != "" && current.String() != t.digest {
			taken = append(taken, fmt.Sprintf("%s names %s, not %s's %s", t.dst, current,
				strings.Join(t.images, ", "), t.digest))
		}
	}
	if len(taken) > 0 && !force {
		return fmt.Errorf("no tag moved: %s; release with --force to move them",
			strings.Join(taken, "; "))
	}
	return nil
}

// tagging is one registry-side tag release writes: dst, a REPO:TAG, is
// made to point at digest, which src already names. images are the
// artifacts it releases.
type tagging struct {
	images []string
	src    string
	dst    string
	digest string
}

// releasePlan returns the taggings that give each artifact's digest each
// tag in every repository the artifact was pushed to. Artifacts with the
// same digest share a tagging; a REPO:TAG two different digests would
// claim is refused before anything is tagged.
func releasePlan(m *manifest.Manifest, names, tags []string) ([]*tagging, error) {
	var plan []*tagging
	byDst := make(map[string]*tagging)
	for _, name := range names {
		art := m.Artifacts[name]
		for _, src := range repositories(art.Tags) {
			for _, tag := range tags {
				dst := src.repo + ":" + tag
				prev := byDst[dst]
				switch {
				case prev == nil:
					t := &tagging{images: []string{name}, src: src.tag, dst: dst, digest: art.Digest}
					byDst[dst] = t
					plan = append(plan, t)
				case prev.digest == art.Digest:
					prev.images = append(prev.images, name)
				default:
					return nil, &usageError{fmt.Errorf("release would point %s at both "+
						"%s (%s) and %s (%s), which were pushed to the same repository; "+
						"release one of them: forge release --tag %s IMAGE",
						dst, prev.images[0], prev.digest, name, art.Digest, tag)}
				}
			}
		}
	}
	return plan, nil
}

// promote carries out plan, recording each promotion in m as it succeeds.
// It stops at the first failure.
func promote(ctx context.Context, m *manifest.Manifest, plan []*tagging) ([]promotion, error) {
	done := []promotion{}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, t := range plan {
		if err := registry.Tag(ctx, t.src, digest.Digest(t.digest), t.dst); err != nil {
			return done, fmt.Errorf("releasing %s: %w", strings.Join(t.images, ", "), err)
		}
		for _, name := range t.images {
			art := m.Artifacts[name]
			if !promoted(art, t.dst) {
				art.Promotions = append(art.Promotions, manifest.Promotion{Tag: t.dst, At: now})
			}
			done = append(done, promotion{Image: name, Tag: t.dst, Digest: t.digest})
		}
	}
	return done, nil
}

type repoTag struct{ repo, tag string }

// repositories returns each repository tags name once, with the first tag
// naming it.
func repositories(tags []string) []repoTag {
	var out []repoTag
	for _, t := range tags {
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			continue
		}
		repo := named.Name()
		if !slices.ContainsFunc(out, func(r repoTag) bool { return r.repo == repo }) {
			out = append(out, repoTag{repo: repo, tag: t})
		}
	}
	return out
}

func printPromotions(opts *releaseOptions, done []promotion) error {
	if opts.json {
		enc := json.NewEncoder(opts.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(done)
	}
	for _, p := range done {
		fmt.Fprintf(opts.stdout, "%s\t%s\t%s\n", p.Image, p.Tag, p.Digest)
	}
	return nil
}

// recordPromotions copies the promotions in done from released to cur,
// for artifacts cur still records with the digest that was tagged, and
// returns those it could not record. A tag is recorded once per artifact,
// and no longer on any artifact of another digest: it has moved.
func recordPromotions(cur, released *manifest.Manifest, done []promotion) []promotion {
	var dropped []promotion
	for _, p := range done {
		for _, other := range cur.Artifacts {
			if other.Digest != p.Digest {
				other.Promotions = slices.DeleteFunc(other.Promotions,
					func(pr manifest.Promotion) bool { return pr.Tag == p.Tag })
			}
		}
		art := cur.Artifacts[p.Image]
		if art == nil || art.Digest != p.Digest {
			dropped = append(dropped, p)
			continue
		}
		for _, pr := range released.Artifacts[p.Image].Promotions {
			if pr.Tag == p.Tag && !promoted(art, pr.Tag) {
				art.Promotions = append(art.Promotions, pr)
			}
		}
	}
	return dropped
}

// promoted reports whether art records a promotion to tag.
func promoted(art *manifest.Artifact, tag string) bool {
	return slices.ContainsFunc(art.Promotions, func(p manifest.Promotion) bool { return p.Tag == tag })
}
