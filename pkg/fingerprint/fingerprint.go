// Package fingerprint digests everything a build node reads, so that a
// build whose inputs have not changed can be skipped without a solve.
//
// A node's fingerprint covers its content key (every declared input, see
// the plan package), the files of its build context that .dockerignore
// lets through, its Dockerfile, the files of its local named contexts and
// the fingerprints of the images its named contexts name. File metadata
// that does not reach an image (modification and access times) is left
// out, so a fresh checkout of the same files has the same fingerprint.
package fingerprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"

	"github.com/forge-build/forge/pkg/plan"
)

// Node returns the fingerprint of n, leaving out the files forge writes
// (see plan.Image.ForgeFiles). Files that cache knows unchanged are not
// read again; cache may be nil. It fails when a file it must read cannot be
// read.
func Node(ctx context.Context, n *plan.Node, forgeFiles []string, cache *Cache) (digest.Digest, error) {
	return Since(ctx, n, forgeFiles, cache, time.Time{})
}

// Since is Node for a build that started at t: it returns "" when a file n
// reads changed at t or later, by the change time the kernel keeps, which
// no tool can set back. Otherwise the files are those the build read, and
// the fingerprint describes the image it made. (A file deleted during the
// build is not seen: directories are not compared.) A zero t checks
// nothing.
func Since(ctx context.Context, n *plan.Node, forgeFiles []string, cache *Cache,
	t time.Time) (digest.Digest, error) {
	h := sha256.New()
	fp := &printer{h: h, forgeFiles: forgeFiles, seen: map[*plan.Node]bool{}, cache: cache, since: t}
	if err := fp.write(ctx, n); err != nil {
		return "", err
	}
	if fp.changed {
		return "", nil
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), nil
}

type printer struct {
	h          hash.Hash
	forgeFiles []string
	seen       map[*plan.Node]bool
	cache      *Cache
	// since, when set, is the time after which a change of any file read
	// sets changed.
	since   time.Time
	changed bool
}

// noteChange sets p.changed when the file at path, or the file a symbolic
// link at path points to, changed at p.since or later.
func (p *printer) noteChange(path string) error {
	if p.since.IsZero() || p.changed {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	p.changed = changedSince(fi, p.since)
	if fi.Mode()&fs.ModeSymlink != 0 {
		if target, err := os.Stat(path); err == nil && changedSince(target, p.since) {
			p.changed = true
		}
	}
	return nil
}

// noteIgnoreFile notes a change of an ignore file, if there is one (ok):
// it decides which files count even when it excludes itself.
func (p *printer) noteIgnoreFile(path string, ok bool) error {
	if !ok {
		return nil
	}
	return p.noteChange(path)
}

func changedSince(fi fs.FileInfo, since time.Time) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || !time.Unix(0, st.Ctim.Nano()).Before(since)
}

func (p *printer) write(ctx context.Context, n *plan.Node) error {
	if p.seen[n] {
		return nil
	}
	p.seen[n] = true
	h := p.h
	img := n.Image
	fmt.Fprintf(h, "node %s\n", n.Key)
	if img.Dockerfile != "" {
		if err := p.noteChange(img.Dockerfile); err != nil {
			return err
		}
		if err := hashFile(h, "dockerfile", img.Dockerfile); err != nil {
			return err
		}
	}
	excludes, err := img.IgnorePatterns()
	if err != nil {
		return err
	}
	if err := p.noteIgnoreFile(img.IgnoreFile()); err != nil {
		return err
	}
	excludes = append(excludes, img.ForgeFiles(p.forgeFiles)...)
	if err := p.hashTree(ctx, "context", img.Context, excludes); err != nil {
		return err
	}
	names := make([]string, 0, len(img.Contexts))
	for name := range img.Contexts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if c := img.Contexts[name]; c.Kind == plan.ContextLocal {
			excludes, err := c.IgnorePatterns()
			if err != nil {
				return fmt.Errorf("image %s: context %s: %w", img.Name, name, err)
			}
			if err := p.noteIgnoreFile(c.IgnoreFile()); err != nil {
				return err
			}
			excludes = append(excludes, plan.ForgeFilesIn(c.Path, p.forgeFiles)...)
			if err := p.hashTree(ctx, "named "+name, c.Path, excludes); err != nil {
				return err
			}
		}
	}
	for _, dep := range n.Deps {
		if err := p.write(ctx, dep); err != nil {
			return err
		}
	}
	return nil
}

// hashTree writes the path, mode, link target and content digest of every
// file under root that excludes lets through, in a fixed order.
func (p *printer) hashTree(ctx context.Context, label, root string, excludes []string) error {
	h := p.h
	fmt.Fprintf(h, "tree %s\n", label)
	return fsutil.Walk(ctx, root, &fsutil.FilterOpt{ExcludePatterns: excludes},
		func(path string, fi fs.FileInfo, err error) error {
			if err != nil {
				return fmt.Errorf("reading %s: %w", root, err)
			}
			// A directory changes whenever an entry comes or goes, editors'
			// and tools' temporary files too: only files count.
			if !fi.IsDir() {
				if err := p.noteChange(filepath.Join(root, path)); err != nil {
					return err
				}
			}
			fmt.Fprintf(h, "%q %o %d\n", path, fi.Mode(), fi.Size())
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(filepath.Join(root, path))
				if err != nil {
					return err
				}
				fmt.Fprintf(h, "-> %q\n", target)
			case fi.Mode().IsRegular():
				digest, err := p.cache.fileDigest(root, path)
				if err != nil {
					return err
				}
				fmt.Fprintf(h, "= %s\n", digest)
			}
			return nil
		})
}

// hashFile writes the file at path, its length first, so that what
// follows it cannot pass for part of it.
func hashFile(h hash.Hash, label, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file %s %d\n", label, len(data))
	_, err = h.Write(data)
	return err
}
