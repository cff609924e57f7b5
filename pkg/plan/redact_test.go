package plan

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:TOKEN@github.com/org/repo.git#main:dir", "https://xxxxx@github.com/org/repo.git#main:dir"},
		{"https://TOKEN@github.com/org/repo.git", "https://xxxxx@github.com/org/repo.git"},
		{"https://a:b@c@host:8443/x?y=1", "https://xxxxx@host:8443/x?y=1"},
		{"https://github.com/org/repo.git#main", "https://github.com/org/repo.git#main"},
		{"https://host/path@with-at", "https://host/path@with-at"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"registry.example.com/cache:app", "registry.example.com/cache:app"},
		{"https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=rw&sig=SECRET%3D#frag",
			"https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=rw&sig=xxxxx#frag"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA&X-Amz-Signature=abc&X-Amz-Expires=60",
			"https://b.s3.amazonaws.com/k?X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx&X-Amz-Expires=60"},
		{"https://h/k?X-Amz-Security-Token=t&a=1", "https://h/k?X-Amz-Security-Token=xxxxx&a=1"},
		{"https://u:p@host/x.tar?access_token=t&ref=main&key=k",
			"https://xxxxx@host/x.tar?access_token=xxxxx&ref=main&key=xxxxx"},
		{"https://host/x?flag&y=1", "https://host/x?flag&y=1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCredentialsNeverDescribed checks that the credentials cache entries
// and URL contexts carry reach neither the plan's description nor the
// strings the manifest records, and that the build still gets them.
func TestCredentialsNeverDescribed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, `image "app" {
  cache_from = ["type=gha,token=CANARY1,scope=app", "type=s3,region=eu,bucket=b,access_key_id=CANARY2,secret_access_key=CANARY3,session_token=CANARY4"]
  cache_to   = ["type=azblob,account_url=https://acct:CANARY5@example.blob.core.windows.net,secret_access_key=CANARY6",
                "type=azblob,name=x,account_url=https://acct.blob.core.windows.net?sv=2022&sig=CANARY8"]
  contexts   = { src = "https://x-access-token:CANARY7@github.com/org/repo.git#main" }
}
`)
	cfg, diags := NewParser().Load(path, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	described, err := json.Marshal(Describe(g))
	if err != nil {
		t.Fatal(err)
	}
	img := g.Node("app").Image
	shown := []string{string(described), img.Contexts["src"].String()}
	for _, c := range append(img.CacheFrom, img.CacheTo...) {
		shown = append(shown, c.String())
	}
	for _, s := range shown {
		if strings.Contains(s, "CANARY") {
			t.Errorf("a credential is shown: %s", s)
		}
	}
	if img.CacheFrom[0].Attrs["token"] != "CANARY1" || !strings.Contains(img.Contexts["src"].Ref, "CANARY7") {
		t.Error("the build's own cache and context settings lost their credentials")
	}
}

// TestNamedContextString checks that each kind of named context reads as
// it is written in forge.hcl, so that a registry image and a directory
// with the same text are told apart.
func TestNamedContextString(t *testing.T) {
	tests := []struct {
		c    NamedContext
		want string
	}{
		{NamedContext{Kind: ContextImage, Image: "base"}, "image.base"},
		{NamedContext{Kind: ContextDockerImage, Ref: "alpine:3.20"}, "docker-image://alpine:3.20"},
		{NamedContext{Kind: ContextLocal, Path: "alpine:3.20"}, "alpine:3.20"},
		{NamedContext{Kind: ContextOCILayout, Path: "store",
			Digest: digest.Digest("sha256:" + strings.Repeat("a", 64))},
			"oci-layout://store@sha256:" + strings.Repeat("a", 64)},
		{NamedContext{Kind: ContextURL, Ref: "https://u:p@example.com/r.git"}, "https://xxxxx@example.com/r.git"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
}
