package plan

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	tests := []struct {
		name         string
		targets      []string
		wantNodes    map[string][]string // node name → its services
		wantServices []string
	}{{
		name:    "everything",
		targets: nil,
		wantNodes: map[string][]string{
			"app":    {"web", "worker", "beat"},
			"broker": nil,
		},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:         "one service builds its image and updates its siblings",
		targets:      []string{"worker"},
		wantNodes:    map[string][]string{"app": {"web", "worker", "beat"}},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:         "services sharing an image name it once",
		targets:      []string{"web", "beat", "app"},
		wantNodes:    map[string][]string{"app": {"web", "worker", "beat"}},
		wantServices: []string{"web", "worker", "beat"},
	}, {
		name:      "an image no service uses",
		targets:   []string{"broker"},
		wantNodes: map[string][]string{"broker": nil},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(cfg, tt.targets...)
			if err != nil {
				t.Fatalf("New(%q) error: %v", tt.targets, err)
			}
			gotNodes := make(map[string][]string)
			for _, n := range g.Nodes {
				if _, dup := gotNodes[n.Name]; dup {
					t.Errorf("New(%q) has node %s twice", tt.targets, n.Name)
				}
				gotNodes[n.Name] = n.Services
			}
			if diff := cmp.Diff(tt.wantNodes, gotNodes); diff != "" {
				t.Errorf("New(%q) nodes mismatch (-want +got):\n%s", tt.targets, diff)
			}
			var gotServices []string
			for _, svc := range g.Services {
				gotServices = append(gotServices, svc.Name)
			}
			if diff := cmp.Diff(tt.wantServices, gotServices); diff != "" {
				t.Errorf("New(%q) services mismatch (-want +got):\n%s", tt.targets, diff)
			}
		})
	}
}

func TestNewUnknownTarget(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	tests := []struct {
		target, suggestion string
	}{
		{"workr", "worker"},
		{"brokr", "broker"},
		{"postgres", ""},
	}
	for _, tt := range tests {
		_, err := New(cfg, "web", tt.target)
		var unknown *UnknownTargetError
		if !errors.As(err, &unknown) {
			t.Fatalf("New(web, %s) error = %v, want *UnknownTargetError", tt.target, err)
		}
		if unknown.Name != tt.target || unknown.Suggestion != tt.suggestion {
			t.Errorf("New(web, %s) = %+v, want name %q and suggestion %q",
				tt.target, unknown, tt.target, tt.suggestion)
		}
	}
}
