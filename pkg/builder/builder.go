package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forge-build/forge/pkg/buildkit"
)

// Timeouts of the daemon's life cycle.
const (
	// ReadyTimeout bounds how long Start waits for a new daemon to answer.
	ReadyTimeout = 30 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	StopTimeout = 10 * time.Second
)

// BinaryEnv names the environment variable that overrides where the
// buildkitd executable is found.
const BinaryEnv = "FORGE_BUILDKITD"

// Local is forge's local builder.
type Local struct {
	Paths Paths
	// Binary is the buildkitd executable. Empty means: $FORGE_BUILDKITD,
	// then a buildkitd next to the running forge, then one on PATH.
	Binary string
}

// Status describes a local builder.
type Status struct {
	Running bool
	PID     int
	Addr    string
}

// Status reports whether the builder runs and answers on its socket.
func (l *Local) Status(ctx context.Context) Status {
	st := Status{Addr: l.Paths.Addr()}
	pid, ok := l.runningPID()
	if !ok {
		return st
	}
	st.PID = pid
	st.Running = l.answers(ctx, ConnectProbe)
	return st
}

// ConnectProbe bounds one readiness probe of the daemon's socket.
const ConnectProbe = 2 * time.Second

func (l *Local) answers(ctx context.Context, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := buildkit.Connect(ctx, l.Paths.Addr(), buildkit.TLS{})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Start starts the daemon unless it already runs, and waits until it
// answers. It is safe to call from several processes at once: one starts
// the daemon and the others wait for it.
func (l *Local) Start(ctx context.Context) (Status, error) {
	unlock, err := l.lock(ctx)
	if err != nil {
		return Status{}, err
	}
	defer unlock()

	st := l.Status(ctx)
	if st.Running {
		return st, nil
	}
	if st.PID != 0 {
		// This builder's daemon runs but did not answer: busy, or still
		// starting. A second one could not take its state directory, and
		// starting it would take the first one's socket: wait instead.
		if st, err := l.await(ctx, st.PID); err != nil || st.Running {
			return st, err
		}
	}
	if l.answers(ctx, ConnectProbe) {
		// Not this builder's daemon, or one whose pid file is gone:
		// replacing its socket would orphan it, mid-build perhaps.
		return Status{}, fmt.Errorf("a BuildKit daemon this builder did not start (%s names none) "+
			"answers on %s; stop it, or give this builder a socket of its own by setting "+
			"XDG_RUNTIME_DIR", l.Paths.PIDFile, l.Paths.Socket)
	}
	bin, err := l.prepare()
	if err != nil {
		return Status{}, err
	}
	return l.spawn(ctx, bin)
}

// await waits until the running daemon pid answers, and returns its
// status; a status not running if it exits first.
func (l *Local) await(ctx context.Context, pid int) (Status, error) {
	deadline := time.Now().Add(ReadyTimeout)
	for alive(pid) {
		if l.answers(ctx, ConnectProbe) {
			return Status{Running: true, PID: pid, Addr: l.Paths.Addr()}, nil
		}
		if time.Now().After(deadline) {
			return Status{}, fmt.Errorf("buildkitd (pid %d) runs but does not answer on %s; see %s, "+
				"or stop it with forge builder stop", pid, l.Paths.Addr(), l.Paths.LogFile)
		}
		select {
		case <-ctx.Done():
			return Status{}, context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return Status{}, nil
}

// prepare checks what the daemon needs and returns the buildkitd path.
func (l *Local) prepare() (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("forge's local builder runs buildkitd as root; run as root, " +
			"or point --builder or BUILDKIT_HOST at a running BuildKit daemon")
	}
	if len(l.Paths.Socket) > maxSocketPath {
		return "", fmt.Errorf("socket path %s is longer than %d bytes; set XDG_RUNTIME_DIR to a shorter directory",
			l.Paths.Socket, maxSocketPath)
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return "", errors.New("buildkitd needs runc on PATH to run build steps; install it " +
			"(make tools, or apt-get install runc)")
	}
	return l.binary()
}

func (l *Local) binary() (string, error) {
	if l.Binary != "" {
		return l.Binary, nil
	}
	if env := os.Getenv(BinaryEnv); env != "" {
		return env, nil
	}
	if self, err := os.Executable(); err == nil {
		sibling := filepath.Join(filepath.Dir(self), "buildkitd")
		if _, err := os.Stat(sibling); err == nil {
			return sibling, nil
		}
	}
	bin, err := exec.LookPath("buildkitd")
	if err != nil {
		return "", fmt.Errorf("no buildkitd found next to forge, on PATH or in $%s; "+
			"build it with make tools", BinaryEnv)
	}
	return bin, nil
}

func (l *Local) spawn(ctx context.Context, bin string) (Status, error) {
	for _, dir := range []string{l.Paths.Root, filepath.Dir(l.Paths.Socket)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Status{}, fmt.Errorf("preparing the builder: %w", err)
		}
	}
	os.Remove(l.Paths.Socket)
	logFile, err := os.OpenFile(l.Paths.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return Status{}, fmt.Errorf("opening the builder's log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.Command(bin,
		"--root", l.Paths.Root,
		"--addr", l.Paths.Addr(),
		"--oci-worker=true",
		"--containerd-worker=false",
		// Images that declare network = "host" ask for it; builds on
		// forge's own builder are the user's own.
		"--allow-insecure-entitlement=network.host",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A session of its own keeps the daemon alive when forge exits or the
	// user presses Ctrl-C in forge's terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Status{}, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	if err := writePID(l.Paths.PIDFile, cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		return Status{}, err
	}
	if err := l.waitReady(ctx, exited); err != nil {
		cmd.Process.Kill()
		os.Remove(l.Paths.PIDFile)
		return Status{}, err
	}
	return Status{Running: true, PID: cmd.Process.Pid, Addr: l.Paths.Addr()}, nil
}

func (l *Local) waitReady(ctx context.Context, exited <-chan error) error {
	deadline := time.Now().Add(ReadyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("buildkitd exited during start-up (%v); last lines of %s:\n%s",
				err, l.Paths.LogFile, tail(l.Paths.LogFile, 10))
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
		if l.answers(ctx, ConnectProbe) {
			return nil
		}
	}
	return fmt.Errorf("buildkitd did not answer within %s; see %s", ReadyTimeout, l.Paths.LogFile)
}

// Stop stops the daemon: SIGTERM, then SIGKILL after StopTimeout. It
// returns false when no daemon was running.
func (l *Local) Stop(ctx context.Context) (bool, error) {
	unlock, err := l.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()

	pid, ok := l.runningPID()
	if !ok {
		// The socket may be another daemon's (builders sharing
		// XDG_RUNTIME_DIR): only a socket nobody answers on is removed.
		os.Remove(l.Paths.PIDFile)
		if !l.answers(ctx, ConnectProbe) {
			os.Remove(l.Paths.Socket)
		}
		return false, nil
	}
	if err := terminate(ctx, pid); err != nil {
		return true, err
	}
	l.removeRunFiles()
	return true, nil
}

func terminate(ctx context.Context, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping buildkitd (pid %d): %w", pid, err)
	}
	deadline := time.Now().Add(StopTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(StopTimeout)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func (l *Local) removeRunFiles() {
	os.Remove(l.Paths.PIDFile)
	os.Remove(l.Paths.Socket)
}

// runningPID returns the PID of this builder's buildkitd when it runs: the
// one in the pidfile if that process is alive and is this builder's, not an
// unrelated process that reused the PID; else a buildkitd running on this
// builder's state directory, whose pidfile was lost.
func (l *Local) runningPID() (int, bool) {
	if pid, ok := l.pidFromFile(); ok {
		return pid, true
	}
	return l.findDaemon()
}

func (l *Local) pidFromFile() (int, bool) {
	data, err := os.ReadFile(l.Paths.PIDFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(l.Paths.Addr())) {
		return 0, false
	}
	return pid, true
}

// findDaemon looks through the running processes for one started with
// --root and this builder's state directory: buildkitd holds that
// directory for as long as it runs, so there is at most one.
func (l *Local) findDaemon() (int, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "--root" && args[i+1] == l.Paths.Root && alive(pid) {
				return pid, true
			}
		}
	}
	return 0, false
}

// alive reports whether pid names a process that has not exited. A zombie
// has exited.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

func writePID(path string, pid int) error {
	// A name of its own: another forge may be writing the pidfile too.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the builder's pidfile: %w", err)
	}
	_, err = tmp.WriteString(strconv.Itoa(pid) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing the builder's pidfile: %w", err)
	}
	return nil
}

// lock takes the builder's lock file, waiting for another forge that holds
// it until ctx ends, and returns the function that releases it.
func (l *Local) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(l.Paths.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("preparing the builder: %w", err)
	}
	f, err := os.OpenFile(l.Paths.LockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the builder: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking the builder: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tail returns the last n lines of the file at path, or "" if unreadable.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
