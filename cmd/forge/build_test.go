package main

import (
	"strings"
	"testing"

	"github.com/forge-build/forge/pkg/buildkit"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		spec    string
		want    buildkit.FileOutput
		wantErr string // a word the error names
	}{
		{spec: "type=docker,dest=a.tar", want: buildkit.FileOutput{Type: "docker", Dest: "a.tar"}},
		{spec: "type=oci,dest=out,tar=false", want: buildkit.FileOutput{Type: "oci", Dest: "out", Dir: true}},
		{spec: "type=local,dest=dir", want: buildkit.FileOutput{Type: "local", Dest: "dir"}},
		{spec: "type=docker,dest=a.tar,compression=zstd,compression-level=3",
			want: buildkit.FileOutput{Type: "docker", Dest: "a.tar", Compression: "zstd", CompressionLevel: "3"}},
		{spec: "type=oci,dest=a.tar,compression=uncompressed",
			want: buildkit.FileOutput{Type: "oci", Dest: "a.tar", Compression: "uncompressed"}},
		{spec: `type=local,"dest=out/a,b"`, want: buildkit.FileOutput{Type: "local", Dest: "out/a,b"}},
		{spec: `type=local,"dest=out`, wantErr: "comma-separated"},
		{spec: "type=docker,dest=a.tar,compression=lz4", wantErr: "compression"},
		{spec: "type=docker,dest=a.tar,compression-level=fast", wantErr: "compression-level"},
		{spec: "type=docker,dest=a.tar,compression-level=23", wantErr: "compression-level"},
		{spec: "type=local,dest=dir,compression=gzip", wantErr: "local"},
		{spec: "type=docker,dest=a.tar,tar=maybe", wantErr: "tar"},
		{spec: "type=docker,dest=a.tar,push=true", wantErr: "push"},
		{spec: "type=registry,dest=a.tar", wantErr: "type"},
		{spec: "type=docker", wantErr: "dest"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := parseOutput(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOutput(%q) = %v, want an error about %s", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseOutput(%q): %v", tt.spec, err)
			}
			if *got != tt.want {
				t.Errorf("parseOutput(%q) = %+v, want %+v", tt.spec, *got, tt.want)
			}
		})
	}
}
