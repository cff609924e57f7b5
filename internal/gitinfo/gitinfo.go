// Package gitinfo reads what an image's OCI labels say about its source:
// the commit, the repository URL and the commit time, from the git
// checkout holding a directory.
package gitinfo

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Info describes the checkout a directory belongs to.
type Info struct {
	// Revision is the full commit hash of HEAD.
	Revision string
	// Source is the URL of the origin remote without credentials, or "".
	Source string
	// CommitTime is HEAD's committer time.
	CommitTime time.Time
}

// Read returns the Info of the git checkout holding dir. It fails when dir
// is not in a checkout or git is missing.
func Read(ctx context.Context, dir string) (Info, error) {
	out, err := git(ctx, dir, "log", "-1", "--format=%H %ct")
	if err != nil {
		return Info{}, err
	}
	hash, ts, _ := strings.Cut(out, " ")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Info{}, fmt.Errorf("git log: unexpected output %q", out)
	}
	info := Info{Revision: hash, CommitTime: time.Unix(secs, 0).UTC()}
	if remote, err := git(ctx, dir, "config", "--get", "remote.origin.url"); err == nil {
		info.Source = withoutCredentials(remote)
	}
	return info, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s in %s: %w", args[0], dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// withoutCredentials drops a user and password from a URL, so that a token
// in a remote's URL never reaches an image label.
func withoutCredentials(remote string) string {
	u, err := url.Parse(remote)
	if err != nil || u.Scheme == "" {
		return remote
	}
	u.User = nil
	return u.String()
}
