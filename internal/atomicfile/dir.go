package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a directory tree being written for a destination directory. The
// writer fills Path; Close merges the tree into the destination, and Abort
// discards it, leaving the destination as it was.
//
// Merging moves each entry of the tree into the destination with a
// rename, replacing what the destination holds under the same name and
// keeping everything else, as writing into the destination directly
// would. A destination that does not exist yet is renamed into place
// whole. So the destination never holds a partly written file, and it
// changes only when Close is called, which takes as long as the renames.
type Dir struct {
	// Path is the temporary directory to write the tree into. It is in
	// the destination's parent directory, so that renames stay on one
	// filesystem.
	Path string
	dest string
	done bool
}

// CreateDir starts writing a directory tree for dest, creating dest's
// parent directories. A dest that is a symbolic link stands for the
// directory it points to. It fails when the parent cannot hold a new
// directory.
func CreateDir(dest string) (*Dir, error) {
	if resolved, err := filepath.EvalSymlinks(dest); err == nil {
		dest = resolved
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	path, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	return &Dir{Path: path, dest: dest}, nil
}

// Close merges the tree into the destination and removes the temporary
// directory. After an error the destination may hold part of the tree,
// each file of it whole.
func (d *Dir) Close() error {
	if d.done {
		return nil
	}
	d.done = true
	defer os.RemoveAll(d.Path)
	if _, err := os.Lstat(d.dest); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(d.Path, d.dest); err != nil {
			return fmt.Errorf("writing %s: %w", d.dest, err)
		}
		syncDir(filepath.Dir(d.dest))
		return nil
	}
	if err := merge(d.Path, d.dest); err != nil {
		return fmt.Errorf("writing %s: %w", d.dest, err)
	}
	return nil
}

// Abort discards the tree unless it was already merged.
func (d *Dir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.Path)
}

// merge moves every entry of src into the directory dst. An entry that
// dst lacks is moved whole; a directory that dst has too is merged in
// turn; anything else in dst under the same name is replaced.
func merge(src, dst string) error {
	info, err := os.Lstat(dst)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		// A file stands where the tree has a directory: the directory
		// replaces it.
		if err := os.Remove(dst); err != nil {
			return err
		}
		return os.Rename(src, dst)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		old, err := os.Lstat(to)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err = os.Rename(from, to)
		case err != nil:
		case e.IsDir():
			err = merge(from, to)
		case old.IsDir():
			if err = os.RemoveAll(to); err == nil {
				err = os.Rename(from, to)
			}
		default:
			err = os.Rename(from, to)
		}
		if err != nil {
			return err
		}
	}
	syncDir(dst)
	return nil
}
