package buildkit

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"

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
	// Ref is the solve's reference in the daemon's build history.
	Ref string
}

// Solve builds n once and exports it under all its tags with a single image
// export. Status updates go to status, which Solve closes when it returns;
// status may be nil.
func (c *Client) Solve(ctx context.Context, n *plan.Node, status chan *client.SolveStatus) (*Result, error) {
	opt, err := solveOpt(n)
	if err != nil {
		if status != nil {
			close(status)
		}
		return nil, err
	}
	resp, err := c.bk.Solve(ctx, nil, opt, status)
	if err != nil {
		return nil, fmt.Errorf("building image %s: %w", n.Name, err)
	}
	dgst, err := digest.Parse(resp.ExporterResponse[exptypes.ExporterImageDigestKey])
	if err != nil {
		return nil, fmt.Errorf("building image %s: export returned no valid digest: %w", n.Name, err)
	}
	return &Result{Node: n, Digest: dgst, Ref: opt.Ref}, nil
}

func solveOpt(n *plan.Node) (client.SolveOpt, error) {
	img := n.Image
	contextFS, err := fsutil.NewFS(img.Context)
	if err != nil {
		return client.SolveOpt{}, fmt.Errorf("image %s: build context: %w", n.Name, err)
	}
	dockerfileFS, err := fsutil.NewFS(filepath.Dir(img.Dockerfile))
	if err != nil {
		return client.SolveOpt{}, fmt.Errorf("image %s: dockerfile: %w", n.Name, err)
	}
	return client.SolveOpt{
		Frontend:      dockerfileFrontend,
		FrontendAttrs: frontendAttrs(img),
		// The frontend reads .dockerignore from the context and asks for
		// the context without the files it excludes.
		LocalMounts: map[string]fsutil.FS{
			dockerui.DefaultLocalNameContext:    contextFS,
			dockerui.DefaultLocalNameDockerfile: dockerfileFS,
		},
		Exports: []client.ExportEntry{{
			Type:  client.ExporterImage,
			Attrs: map[string]string{"name": strings.Join(img.Tags, ",")},
		}},
		Session: []session.Attachable{registryAuth()},
		Ref:     identity.NewID(),
	}, nil
}

func frontendAttrs(img *plan.Image) map[string]string {
	attrs := map[string]string{"filename": filepath.Base(img.Dockerfile)}
	if img.Target != "" {
		attrs["target"] = img.Target
	}
	for name, value := range img.Args {
		attrs["build-arg:"+name] = value
	}
	return attrs
}

// registryAuth answers the daemon's requests for registry credentials from
// the user's docker configuration (~/.docker/config.json or DOCKER_CONFIG).
func registryAuth() session.Attachable {
	cfg := config.LoadDefaultConfigFile(io.Discard)
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
	})
}
