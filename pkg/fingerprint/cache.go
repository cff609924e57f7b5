package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/forge-build/forge/internal/atomicfile"
)

// MaxTreeAge is how long the digests of a directory tree are kept after
// the last build that read the tree.
const MaxTreeAge = 30 * 24 * time.Hour

// Cache remembers the digests of files by what stat says of them (size,
// modification and change times, device, inode, mode), so that an
// unchanged file is not read again. The change time is the kernel's: tools
// that restore a modification time (cp -p, touch -r, rsync) cannot set it.
//
// The cache is a directory with one file per directory tree (a build
// context, a local named context): a build reads the digests of the trees
// it fingerprints and no others, each tree's file holds only files that
// still exist, and a tree no build has read for MaxTreeAge is removed.
// A Cache is safe for concurrent use. The zero value is not usable; a nil
// *Cache reads every file.
type Cache struct {
	dir     string
	started time.Time
	mu      sync.Mutex
	trees   map[string]*tree
}

// tree holds the digests of the files under one root, by path relative
// to the root.
type tree struct {
	// loaded are the entries read from the cache; seen those looked up
	// since, with what stat says now.
	loaded, seen map[string]cacheEntry
	changed      bool
}

// treeFile is a tree's file in the cache directory.
type treeFile struct {
	Root  string                `json:"root"`
	Files map[string]cacheEntry `json:"files"`
}

type cacheEntry struct {
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime"`
	CTime  int64  `json:"ctime"`
	Dev    uint64 `json:"dev"`
	Inode  uint64 `json:"inode"`
	Mode   uint32 `json:"mode"`
	Digest string `json:"digest"`
}

// OpenCache returns the cache kept in dir. Nothing is read until a tree's
// digests are needed; an unreadable tree file starts that tree empty.
func OpenCache(dir string) *Cache {
	return &Cache{dir: dir, started: time.Now(), trees: map[string]*tree{}}
}

// treeFileName returns the name of root's file in the cache directory.
func treeFileName(root string) string {
	sum := sha256.Sum256([]byte(root))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// tree returns root's digests, reading them on first use. c.mu is held.
func (c *Cache) tree(root string) *tree {
	if t, ok := c.trees[root]; ok {
		return t
	}
	t := &tree{loaded: map[string]cacheEntry{}, seen: map[string]cacheEntry{}}
	var f treeFile
	if data, err := os.ReadFile(filepath.Join(c.dir, treeFileName(root))); err == nil &&
		json.Unmarshal(data, &f) == nil && f.Root == root && f.Files != nil {
		t.loaded = f.Files
	}
	c.trees[root] = t
	return t
}

// Save stores the digests of the trees read since OpenCache, each file
// atomically, and removes the files of trees unused for MaxTreeAge. A
// cache that cannot be written only costs time later, so the error is for
// the caller to ignore or report.
func (c *Cache) Save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	var errs []error
	for root, t := range c.trees {
		errs = append(errs, c.saveTree(root, t))
	}
	errs = append(errs, c.prune())
	return errors.Join(errs...)
}

// saveTree writes t's file when its entries changed. Entries not looked up
// in this build are kept while their file is unchanged: a build of some
// images walks only some of the ways a tree is filtered.
func (c *Cache) saveTree(root string, t *tree) error {
	files := t.seen
	for rel, entry := range t.loaded {
		if _, ok := files[rel]; ok {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(root, rel)); err == nil {
			if now, ok := statEntry(fi); ok && now.sameFile(entry) {
				files[rel] = entry
				continue
			}
		}
		t.changed = true
	}
	path := filepath.Join(c.dir, treeFileName(root))
	if !t.changed {
		// Still in use: keep it from being pruned.
		now := time.Now()
		if err := os.Chtimes(path, now, now); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.Marshal(treeFile{Root: root, Files: files})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}

// prune removes the files of trees no build has used for MaxTreeAge.
func (c *Cache) prune() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > MaxTreeAge {
			errs = append(errs, os.Remove(filepath.Join(c.dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// fileDigest returns the SHA-256 of the regular file rel under root, from
// the cache when the file is unchanged.
func (c *Cache) fileDigest(root, rel string) (string, error) {
	path := filepath.Join(root, rel)
	if c == nil {
		return hashContent(path)
	}
	// The walker's file information lacks the inode: stat again.
	fi, err := os.Lstat(path)
	if err != nil {
		return hashContent(path)
	}
	entry, ok := statEntry(fi)
	if !ok {
		return hashContent(path)
	}
	c.mu.Lock()
	t := c.tree(root)
	cached, hit := t.loaded[rel]
	if hit && cached.sameFile(entry) {
		t.seen[rel] = cached
		c.mu.Unlock()
		return cached.Digest, nil
	}
	c.mu.Unlock()
	digest, err := hashContent(path)
	if err != nil {
		return "", err
	}
	// A file changed in the same instant the cache was read could change
	// again within the timestamp's precision; it is not cached.
	if time.Unix(0, entry.CTime).Before(c.started.Add(-2 * time.Second)) {
		entry.Digest = digest
		c.mu.Lock()
		t.seen[rel], t.changed = entry, true
		c.mu.Unlock()
	}
	return digest, nil
}

func (e cacheEntry) sameFile(o cacheEntry) bool {
	return e.Size == o.Size && e.MTime == o.MTime && e.CTime == o.CTime && e.Dev == o.Dev &&
		e.Inode == o.Inode && e.Mode == o.Mode
}

func statEntry(fi fs.FileInfo) (cacheEntry, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return cacheEntry{}, false
	}
	return cacheEntry{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), CTime: st.Ctim.Nano(),
		Dev: uint64(st.Dev), Inode: st.Ino, Mode: uint32(fi.Mode())}, true
}

func hashContent(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
