// Package builder runs forge's own local BuildKit daemon: a buildkitd that
// forge starts on demand, keeps running between builds so its cache stays
// warm, and stops when asked.
//
// Its files live under the user's XDG directories:
//
//	$XDG_STATE_HOME/forge/builder/       (default ~/.local/state/forge/builder)
//	  root/           buildkitd's state and build cache
//	  buildkitd.pid   the daemon's process ID
//	  buildkitd.log   the daemon's output
//	  lock            serialises start and stop between forge processes
//	$XDG_RUNTIME_DIR/forge/buildkitd.sock (the state directory without it)
//
// The daemon is this builder's when the pidfile names it or, with the
// pidfile lost, when it runs on root/. A daemon on the socket that is
// neither is another builder's, and is left alone.
package builder

import (
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest unix socket path Linux accepts, less the
// terminating NUL.
const maxSocketPath = 107

// Paths are the files of a local builder.
type Paths struct {
	// StateDir holds everything but the socket.
	StateDir string
	Root     string
	Socket   string
	PIDFile  string
	LogFile  string
	LockFile string
}

// DefaultPaths returns the paths under the user's XDG directories, as
// described in the package documentation. It fails only when neither
// XDG_STATE_HOME nor the home directory is known.
func DefaultPaths() (Paths, error) {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Paths{}, fmt.Errorf("locating the builder's state directory: %w", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(state, "forge", "builder")
	socketDir := dir
	if run := os.Getenv("XDG_RUNTIME_DIR"); run != "" {
		socketDir = filepath.Join(run, "forge")
	}
	return PathsIn(dir, filepath.Join(socketDir, "buildkitd.sock")), nil
}

// PathsIn returns the paths of a builder whose state lives in dir and whose
// socket is socket.
func PathsIn(dir, socket string) Paths {
	return Paths{
		StateDir: dir,
		Root:     filepath.Join(dir, "root"),
		Socket:   socket,
		PIDFile:  filepath.Join(dir, "buildkitd.pid"),
		LogFile:  filepath.Join(dir, "buildkitd.log"),
		LockFile: filepath.Join(dir, "lock"),
	}
}

// Addr returns the address clients dial: unix:// and the socket path.
func (p Paths) Addr() string {
	return "unix://" + p.Socket
}
