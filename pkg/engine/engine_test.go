package engine

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEngine writes an engine client that runs script for `load`.
func fakeEngine(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "engine")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadReportsTheEnginesError checks that an engine that exits before
// reading the whole tarball surfaces its own message from the write that
// fails, not a bare broken pipe.
func TestLoadReportsTheEnginesError(t *testing.T) {
	name := fakeEngine(t, `echo "Error: payload does not match any of the supported image formats" >&2; exit 125`)
	w, err := Load(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{0}, 1<<16)
	var writeErr error
	for range 1024 {
		if _, writeErr = w.Write(chunk); writeErr != nil {
			break
		}
	}
	if writeErr == nil || !strings.Contains(writeErr.Error(), "payload does not match") ||
		!strings.Contains(writeErr.Error(), "exit status 125") {
		t.Errorf("Write after the engine exited = %v, want the engine's message and status", writeErr)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "payload does not match") {
		t.Errorf("Close() = %v, want the engine's error again", err)
	}
}

func TestLoadSucceeds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "got")
	w, err := Load(t.Context(), fakeEngine(t, "cat > "+out))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("tarball")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "tarball" {
		t.Errorf("the engine read %q, want the tarball", got)
	}
}
