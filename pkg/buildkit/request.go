package buildkit

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"

	"github.com/forge-build/forge/internal/atomicfile"
	"github.com/forge-build/forge/pkg/plan"
)

// request gathers what one solve sends to the daemon: frontend attributes
// per image, and the directories, OCI stores and session services shared
// by the whole solve.
type request struct {
	// attrs are the frontend attributes of each image solved in a gateway
	// build, by node name.
	attrs     map[string]map[string]string
	mounts    map[string]fsutil.FS
	ociStores map[string]content.Store
	// secrets and ssh gather every image's secrets and SSH forwards: a
	// session holds one provider of each.
	secrets []secretsprovider.Source
	ssh     []sshprovider.AgentConfig
	// hostNetwork is set when an image runs its steps on the host's network.
	hostNetwork bool
	// cleanup removes the temporary files the request created.
	cleanup []func()
	// files are the exports' files, published when the solve succeeds.
	files []*atomicfile.File
	// dirs are the local exports' directories, merged into their
	// destinations when the solve succeeds.
	dirs []*atomicfile.Dir
	// forgeFiles are files forge writes, kept out of every context.
	forgeFiles []string
}

func newRequest() *request {
	return &request{
		attrs:     map[string]map[string]string{},
		mounts:    map[string]fsutil.FS{},
		ociStores: map[string]content.Store{},
	}
}

func (r *request) close() {
	for _, f := range r.cleanup {
		f()
	}
}

// locals names the directories one image's build reads: its context and
// the directory holding its Dockerfile. The image solved by a plain solve
// uses the frontend's default names; images solved inside a gateway build
// get names of their own.
type locals struct {
	prefix string
}

func (l locals) context() string {
	if l.prefix == "" {
		return dockerui.DefaultLocalNameContext
	}
	return l.prefix + "context"
}

func (l locals) dockerfile() string {
	if l.prefix == "" {
		return dockerui.DefaultLocalNameDockerfile
	}
	return l.prefix + "dockerfile"
}

// named returns the session name of the named context name: a digest of
// it, since context names hold characters (debian:bookworm) that local and
// store names cannot.
func (l locals) named(name string) string {
	return "forge-named-" + digest.FromString(l.prefix + name).Encoded()[:16]
}

// addImage adds what img's build needs to r and returns its frontend
// attributes. Contexts naming other image blocks are left to the caller.
func (r *request) addImage(img *plan.Image, l locals) (map[string]string, error) {
	attrs := frontendAttrs(img)
	if err := r.addSources(img, l, attrs); err != nil {
		return nil, err
	}
	if err := r.addContexts(img, l, attrs); err != nil {
		return nil, err
	}
	if err := r.addSecrets(img); err != nil {
		return nil, err
	}
	r.hostNetwork = r.hostNetwork || img.Network == "host"
	return attrs, nil
}

func (r *request) addSources(img *plan.Image, l locals, attrs map[string]string) error {
	contextFS, err := r.localFS(img.Context)
	if err != nil {
		return fmt.Errorf("image %s: build context: %w", img.Name, err)
	}
	r.mounts[l.context()] = contextFS
	dockerfileDir := filepath.Dir(img.Dockerfile)
	if img.DockerfileInline != "" {
		if dockerfileDir, err = r.writeInline(img); err != nil {
			return err
		}
		attrs["filename"] = "Dockerfile"
	}
	dockerfileFS, err := fsutil.NewFS(dockerfileDir)
	if err != nil {
		return fmt.Errorf("image %s: dockerfile: %w", img.Name, err)
	}
	r.mounts[l.dockerfile()] = dockerfileFS
	return nil
}

// writeInline writes an inline Dockerfile to a temporary directory, removed
// when the request closes, and returns the directory.
func (r *request) writeInline(img *plan.Image) (string, error) {
	dir, err := os.MkdirTemp("", "forge-dockerfile-")
	if err != nil {
		return "", fmt.Errorf("image %s: inline Dockerfile: %w", img.Name, err)
	}
	r.cleanup = append(r.cleanup, func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(img.DockerfileInline), 0o600); err != nil {
		return "", fmt.Errorf("image %s: inline Dockerfile: %w", img.Name, err)
	}
	return dir, nil
}

func frontendAttrs(img *plan.Image) map[string]string {
	attrs := map[string]string{"filename": filepath.Base(img.Dockerfile)}
	set := func(key, value string) {
		if value != "" {
			attrs[key] = value
		}
	}
	set("target", img.Target)
	set("platform", strings.Join(img.Platforms, ","))
	if img.Network != "" && img.Network != "default" {
		attrs["force-network-mode"] = img.Network
	}
	if img.NoCache {
		attrs["no-cache"] = ""
	}
	if img.Pull {
		attrs["image-resolve-mode"] = "pull"
	}
	for name, value := range img.Args {
		attrs["build-arg:"+name] = value
	}
	for name, value := range img.Labels {
		attrs["label:"+name] = value
	}
	return attrs
}

// localFS returns the directory dir as the build sees it: without the
// files forge writes, so that a manifest written into a context does not
// change what the next build reads.
func (r *request) localFS(dir string) (fsutil.FS, error) {
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return nil, err
	}
	if own := plan.ForgeFilesIn(dir, r.forgeFiles); len(own) > 0 {
		return fsutil.NewFilterFS(fs, &fsutil.FilterOpt{ExcludePatterns: own})
	}
	return fs, nil
}

// addContexts passes img's named contexts that are not other image blocks.
func (r *request) addContexts(img *plan.Image, l locals, attrs map[string]string) error {
	for name, c := range img.Contexts {
		key := "context:" + name
		switch c.Kind {
		case plan.ContextDockerImage:
			attrs[key] = "docker-image://" + c.Ref
		case plan.ContextURL:
			attrs[key] = c.Ref
		case plan.ContextLocal:
			fs, err := r.localFS(c.Path)
			if err != nil {
				return fmt.Errorf("image %s: context %s: %w", img.Name, name, err)
			}
			r.mounts[l.named(name)] = fs
			attrs[key] = "local:" + l.named(name)
		case plan.ContextOCILayout:
			store, err := local.NewStore(c.Path)
			if err != nil {
				return fmt.Errorf("image %s: context %s: %w", img.Name, name, err)
			}
			r.ociStores[l.named(name)] = store
			attrs[key] = "oci-layout://" + l.named(name) + "@" + c.Digest.String()
		}
	}
	return nil
}

// addSecrets adds img's secrets and SSH forwards to those of the solve.
// Images solved together share them by id, so an id must name the same
// source in each.
func (r *request) addSecrets(img *plan.Image) error {
	for _, s := range img.Secrets {
		src := secretsprovider.Source{ID: s.ID, Env: s.Env, FilePath: s.File}
		i := slices.IndexFunc(r.secrets, func(o secretsprovider.Source) bool { return o.ID == s.ID })
		switch {
		case i < 0:
			r.secrets = append(r.secrets, src)
		case r.secrets[i] != src:
			return fmt.Errorf("image %s: secret %q has another source in an image built with it", img.Name, s.ID)
		}
	}
	for _, s := range img.SSH {
		i := slices.IndexFunc(r.ssh, func(o sshprovider.AgentConfig) bool { return o.ID == s.ID })
		switch {
		case i < 0:
			r.ssh = append(r.ssh, sshprovider.AgentConfig{ID: s.ID, Paths: s.Paths})
		case !slices.Equal(r.ssh[i].Paths, s.Paths):
			return fmt.Errorf("image %s: ssh %q forwards other keys in an image built with it", img.Name, s.ID)
		}
	}
	return nil
}

// attachables returns the session services of the solve: registry
// credentials, and one provider each of the secrets and SSH forwards. The
// values of secrets are read by these providers when a RUN step mounts
// them, and go nowhere else.
func (r *request) attachables() ([]session.Attachable, error) {
	auth, err := registryAuth()
	if err != nil {
		return nil, err
	}
	out := []session.Attachable{auth}
	if len(r.secrets) > 0 {
		store, err := secretsprovider.NewStore(r.secrets)
		if err != nil {
			return nil, fmt.Errorf("secrets: %w", err)
		}
		out = append(out, secretsprovider.NewSecretProvider(store))
	}
	if len(r.ssh) > 0 {
		agent, err := sshprovider.NewSSHAgentProvider(r.ssh)
		if err != nil {
			return nil, fmt.Errorf("ssh: %w", err)
		}
		out = append(out, agent)
	}
	return out, nil
}

// exportEntries returns the exports of n: one image export named by every
// tag at once (pushing them all when asked), plus a docker tarball for
// loading and a file output when asked. An image that is only loaded is
// exported once, as the tarball, named by every tag.
//
// The file output comes first: BuildKit answers a solve with one set of
// exporter results, each export's overwriting the one before, and the
// digest forge records must be the pushed or loaded image's, not that of
// a tarball written with other compression. A layout directory (tar=false)
// is indexed with those results too, so it is written with the same
// layers and annotations as the image that is pushed or loaded.
func (r *request) exportEntries(n *plan.Node, out Outputs) ([]client.ExportEntry, error) {
	name := strings.Join(n.Image.Tags, ",")
	var exports []client.ExportEntry
	if out.Files != nil {
		e, err := r.fileExport(n, out.Files, out.Load != nil && !out.Push)
		if err != nil {
			return nil, err
		}
		exports = append(exports, e)
	}
	if out.Push || out.Load == nil {
		attrs := map[string]string{"name": name}
		for k, v := range n.Image.Annotations {
			attrs["annotation."+k] = v
		}
		if out.Push {
			attrs["push"] = "true"
		}
		exports = append(exports, client.ExportEntry{Type: client.ExporterImage, Attrs: attrs})
	}
	if out.Load != nil {
		attrs := map[string]string{"name": name}
		if !out.Push {
			// The layers only travel through a pipe into a local engine,
			// which unpacks them at once: compressing them would be work
			// thrown away. A pushed image keeps the registry's compression,
			// so that the engine holds the digest that was pushed.
			attrs["compression"] = "uncompressed"
			attrs["force-compression"] = "true"
		}
		for k, v := range n.Image.Annotations {
			attrs["annotation."+k] = v
		}
		exports = append(exports, client.ExportEntry{
			Type:   client.ExporterDocker,
			Attrs:  attrs,
			Output: func(map[string]string) (io.WriteCloser, error) { return out.Load(n) },
		})
	}
	return exports, nil
}

// fileExport returns the export of f for n. uncompressed says that the
// image the build exports besides is a tarball of uncompressed layers.
func (r *request) fileExport(n *plan.Node, f *FileOutput,
	uncompressed bool) (client.ExportEntry, error) {
	dest := strings.ReplaceAll(f.Dest, "{image}", n.Name)
	attrs := map[string]string{"name": strings.Join(n.Image.Tags, ",")}
	for k, v := range n.Image.Annotations {
		attrs["annotation."+k] = v
	}
	switch {
	case f.Compression != "":
		attrs["compression"] = f.Compression
		attrs["force-compression"] = "true"
	case f.Dir && uncompressed:
		attrs["compression"] = "uncompressed"
		attrs["force-compression"] = "true"
	}
	if f.CompressionLevel != "" {
		attrs["compression-level"] = f.CompressionLevel
	}
	switch f.Type {
	case client.ExporterLocal:
		dir, err := r.createDir(dest)
		if err != nil {
			return client.ExportEntry{}, err
		}
		return client.ExportEntry{Type: client.ExporterLocal, OutputDir: dir}, nil
	case client.ExporterOCI, client.ExporterDocker:
		if f.Dir {
			attrs["tar"] = "false"
			return client.ExportEntry{Type: f.Type, Attrs: attrs, OutputDir: dest}, nil
		}
		return client.ExportEntry{Type: f.Type, Attrs: attrs,
			Output: func(map[string]string) (io.WriteCloser, error) { return r.createAtomic(dest) }}, nil
	}
	return client.ExportEntry{}, fmt.Errorf("output type %q is not oci, docker or local", f.Type)
}

// caches returns list as BuildKit takes it. A GitHub Actions cache gets
// the service's address and token from the runner's environment unless it
// names them, as buildx does: they only ever reach the builder.
func caches(list []plan.Cache) []client.CacheOptionsEntry {
	var out []client.CacheOptionsEntry
	for _, c := range list {
		attrs := c.Attrs
		if c.Type == "gha" {
			attrs = maps.Clone(attrs)
			for attr, env := range ghaEnv {
				if v := os.Getenv(env); v != "" && attrs[attr] == "" {
					attrs[attr] = v
				}
			}
		}
		out = append(out, client.CacheOptionsEntry{Type: c.Type, Attrs: attrs})
	}
	return out
}

// ghaEnv maps the attributes of a GitHub Actions cache to the runner's
// environment variables that hold them.
var ghaEnv = map[string]string{
	"token":  "ACTIONS_RUNTIME_TOKEN",
	"url":    "ACTIONS_CACHE_URL",
	"url_v2": "ACTIONS_RESULTS_URL",
}

// createAtomic opens the file for dest that an export writes. BuildKit
// closes it however the export ends, so closing does not publish it:
// publish does, once the solve succeeded; otherwise the request's cleanup
// removes it and dest stays as it was.
func (r *request) createAtomic(dest string) (io.WriteCloser, error) {
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	r.cleanup = append(r.cleanup, f.Abort)
	r.files = append(r.files, f)
	return heldFile{f}, nil
}

// createDir returns the directory a local export writes the image's files
// into. Like an export's file, they reach dest only when publish runs.
func (r *request) createDir(dest string) (string, error) {
	d, err := atomicfile.CreateDir(dest)
	if err != nil {
		return "", fmt.Errorf("output: %w", err)
	}
	r.cleanup = append(r.cleanup, d.Abort)
	r.dirs = append(r.dirs, d)
	return d.Path, nil
}

// heldFile is an export's file that its writer's Close leaves unpublished.
type heldFile struct{ *atomicfile.File }

func (heldFile) Close() error { return nil }

// publish moves the files the solve's exports wrote to their destinations.
func (r *request) publish() error {
	for _, f := range r.files {
		if err := f.Close(); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	for _, d := range r.dirs {
		if err := d.Close(); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	return nil
}
