package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/forge-build/forge/internal/atomicfile"
)

// Cache remembers the digests of files by what stat says of them (size,
// modification and change times, device, inode, mode), so that an
// unchanged file is not read again. The change time is the kernel's: tools
// that restore a modification time (cp -p, touch -r, rsync) cannot set it. It is safe for concurrent use. The zero value is not usable; a nil
// *Cache reads every file.
type Cache struct {
	path    string
	mu      sync.Mutex
	entries map[string]cacheEntry
	changed bool
	started time.Time
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

// OpenCache loads the cache stored at path; a missing or unreadable cache
// starts empty.
func OpenCache(path string) *Cache {
	c := &Cache{path: path, entries: map[string]cacheEntry{}, started: time.Now()}
	if data, err := os.ReadFile(path); err == nil {
		json.Unmarshal(data, &c.entries)
	}
	return c
}

// Save stores the cache, if it changed, atomically. A cache that cannot be
// written only costs time later, so the error is for the caller to ignore
// or report.
func (c *Cache) Save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.changed {
		return nil
	}
	data, err := json.Marshal(c.entries)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path, data, 0o600)
}

// fileDigest returns the SHA-256 of the regular file at path, from the
// cache when the file is unchanged.
func (c *Cache) fileDigest(path string) (string, error) {
	var entry cacheEntry
	ok := false
	if c != nil {
		// The walker's file information lacks the inode: stat again.
		if fi, err := os.Lstat(path); err == nil {
			entry, ok = statEntry(fi)
		}
	}
	if c != nil && ok {
		c.mu.Lock()
		cached, hit := c.entries[path]
		c.mu.Unlock()
		if hit && cached.sameFile(entry) {
			return cached.Digest, nil
		}
	}
	digest, err := hashContent(path)
	if err != nil {
		return "", err
	}
	// A file changed in the same instant the cache was read could change
	// again within the timestamp's precision; it is not cached.
	if c != nil && ok && time.Unix(0, entry.CTime).Before(c.started.Add(-2*time.Second)) {
		entry.Digest = digest
		c.mu.Lock()
		c.entries[path], c.changed = entry, true
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
