// Package buildkit runs forge's build graphs on a BuildKit daemon: it
// connects to the daemon, solves each build node with BuildKit's built-in
// Dockerfile frontend, and shows the solves' progress.
package buildkit

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"golang.org/x/sync/singleflight"
)

// ConnectTimeout bounds how long Connect waits for a daemon to answer.
const ConnectTimeout = 5 * time.Second

// Client is a connection to one BuildKit daemon. It is safe for
// concurrent use: identical concurrent solves are coalesced into one.
type Client struct {
	bk       *client.Client
	addr     string
	platform string
	solves   singleflight.Group
}

// UnreachableError is returned by Connect when no daemon answers at Addr,
// and by a build whose daemon stopped answering before it finished.
type UnreachableError struct {
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach BuildKit at %s: %v", e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// TLS configures a TLS connection to a daemon. The zero value connects
// without TLS.
type TLS struct {
	// CACert is the CA certificate that verifies the daemon; setting it
	// turns TLS on.
	CACert string
	// Cert and Key are the client's certificate and key, for daemons that
	// verify their clients (mutual TLS).
	Cert, Key string
	// ServerName is the name to verify in the daemon's certificate; empty
	// means the address's host.
	ServerName string
}

func (t TLS) options(addr string) ([]client.ClientOpt, error) {
	if t.CACert == "" && t.Cert == "" && t.Key == "" {
		return nil, nil
	}
	if t.CACert == "" || (t.Cert == "") != (t.Key == "") {
		return nil, fmt.Errorf("TLS needs a CA certificate, and a client certificate and key together")
	}
	serverName := t.ServerName
	if serverName == "" {
		if u, err := url.Parse(addr); err == nil {
			serverName = u.Hostname()
		}
	}
	opts := []client.ClientOpt{client.WithServerConfig(serverName, t.CACert)}
	if t.Cert != "" {
		opts = append(opts, client.WithCredentials(t.Cert, t.Key))
	}
	return opts, nil
}

// Connect dials the daemon at addr (unix://PATH, tcp://HOST:PORT, or any
// scheme BuildKit's client accepts), with tls, and checks that it answers
// within ConnectTimeout. A daemon that does not answer yields an
// *UnreachableError.
func Connect(ctx context.Context, addr string, tls TLS) (*Client, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, &UnreachableError{Addr: addr, Err: fmt.Errorf("no socket: %w", err)}
		}
	}
	opts, err := tls.options(addr)
	if err != nil {
		return nil, err
	}
	bk, err := client.New(ctx, addr, opts...)
	if err != nil {
		return nil, &UnreachableError{Addr: addr, Err: err}
	}
	pingCtx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	workers, err := bk.ListWorkers(pingCtx)
	if err != nil {
		bk.Close()
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, &UnreachableError{Addr: addr, Err: err}
	}
	c := &Client{bk: bk, addr: addr}
	if len(workers) > 0 && len(workers[0].Platforms) > 0 {
		c.platform = platforms.Format(platforms.Normalize(workers[0].Platforms[0]))
	}
	return c, nil
}

// Platform returns the platform the daemon builds for when an image names
// none, as os/arch[/variant].
func (c *Client) Platform() string { return c.platform }

// Addr returns the address the client is connected to.
func (c *Client) Addr() string { return c.addr }

// BuildKit returns the underlying BuildKit client, for callers that need an
// API forge does not wrap.
func (c *Client) BuildKit() *client.Client { return c.bk }

// Close releases the connection.
func (c *Client) Close() error { return c.bk.Close() }
