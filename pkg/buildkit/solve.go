package buildkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/grpcerrors"
	"github.com/opencontainers/go-digest"
	"google.golang.org/grpc/codes"

	"github.com/forge-build/forge/pkg/plan"
)

// dockerfileFrontend is BuildKit's built-in Dockerfile frontend. Naming it
// runs the copy compiled into the daemon; no frontend image is pulled.
const dockerfileFrontend = "dockerfile.v0"

// Result is the outcome of one node's solve.
type Result struct {
	Node *plan.Node
	// Digest is the digest of the exported image manifest or index.
	Digest digest.Digest
	// Ref is the solve's reference in the daemon's build history; empty
	// when the node was skipped.
	Ref string
	// ConfigDigest is the digest of the image configuration, the image ID
	// docker and podman show.
	ConfigDigest digest.Digest
	// Skipped is true when the node's inputs were unchanged and no solve
	// ran.
	Skipped bool
}

// Outputs say where results go besides the builder's cache, and which
// caches every solve shares. The zero value keeps results in the builder.
type Outputs struct {
	// Push pushes every tag to its registry within the image export.
	Push bool
	// Load, when set, opens the writer that receives each node's image as
	// a docker-format tarball, as docker load and podman load read it.
	Load func(*plan.Node) (io.WriteCloser, error)
	// Files, when set, exports each node to files as well.
	Files *FileOutput
	// CacheFrom and CacheTo are added to every node's own caches.
	CacheFrom, CacheTo []plan.Cache
	// Provenance attaches a SLSA provenance attestation: "min" or "max";
	// empty attaches none.
	Provenance string
	// ForgeFiles are files forge writes, such as the manifest; they are
	// never sent as part of a build context.
	ForgeFiles []string
}

// FileOutput exports results to files: an "oci" or "docker" tarball at
// Dest (or, with Dir, an OCI layout directory), or the image's filesystem
// into the directory Dest ("local"). The text {image} in Dest is replaced
// by the node's name. Compression ("gzip", "zstd", "estargz" or
// "uncompressed") and CompressionLevel, when set, choose how the layers of
// an oci or docker output are compressed; BuildKit's default is gzip.
type FileOutput struct {
	Type             string
	Dest             string
	Dir              bool
	Compression      string
	CompressionLevel string
}

// Solve builds n once and exports it under all its tags with a single image
// export. Images n needs through named contexts are built inside the same
// solve and not exported. Status updates go to status, which Solve closes
// when it returns; status may be nil.
func (c *Client) Solve(ctx context.Context, n *plan.Node, out Outputs,
	status chan *client.SolveStatus) (*Result, error) {
	req := newRequest()
	defer req.close()
	opt, err := solveOpt(n, out, req)
	if err != nil {
		if status != nil {
			close(status)
		}
		return nil, err
	}
	var resp *client.SolveResponse
	if hasImageContexts(n) {
		// The daemon attaches attestations from the request's own
		// attributes: those of the build function's solves do not count.
		// The map stays non-nil: BuildKit's client adds the cache imports
		// to it.
		opt.Frontend, opt.FrontendAttrs = "", map[string]string{}
		if out.Provenance != "" {
			opt.FrontendAttrs["attest:provenance"] = "mode=" + out.Provenance
		}
		resp, err = c.bk.Build(ctx, opt, "forge", func(ctx context.Context, gw gateway.Client) (*gateway.Result, error) {
			return solveInGateway(ctx, gw, n, req, "")
		}, status)
	} else {
		resp, err = c.bk.Solve(ctx, nil, opt, status)
	}
	if err != nil && ctx.Err() == nil && grpcerrors.Code(err) == codes.Unavailable {
		// The daemon went away mid-build.
		err = &UnreachableError{Addr: c.addr, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("building image %s: %w", n.Name, err)
	}
	if err := req.publish(); err != nil {
		return nil, fmt.Errorf("building image %s: %w", n.Name, err)
	}
	dgst, err := digest.Parse(resp.ExporterResponse[exptypes.ExporterImageDigestKey])
	if err != nil {
		return nil, fmt.Errorf("building image %s: export returned no valid digest: %w", n.Name, err)
	}
	configDigest := digest.Digest(resp.ExporterResponse[exptypes.ExporterImageConfigDigestKey])
	return &Result{Node: n, Digest: dgst, ConfigDigest: configDigest, Ref: opt.Ref}, nil
}

// forImage returns the caches of the command line for n: {image} in an
// attribute's value stands for n's name.
func forImage(list []plan.Cache, n *plan.Node) []plan.Cache {
	out := make([]plan.Cache, len(list))
	for i, c := range list {
		attrs := make(map[string]string, len(c.Attrs))
		for k, v := range c.Attrs {
			attrs[k] = strings.ReplaceAll(v, "{image}", n.Name)
		}
		out[i] = plan.Cache{Type: c.Type, Attrs: attrs}
	}
	return out
}

func hasImageContexts(n *plan.Node) bool {
	for _, c := range n.Image.Contexts {
		if c.Kind == plan.ContextImage {
			return true
		}
	}
	return false
}

// solveOpt returns the options of n's solve. Without image contexts, n is
// solved by the Dockerfile frontend directly, under the frontend's default
// local names; otherwise the gateway build registers every image's locals.
func solveOpt(n *plan.Node, out Outputs, req *request) (client.SolveOpt, error) {
	req.forgeFiles = out.ForgeFiles
	exports, err := req.exportEntries(n, out)
	if err != nil {
		return client.SolveOpt{}, err
	}
	opt := client.SolveOpt{
		Frontend: dockerfileFrontend,
		// Solves of images that share a context directory share the
		// daemon's copy of it: after the first, only changes are sent.
		SharedKey:    digest.FromString(n.Image.Context).Encoded()[:32],
		Exports:      exports,
		CacheImports: caches(append(slices.Clone(n.Image.CacheFrom), forImage(out.CacheFrom, n)...)),
		CacheExports: caches(append(slices.Clone(n.Image.CacheTo), forImage(out.CacheTo, n)...)),
		Ref:          identity.NewID(),
	}
	if hasImageContexts(n) {
		err = addTree(n, req, map[*plan.Node]bool{})
	} else {
		opt.FrontendAttrs, err = req.addImage(n.Image, locals{})
	}
	if err != nil {
		return client.SolveOpt{}, err
	}
	if out.Provenance != "" && opt.FrontendAttrs != nil {
		// The attestation belongs to the exported image; with image
		// contexts, Solve asks for it on the gateway build.
		opt.FrontendAttrs["attest:provenance"] = "mode=" + out.Provenance
	}
	if req.hostNetwork {
		opt.AllowedEntitlements = []string{"network.host"}
	}
	opt.LocalMounts = req.mounts
	opt.OCIStores = req.ociStores
	if opt.Session, err = req.attachables(); err != nil {
		return client.SolveOpt{}, err
	}
	return opt, nil
}

// addTree registers the locals and session services of n and of every node
// solved with it, each under its own local names: the images its named
// contexts name, and theirs. A depends_on dependency is built in a solve
// of its own, so its secrets and entitlements stay out of this one.
func addTree(n *plan.Node, req *request, seen map[*plan.Node]bool) error {
	if seen[n] {
		return nil
	}
	seen[n] = true
	attrs, err := req.addImage(n.Image, nodeLocals(n))
	if err != nil {
		return err
	}
	req.attrs[n.Name] = attrs
	for _, name := range slices.Sorted(maps.Keys(n.Image.Contexts)) {
		c := n.Image.Contexts[name]
		if c.Kind != plan.ContextImage {
			continue
		}
		dep := depNode(n, c.Image)
		if dep == nil {
			return fmt.Errorf("image %s: no build node for context %s (image.%s)", n.Name, name, c.Image)
		}
		if err := addTree(dep, req, seen); err != nil {
			return err
		}
	}
	return nil
}

func nodeLocals(n *plan.Node) locals {
	return locals{prefix: "forge-" + n.Name + "-"}
}

// solveInGateway solves n with the Dockerfile frontend after the images its
// named contexts name, passing each of those results in as a frontend
// input together with its image configuration. An image that names no
// platforms is built for platform, when given: that of the image using it.
func solveInGateway(ctx context.Context, gw gateway.Client, n *plan.Node, req *request,
	platform string) (*gateway.Result, error) {
	l := nodeLocals(n)
	attrs := maps.Clone(req.attrs[n.Name])
	attrs["dockerfilekey"] = l.dockerfile()
	if platform != "" && len(n.Image.Platforms) == 0 {
		attrs["platform"] = platform
	}
	// The solve's cache imports reach the build function, not the
	// frontends it calls: pass them on.
	if imports := gw.BuildOpts().Opts["cache-imports"]; imports != "" {
		attrs["cache-imports"] = imports
	}
	excludes, err := n.Image.IgnorePatterns()
	if err != nil {
		return nil, err
	}
	excludes = append(excludes, n.Image.ForgeFiles(req.forgeFiles)...)
	inputs := map[string]*pb.Definition{}
	contextDef, err := llb.Local(l.context(), llb.ExcludePatterns(excludes),
		llb.SharedKeyHint(n.Image.Context)).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	inputs[dockerui.DefaultLocalNameContext] = contextDef.ToPB()
	targets := n.Image.Platforms
	if len(targets) == 0 && platform != "" {
		targets = []string{platform}
	}
	for name, c := range n.Image.Contexts {
		if c.Kind != plan.ContextImage {
			continue
		}
		if err := addImageInput(ctx, gw, n, targets, name, c.Image, req, attrs, inputs); err != nil {
			return nil, err
		}
	}
	return gw.Solve(ctx, gateway.SolveRequest{
		Frontend:       dockerfileFrontend,
		FrontendOpt:    attrs,
		FrontendInputs: inputs,
	})
}

// addImageInput solves the node that image belongs to and passes its result
// to n's solve as the named context name. n is built for targets (none:
// the builder's). A dependency that names no platforms is built for each of
// n's, and passed in per platform, as the frontend looks a named context up
// by NAME::PLATFORM first; so is each platform of a dependency built for
// several.
func addImageInput(ctx context.Context, gw gateway.Client, n *plan.Node, targets []string, name, image string,
	req *request, attrs map[string]string, inputs map[string]*pb.Definition) error {
	dep := depNode(n, image)
	if dep == nil {
		return fmt.Errorf("image %s: no build node for context %s (image.%s)", n.Name, name, image)
	}
	if len(dep.Image.Platforms) == 0 && len(targets) > 1 {
		for _, p := range targets {
			id, err := platformID(p)
			if err != nil {
				return fmt.Errorf("image %s: %w", n.Name, err)
			}
			res, err := solveInGateway(ctx, gw, dep, req, id)
			if err != nil {
				return err
			}
			if err := addPlatformInput(ctx, dep, name+"::"+id, id, res, attrs, inputs); err != nil {
				return err
			}
		}
		return nil
	}
	platform := ""
	if len(targets) == 1 {
		platform = targets[0]
	}
	res, err := solveInGateway(ctx, gw, dep, req, platform)
	if err != nil {
		return err
	}
	if res.Ref != nil || len(res.Refs) == 0 {
		return addPlatformInput(ctx, dep, name, "", res, attrs, inputs)
	}
	return addPlatformInputs(ctx, gw, n, dep, targets, name, res, attrs, inputs)
}

// addPlatformInputs passes the platforms of dep's multi-platform result
// res that n is built for: each as NAME::PLATFORM, or, when n is built for
// the builder's platform, that platform's as NAME.
func addPlatformInputs(ctx context.Context, gw gateway.Client, n, dep *plan.Node, targets []string, name string,
	res *gateway.Result, attrs map[string]string, inputs map[string]*pb.Definition) error {
	wanted := targets
	if len(wanted) == 0 {
		wanted = []string{builderPlatform(gw)}
	}
	for _, p := range wanted {
		id, err := platformID(p)
		if err != nil {
			return fmt.Errorf("image %s: %w", n.Name, err)
		}
		if res.Refs[id] == nil {
			return fmt.Errorf("image %s: context %s: image %s is built for %s, not for %s",
				n.Name, name, dep.Name, strings.Join(dep.Image.Platforms, ", "), id)
		}
		contextName := name + "::" + id
		if len(targets) == 0 {
			contextName = name
		}
		if err := addPlatformInput(ctx, dep, contextName, id, res, attrs, inputs); err != nil {
			return err
		}
	}
	return nil
}

// addPlatformInput passes the result of dep for platform id (empty: its
// only result) as the named context contextName.
func addPlatformInput(ctx context.Context, dep *plan.Node, contextName, id string, res *gateway.Result,
	attrs map[string]string, inputs map[string]*pb.Definition) error {
	key, configKey := "forge-image-"+dep.Name, exptypes.ExporterImageConfigKey
	ref := res.Ref
	if id != "" {
		key += "-" + strings.ReplaceAll(id, "/", "-")
		if res.Ref == nil {
			ref, configKey = res.Refs[id], configKey+"/"+id
		}
	}
	if ref == nil {
		return fmt.Errorf("image %s: no result to pass as context %s", dep.Name, contextName)
	}
	return addInput(ctx, key, contextName, ref, res.Metadata[configKey], attrs, inputs)
}

// platformID returns p as the frontend names a platform's result.
func platformID(p string) (string, error) {
	spec, err := platforms.Parse(p)
	if err != nil {
		return "", fmt.Errorf("platform %s: %w", p, err)
	}
	return platforms.FormatAll(platforms.Normalize(spec)), nil
}

// builderPlatform returns the platform the builder builds for when asked
// for none: its first worker's first.
func builderPlatform(gw gateway.Client) string {
	for _, w := range gw.BuildOpts().Workers {
		if len(w.Platforms) > 0 {
			return platforms.FormatAll(platforms.Normalize(w.Platforms[0]))
		}
	}
	return platforms.DefaultString()
}

// addInput passes ref, with its image configuration config, to a solve as
// the named context name, under the input key.
func addInput(ctx context.Context, key, name string, ref gateway.Reference, config []byte,
	attrs map[string]string, inputs map[string]*pb.Definition) error {
	st, err := ref.ToState()
	if err != nil {
		return err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	inputs[key] = def.ToPB()
	attrs["context:"+name] = "input:" + key
	if config != nil {
		meta, err := json.Marshal(map[string][]byte{exptypes.ExporterImageConfigKey: config})
		if err != nil {
			return err
		}
		attrs["input-metadata:"+key] = string(meta)
	}
	return nil
}

// depNode returns the node among n's dependencies that builds image.
func depNode(n *plan.Node, image string) *plan.Node {
	for _, d := range n.Deps {
		for _, name := range d.Images {
			if name == image {
				return d
			}
		}
	}
	return nil
}

// registryAuth answers the daemon's requests for registry credentials from
// the user's docker configuration (~/.docker/config.json or DOCKER_CONFIG).
// A configuration that cannot be read is an error, rather than a registry
// refusing credentials that were silently dropped.
func registryAuth() (session.Attachable, error) {
	cfg, err := config.Load(config.Dir())
	if err != nil {
		return nil, fmt.Errorf("registry credentials: %w", err)
	}
	if !cfg.ContainsAuth() {
		cfg.CredentialsStore = credentials.DetectDefaultStore(cfg.CredentialsStore)
	}
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
	}), nil
}
