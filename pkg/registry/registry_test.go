package registry

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
)

type recorder struct{ hosts []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Host)
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	tests := []struct {
		url  string
		sent bool
	}{
		{"http://127.0.0.1:5000/v2/", true},
		{"http://localhost:5000/v2/", true},
		{"http://[::1]:5000/v2/", true},
		{"https://10.0.0.5:5000/v2/", true},
		{"https://registry.example.com/v2/", true},
		// A private address: the registry client would fall back to plain
		// HTTP there when HTTPS fails, credentials included.
		{"http://10.0.0.5:5000/v2/", false},
		{"http://192.168.1.20/v2/", false},
		{"http://registry.example.com/v2/", false},
	}
	for _, tt := range tests {
		next := &recorder{}
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = httpsBeyondLoopback{next}.RoundTrip(req)
		if sent := len(next.hosts) == 1; sent != tt.sent || (err == nil) != tt.sent {
			t.Errorf("GET %s: sent %t (error %v), want sent %t", tt.url, sent, err, tt.sent)
		}
	}
}

// serveRegistry starts an in-memory registry on host (a loopback address)
// holding one random image, tagged app:1, and returns the registry's
// host:port and the image's digest.
func serveRegistry(t *testing.T, host string) (string, digest.Digest) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		if host == "127.0.0.1" {
			t.Fatal(err)
		}
		// Not every machine has IPv6 or more than one loopback address.
		t.Skipf("cannot listen on %s: %v", host, err)
	}
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	addr := ln.Addr().String()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(addr+"/app:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return addr, digest.Digest(d.String())
}

// TestLoopbackRegistries checks that every loopback spelling is reached
// over plain HTTP, that Lookup tells a missing tag from a failure, and that
// Tag adds a tag.
func TestLoopbackRegistries(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "127.0.0.2", "[::1]"} {
		t.Run(host, func(t *testing.T) {
			addr, want := serveRegistry(t, strings.Trim(host, "[]"))
			if host == "127.0.0.1" {
				// The registry client's own rule knows these; spell
				// them another way.
				addr = "LOCALHOST" + addr[strings.LastIndex(addr, ":"):]
			}
			if got, err := Digest(t.Context(), addr+"/app:1"); err != nil || got != want {
				t.Fatalf("Digest(%s/app:1) = %s, %v; want %s", addr, got, err, want)
			}
			if got, err := Lookup(t.Context(), addr+"/app:2"); err != nil || got != "" {
				t.Errorf("Lookup of a missing tag = %q, %v; want \"\", nil", got, err)
			}
			if err := Tag(t.Context(), addr+"/app:1", want, addr+"/app:2"); err != nil {
				t.Fatal(err)
			}
			if got, err := Lookup(t.Context(), addr+"/app:2"); err != nil || got != want {
				t.Errorf("Lookup after Tag = %q, %v; want %s", got, err, want)
			}
		})
	}
	if _, err := Lookup(t.Context(), "127.0.0.1:1/app:1"); err == nil {
		t.Error("Lookup on a closed port = nil error, want one")
	}
}

// TestSilentRegistryFailsTheCall checks that a registry that accepts the
// connection and never answers fails the call once its time is up.
func TestSilentRegistryFailsTheCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	defer func(d time.Duration) { callTimeout = d }(callTimeout)
	callTimeout = 200 * time.Millisecond
	// A backstop, so that the test ends even if the call never would.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := Digest(ctx, ln.Addr().String()+"/app:1"); err == nil {
		t.Fatal("Digest() from a silent registry = nil error, want one")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Digest() from a silent registry took %v, want about %v", elapsed, callTimeout)
	}
}

// TestConfigDigest checks the configuration digest of an image, of an
// index holding one image besides an attestation, and that an index of
// two platforms has none.
func TestConfigDigest(t *testing.T) {
	addr, _ := serveRegistry(t, "127.0.0.1")
	img, _ := random.Image(64, 1)
	other, _ := random.Image(64, 1)
	attestation, _ := random.Image(64, 1)
	want, _ := img.ConfigName()
	platform := func(os, arch string) *v1.Platform { return &v1.Platform{OS: os, Architecture: arch} }
	attested := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform("linux", "amd64")}},
		mutate.IndexAddendum{Add: attestation, Descriptor: v1.Descriptor{Platform: platform("unknown", "unknown")}})
	multi := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platform("linux", "amd64")}},
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: platform("linux", "arm64")}})
	write := func(tag string, w remote.Taggable) {
		ref, _ := name.ParseReference(addr+"/cfg:"+tag, name.Insecure)
		var err error
		switch w := w.(type) {
		case v1.ImageIndex:
			err = remote.WriteIndex(ref, w)
		case v1.Image:
			err = remote.Write(ref, w)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("image", img)
	write("attested", attested)
	write("multi", multi)
	for tag, want := range map[string]string{"image": want.String(), "attested": want.String(), "multi": ""} {
		if got, err := ConfigDigest(t.Context(), addr+"/cfg:"+tag); err != nil || got.String() != want {
			t.Errorf("ConfigDigest(%s) = %q, %v; want %q", tag, got, err, want)
		}
	}
}
