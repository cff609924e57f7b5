package main

// End-to-end test of a remote builder: a second buildkitd on TCP loopback
// with mutual TLS, which imports the registry cache the first exported.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forge-build/forge/pkg/buildkit"
)

// tlsFiles are the PEM files of a CA, a server and a client certificate.
type tlsFiles struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func writeTLSFiles(t *testing.T, dir string) tlsFiles {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forge test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	f := tlsFiles{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, f.ca, "CERTIFICATE", caDER)
	issue := func(name string, usage x509.ExtKeyUsage, serial int64) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "EC PRIVATE KEY", keyDER)
		return certPath, keyPath
	}
	f.serverCert, f.serverKey = issue("server", x509.ExtKeyUsageServerAuth, 2)
	f.clientCert, f.clientKey = issue("client", x509.ExtKeyUsageClientAuth, 3)
	return f
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSBuilder starts a buildkitd of its own on a TCP loopback port that
// requires mutual TLS, and returns its address.
func startTLSBuilder(t *testing.T, f tlsFiles) string {
	t.Helper()
	addr := "tcp://" + closedPort(t)
	cmd := exec.Command(buildkitdBin, "--root", filepath.Join(t.TempDir(), "root"), "--addr", addr,
		"--tlscacert", f.ca, "--tlscert", f.serverCert, "--tlskey", f.serverKey,
		"--oci-worker=true", "--containerd-worker=false")
	logFile, err := os.Create(filepath.Join(t.TempDir(), "buildkitd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	tls := buildkit.TLS{CACert: f.ca, Cert: f.clientCert, Key: f.clientKey}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := buildkit.Connect(ctx, addr, tls)
		cancel()
		if err == nil {
			c.Close()
			return addr
		}
		time.Sleep(200 * time.Millisecond)
	}
	data, _ := os.ReadFile(logFile.Name())
	t.Fatalf("TLS buildkitd did not answer on %s:\n%s", addr, data)
	return ""
}

func TestRemoteTLSBuilderImportsRegistryCache(t *testing.T) {
	requireDaemon(t)
	reg := startRegistry(t)
	cacheRef := reg.addr + "/forge/cache:app"
	project := writeProject(t, map[string]string{
		"forge.hcl": `image "app" {
  tags = ["forge.test/remote:1"]
}
`,
		"Dockerfile": busyboxDockerfile +
			"COPY data.txt /data.txt\n" +
			"RUN [\"/bin/sh\", \"-c\", \"cp /data.txt /copy.txt\"]\n",
		"data.txt": "remote\n",
	})
	writeBusybox(t, project)
	file := filepath.Join(project, "forge.hcl")

	// The local builder exports its cache to the registry.
	local := newEnv(t)
	res := local.forge("build", "-f", file, "--progress", "quiet", "--cache-to", "type=registry,ref="+cacheRef+",mode=max")
	if res.code != 0 {
		t.Fatalf("forge build --cache-to: exit %d\n%s", res.code, res.stderr)
	}

	// A fresh remote builder, reached over mutual TLS, imports it.
	tls := writeTLSFiles(t, t.TempDir())
	addr := startTLSBuilder(t, tls)
	remote := &env{t: t, vars: local.vars}
	res = remote.forge("build", "-f", file, "--progress", "plain", "--builder", addr,
		"--tlscacert", tls.ca, "--tlscert", tls.clientCert, "--tlskey", tls.clientKey,
		"--cache-from", "type=registry,ref="+cacheRef, "--manifest", filepath.Join(t.TempDir(), "m.json"))
	if res.code != 0 {
		t.Fatalf("forge build on the TLS builder: exit %d\n%s", res.code, res.stderr)
	}
	for _, step := range []string{"RUN [\"/bin/busybox\"", "COPY data.txt", "RUN [\"/bin/sh\""} {
		if !stepCached(res.stderr, step) {
			t.Errorf("step %s was not CACHED on the remote builder:\n%s", step, res.stderr)
		}
	}

	// Without the client certificate the builder refuses, quickly.
	res = remote.forge("build", "-f", file, "--builder", addr, "--progress", "quiet")
	if res.code != exitBuilder || res.elapsed > 5*time.Second {
		t.Errorf("forge build without TLS: exit %d after %s, want %d within 5s\n%s",
			res.code, res.elapsed, exitBuilder, res.stderr)
	}
}

// stepCached reports whether the plain progress output shows the step
// whose name contains text as CACHED.
func stepCached(output, text string) bool {
	re := regexp.MustCompile(`(?m)^#(\d+) \[[^\]]*\] ` + regexp.QuoteMeta(text))
	for _, m := range re.FindAllStringSubmatch(output, -1) {
		if strings.Contains(output, fmt.Sprintf("#%s CACHED", m[1])) {
			return true
		}
	}
	return false
}
