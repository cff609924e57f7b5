package main

import (
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
