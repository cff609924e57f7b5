// Package registry talks to image registries directly, without a builder:
// it reads what a tag points to and adds tags to images already pushed,
// moving no layer. Credentials come from the user's docker configuration.
// Registries on loopback addresses are reached over plain HTTP, and only
// those: no other registry is sent credentials without TLS.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
)

// callTimeout bounds each call of this package. A call moves an image
// manifest or configuration at most, never a layer, so a registry that
// takes longer has stopped answering: the command fails instead of hanging.
var callTimeout = 30 * time.Second

// options returns the registry client's options for one call, and the
// function that ends the call's deadline.
func options(ctx context.Context) ([]remote.Option, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(httpsBeyondLoopback{remote.DefaultTransport})}, cancel
}

// parse parses ref, marking a loopback registry as one reached over plain
// HTTP: the registry client's own rule knows 127.0.0.1 and localhost only.
func parse(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil || !loopback(hostOf(r.Context().RegistryStr())) {
		return r, err
	}
	return name.ParseReference(ref, name.Insecure)
}

// hostOf returns the host of a registry's host[:port].
func hostOf(registry string) string {
	if host, _, err := net.SplitHostPort(registry); err == nil {
		return host
	}
	return strings.Trim(registry, "[]")
}

// httpsBeyondLoopback refuses plain HTTP to any host but a loopback one.
// The registry client falls back to HTTP for private addresses when HTTPS
// fails, which would send credentials in the clear; forge's builds push
// over plain HTTP to loopback registries only, and so does this package.
type httpsBeyondLoopback struct{ next http.RoundTripper }

func (t httpsBeyondLoopback) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !loopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: only loopback registries are reached without TLS",
			req.URL.Host)
	}
	return t.next.RoundTrip(req)
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Digest returns the digest the reference ref (a tag or a digest) points
// to in its registry. It fails when the registry cannot be reached or has
// no such image.
func Digest(ctx context.Context, ref string) (digest.Digest, error) {
	r, err := parse(ref)
	if err != nil {
		return "", err
	}
	opts, done := options(ctx)
	defer done()
	desc, err := remote.Head(r, opts...)
	if err != nil {
		return "", fmt.Errorf("looking up %s: %w", ref, err)
	}
	return digest.Digest(desc.Digest.String()), nil
}

// Lookup returns the digest the tag ref points to, or "" when the registry
// holds no such tag. It fails when the registry cannot be asked.
func Lookup(ctx context.Context, ref string) (digest.Digest, error) {
	dgst, err := Digest(ctx, ref)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return "", nil
	}
	return dgst, err
}

// Tag makes the tag dst point at the image src@dgst, which must already be
// in dst's repository. Only the small image manifest is written: no layer
// is pulled or pushed.
func Tag(ctx context.Context, src string, dgst digest.Digest, dst string) error {
	repo, err := parse(src)
	if err != nil {
		return err
	}
	pinned, err := parse(repo.Context().Name() + "@" + dgst.String())
	if err != nil {
		return err
	}
	dstRef, err := parse(dst)
	if err != nil {
		return err
	}
	tag, ok := dstRef.(name.Tag)
	if !ok {
		return fmt.Errorf("cannot tag %s as %s: not a tag", pinned, dst)
	}
	if tag.Context().Name() != pinned.Context().Name() {
		return fmt.Errorf("cannot tag %s as %s: a tag names an image of its own repository", pinned, dst)
	}
	opts, done := options(ctx)
	defer done()
	desc, err := remote.Get(pinned, opts...)
	if err != nil {
		return fmt.Errorf("reading %s: %w", pinned, err)
	}
	if err := remote.Tag(tag, desc, opts...); err != nil {
		return fmt.Errorf("tagging %s as %s: %w", pinned, dst, err)
	}
	return nil
}

// Platforms returns the manifest digest of each platform of the image
// index ref (NAME@DIGEST or a tag) points to, keyed as os/arch[/variant].
// Attestation manifests are left out. A single-platform image yields an
// empty map.
func Platforms(ctx context.Context, ref string) (map[string]digest.Digest, error) {
	r, err := parse(ref)
	if err != nil {
		return nil, err
	}
	opts, done := options(ctx)
	defer done()
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return platforms(desc, ref)
}

// platforms returns the platforms' manifests of desc, an index, as
// Platforms does; none when desc is an image manifest.
func platforms(desc *remote.Descriptor, ref string) (map[string]digest.Digest, error) {
	out := map[string]digest.Digest{}
	if !desc.MediaType.IsIndex() {
		return out, nil
	}
	index, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading the index of %s: %w", ref, err)
	}
	for _, m := range im.Manifests {
		if m.Platform == nil || m.Platform.OS == "unknown" {
			continue
		}
		out[m.Platform.String()] = digest.Digest(m.Digest.String())
	}
	return out, nil
}

// ConfigDigest returns the digest of the configuration of the image ref
// (NAME@DIGEST or a tag) points to: the image ID engines show. An index is
// looked through when it holds one image besides attestations; with
// several platforms there is no single configuration, and it returns "".
func ConfigDigest(ctx context.Context, ref string) (digest.Digest, error) {
	r, err := parse(ref)
	if err != nil {
		return "", err
	}
	opts, done := options(ctx)
	defer done()
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", ref, err)
	}
	manifests, err := platforms(desc, ref)
	if err != nil || len(manifests) > 1 {
		return "", err
	}
	for _, d := range manifests {
		if desc, err = remote.Get(r.Context().Digest(d.String()), opts...); err != nil {
			return "", fmt.Errorf("reading %s@%s: %w", r.Context(), d, err)
		}
	}
	img, err := desc.Image()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", ref, err)
	}
	config, err := img.ConfigName()
	if err != nil {
		return "", fmt.Errorf("reading the configuration of %s: %w", ref, err)
	}
	return digest.Digest(config.String()), nil
}
