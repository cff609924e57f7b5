package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/tonistiigi/fsutil"
)

// bareSolve is one solve of the benchmark image with BuildKit's client and
// nothing else: no configuration, planning, fingerprint or manifest.
type bareSolve struct {
	addr, context, layout, digest, bust string
	// output is "load" (a docker tarball at dest, its layers compressed
	// with compression, BuildKit's default when empty) or "push" (tags
	// pushed).
	output, compression, dest string
	tags                      []string
}

func (b bareSolve) args() []string {
	return []string{b.addr, b.context, b.layout, b.digest, b.bust, b.output, b.compression, b.dest,
		strings.Join(b.tags, ",")}
}

// runBare runs the bare solve described by args, as bareSolve.args writes
// them. It runs in a process of its own so that its memory is measured.
func runBare(args []string) error {
	if len(args) != 9 {
		return fmt.Errorf("want 9 arguments, got %d", len(args))
	}
	b := bareSolve{addr: args[0], context: args[1], layout: args[2], digest: args[3], bust: args[4],
		output: args[5], compression: args[6], dest: args[7], tags: strings.Split(args[8], ",")}
	return b.solve(context.Background())
}

func (b bareSolve) solve(ctx context.Context) error {
	c, err := client.New(ctx, b.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	fs, err := fsutil.NewFS(b.context)
	if err != nil {
		return err
	}
	store, err := local.NewStore(b.layout)
	if err != nil {
		return err
	}
	export := client.ExportEntry{Type: client.ExporterImage,
		Attrs: map[string]string{"name": strings.Join(b.tags, ","), "push": "true"}}
	if b.output == "load" {
		attrs := map[string]string{"name": strings.Join(b.tags, ",")}
		if b.compression != "" {
			attrs["compression"], attrs["force-compression"] = b.compression, "true"
		}
		export = client.ExportEntry{Type: client.ExporterDocker, Attrs: attrs,
			Output: func(map[string]string) (io.WriteCloser, error) { return os.Create(b.dest) }}
	}
	creds, err := dockerconfig.Load(dockerconfig.Dir())
	if err != nil {
		return fmt.Errorf("registry credentials: %w", err)
	}
	_, err = c.Solve(ctx, nil, client.SolveOpt{
		Frontend: "dockerfile.v0",
		FrontendAttrs: map[string]string{
			"filename":                     "Dockerfile",
			"build-arg:BUST":               b.bust,
			"context:debian:bookworm-slim": "oci-layout://base@" + b.digest,
		},
		LocalMounts: map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		OCIStores:   map[string]content.Store{"base": store},
		Exports:     []client.ExportEntry{export},
		Session: []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(creds),
		})},
	}, nil)
	return err
}
