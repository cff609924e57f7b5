package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/forge-build/forge/pkg/manifest"
)

func TestRecordPromotionsReportsWhatItDrops(t *testing.T) {
	released := manifest.New()
	released.Artifacts["app"] = &manifest.Artifact{Digest: "sha256:a",
		Promotions: []manifest.Promotion{{Tag: "r/app:v1", At: "2026-01-01T00:00:00Z"}}}
	released.Artifacts["api"] = &manifest.Artifact{Digest: "sha256:b",
		Promotions: []manifest.Promotion{{Tag: "r/api:v1", At: "2026-01-01T00:00:00Z"}}}
	done := []promotion{{Image: "app", Tag: "r/app:v1", Digest: "sha256:a"},
		{Image: "api", Tag: "r/api:v1", Digest: "sha256:b"}}
	// Meanwhile a build recorded another api.
	cur := manifest.New()
	cur.Artifacts["app"] = &manifest.Artifact{Digest: "sha256:a"}
	cur.Artifacts["api"] = &manifest.Artifact{Digest: "sha256:c"}
	dropped := recordPromotions(cur, released, done)
	if len(cur.Artifacts["app"].Promotions) != 1 {
		t.Errorf("app promotions = %+v, want the release recorded", cur.Artifacts["app"].Promotions)
	}
	if len(cur.Artifacts["api"].Promotions) != 0 || len(dropped) != 1 || dropped[0].Image != "api" {
		t.Errorf("api promotions = %+v, dropped = %+v: want api's promotion dropped and reported",
			cur.Artifacts["api"].Promotions, dropped)
	}
}

func TestReleaseTargets(t *testing.T) {
	m := manifest.New()
	m.Artifacts["app"] = &manifest.Artifact{Digest: "sha256:a", Pushed: true}
	m.Artifacts["api"] = &manifest.Artifact{Digest: "sha256:b", Pushed: true}
	m.Artifacts["local"] = &manifest.Artifact{Digest: "sha256:c"}
	tests := []struct {
		images []string
		want   []string
		err    string
	}{
		{images: nil, want: []string{"api", "app"}},
		{images: []string{"app"}, want: []string{"app"}},
		{images: []string{"local"}, err: "not pushed"},
		{images: []string{"nope"}, err: "no image"},
	}
	for _, tt := range tests {
		got, err := releaseTargets(m, tt.images)
		if tt.err != "" {
			var usage *usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("releaseTargets(%q) = %v, want a usage error saying %q", tt.images, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("releaseTargets(%q) = %q, %v, want %q", tt.images, got, err, tt.want)
		}
	}
	if _, err := releaseTargets(manifest.New(), nil); err == nil {
		t.Error("releaseTargets of a manifest without pushed images = nil error, want one")
	}
}

func TestReleasePlan(t *testing.T) {
	m := manifest.New()
	// Two platforms' images of one matrix pushed to one repository, a
	// second block that built the same image, and an image in two
	// registries.
	m.Artifacts["app-amd64"] = &manifest.Artifact{Digest: "sha256:a", Tags: []string{"r/app:amd64"}}
	m.Artifacts["app-arm64"] = &manifest.Artifact{Digest: "sha256:b", Tags: []string{"r/app:arm64"}}
	m.Artifacts["app-copy"] = &manifest.Artifact{Digest: "sha256:a", Tags: []string{"r/app:copy"}}
	m.Artifacts["web"] = &manifest.Artifact{Digest: "sha256:w",
		Tags: []string{"one.example/web:1", "one.example/web:2", "two.example/web:1"}}

	got, err := releasePlan(m, []string{"app-amd64", "app-copy", "web"}, []string{"v1"})
	if err != nil {
		t.Fatal(err)
	}
	var dsts []string
	for _, tg := range got {
		dsts = append(dsts, tg.dst+"="+tg.digest+" for "+strings.Join(tg.images, ","))
	}
	want := []string{
		"docker.io/r/app:v1=sha256:a for app-amd64,app-copy",
		"one.example/web:v1=sha256:w for web",
		"two.example/web:v1=sha256:w for web",
	}
	if !slices.Equal(dsts, want) {
		t.Errorf("releasePlan = %q, want %q", dsts, want)
	}

	_, err = releasePlan(m, []string{"app-amd64", "app-arm64"}, []string{"v1"})
	var usage *usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "docker.io/r/app:v1") ||
		!strings.Contains(err.Error(), "app-arm64") {
		t.Errorf("releasePlan of two digests onto one tag = %v, want a usage error naming the tag and both images", err)
	}
}

func TestRecordPromotionsMovesTags(t *testing.T) {
	released := manifest.New()
	released.Artifacts["b"] = &manifest.Artifact{Digest: "sha256:b",
		Promotions: []manifest.Promotion{{Tag: "r/app:v1", At: "2026-02-01T00:00:00Z"}}}
	cur := manifest.New()
	cur.Artifacts["a"] = &manifest.Artifact{Digest: "sha256:a",
		Promotions: []manifest.Promotion{{Tag: "r/app:v1", At: "2026-01-01T00:00:00Z"}, {Tag: "r/app:v0"}}}
	cur.Artifacts["b"] = &manifest.Artifact{Digest: "sha256:b",
		Promotions: []manifest.Promotion{{Tag: "r/app:v1", At: "2026-01-15T00:00:00Z"}}}
	recordPromotions(cur, released, []promotion{{Image: "b", Tag: "r/app:v1", Digest: "sha256:b"}})
	if got := cur.Artifacts["a"].Promotions; len(got) != 1 || got[0].Tag != "r/app:v0" {
		t.Errorf("a's promotions = %+v, want v1 gone and v0 kept", got)
	}
	if got := cur.Artifacts["b"].Promotions; len(got) != 1 || got[0].At != "2026-01-15T00:00:00Z" {
		t.Errorf("b's promotions = %+v, want v1 once, as first recorded", got)
	}
}

func TestReleaseTargetsFindMergedImages(t *testing.T) {
	m := manifest.New()
	m.Artifacts["app"] = &manifest.Artifact{Digest: "sha256:a", Pushed: true, Images: []string{"app", "app_copy"}}
	got, err := releaseTargets(m, []string{"app_copy", "app"})
	if err != nil || !slices.Equal(got, []string{"app"}) {
		t.Errorf("releaseTargets(app_copy, app) = %q, %v; want [app]", got, err)
	}
}
