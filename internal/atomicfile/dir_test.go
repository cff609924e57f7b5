package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTree creates files under dir: a path ending in "/" is a directory,
// one holding "->" a symlink to what follows, anything else a file with
// that content.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(path, 0o755)
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(content[2:], path)
		default:
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns the files, symlinks and empty directories under dir in
// writeTree's notation.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			tree[rel] = "->" + target
		case d.IsDir():
			if entries, _ := os.ReadDir(path); len(entries) == 0 {
				tree[rel+"/"] = ""
			}
		default:
			data, _ := os.ReadFile(path)
			tree[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func TestDirMergesIntoDestination(t *testing.T) {
	tests := []struct {
		name               string
		dest, tree, merged map[string]string // nil dest: none yet
	}{
		{
			name:   "new destination",
			tree:   map[string]string{"a": "1", "sub/b": "2", "empty/": ""},
			merged: map[string]string{"a": "1", "sub/b": "2", "empty/": ""},
		},
		{
			name:   "files replaced, others kept",
			dest:   map[string]string{"a": "old", "keep": "k", "sub/b": "old", "sub/c": "c"},
			tree:   map[string]string{"a": "1", "sub/b": "2", "sub/new/d": "3"},
			merged: map[string]string{"a": "1", "keep": "k", "sub/b": "2", "sub/c": "c", "sub/new/d": "3"},
		},
		{
			name:   "a directory replaces a file, a file a directory",
			dest:   map[string]string{"x": "file", "y/inner": "i"},
			tree:   map[string]string{"x/f": "1", "y": "now a file"},
			merged: map[string]string{"x/f": "1", "y": "now a file"},
		},
		{
			// ELSEWHERE stands for a directory outside the destination.
			name:   "a symlink in the destination is replaced, not followed",
			dest:   map[string]string{"link": "->ELSEWHERE", "file": "->ELSEWHERE/f"},
			tree:   map[string]string{"link/f": "mine", "file": "mine"},
			merged: map[string]string{"link/f": "mine", "file": "mine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elsewhere := t.TempDir()
			writeTree(t, elsewhere, map[string]string{"f": "theirs"})
			dest := filepath.Join(t.TempDir(), "out")
			if tt.dest != nil {
				for name, content := range tt.dest {
					tt.dest[name] = strings.ReplaceAll(content, "ELSEWHERE", elsewhere)
				}
				writeTree(t, dest, tt.dest)
			}
			d, err := CreateDir(dest)
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, d.Path, tt.tree)
			if err := d.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if diff := cmp.Diff(tt.merged, readTree(t, dest)); diff != "" {
				t.Errorf("destination after Close() (-want +got):\n%s", diff)
			}
			if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
				t.Errorf("Close() left %d entries next to the destination, want it alone", len(entries))
			}
			if diff := cmp.Diff(map[string]string{"f": "theirs"}, readTree(t, elsewhere)); diff != "" {
				t.Errorf("Close() wrote outside the destination (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirIntoSymlinkedDestination(t *testing.T) {
	target := filepath.Join(t.TempDir(), "target")
	writeTree(t, target, map[string]string{"keep": "k"})
	dest := filepath.Join(t.TempDir(), "out")
	if err := os.Symlink(target, dest); err != nil {
		t.Fatal(err)
	}
	d, err := CreateDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, d.Path, map[string]string{"new": "n"})
	if err := d.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if link, err := os.Readlink(dest); err != nil || link != target {
		t.Errorf("after Close() %s is no longer a symlink to %s (%q, %v)", dest, target, link, err)
	}
	if diff := cmp.Diff(map[string]string{"keep": "k", "new": "n"}, readTree(t, target)); diff != "" {
		t.Errorf("the symlink's directory after Close() (-want +got):\n%s", diff)
	}
}

func TestDirAbortLeavesDestination(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out")
	before := map[string]string{"a": "old", "sub/b": "old"}
	writeTree(t, dest, before)
	d, err := CreateDir(dest)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, d.Path, map[string]string{"a": "partial", "sub/c": "new"})
	d.Abort()
	if err := d.Close(); err != nil {
		t.Fatalf("Close() after Abort() = %v", err)
	}
	if diff := cmp.Diff(before, readTree(t, dest)); diff != "" {
		t.Errorf("destination after Abort() (-want +got):\n%s", diff)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 1 {
		t.Errorf("Abort() left %d entries next to the destination, want it alone", len(entries))
	}
}
