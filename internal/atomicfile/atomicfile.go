// Package atomicfile writes files so that readers see either the previous
// file or the whole new one, never a part: data goes to a temporary file in
// the same directory, which is synced and renamed over the destination.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// File is a file being written for a destination path. Close publishes it;
// Abort, or a failed Close, discards it and leaves the destination as it
// was.
type File struct {
	*os.File
	dest string
	done bool
}

// Create starts writing a file for dest with permissions perm. It fails
// when dest's directory cannot hold a new file.
func Create(dest string, perm os.FileMode) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	return &File{File: f, dest: dest}, nil
}

// Close syncs the file and renames it to its destination. On failure the
// temporary file is removed.
func (f *File) Close() error {
	if f.done {
		return nil
	}
	f.done = true
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.dest)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	syncDir(filepath.Dir(f.dest))
	return nil
}

// Abort discards the file unless it was already published.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// WriteFile writes data to path atomically with permissions perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// syncDir makes a rename in dir durable. It is best effort: the rename is
// atomic without it, and some filesystems cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
