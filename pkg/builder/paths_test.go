package builder

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	controlapi "github.com/moby/buildkit/api/services/control"
	"google.golang.org/grpc"
)

func TestDefaultPaths(t *testing.T) {
	tests := []struct {
		name                string
		home, state, run    string
		wantDir, wantSocket string
	}{
		{"XDG directories", "/home/u", "/xdg/state", "/run/user/1000",
			"/xdg/state/forge/builder", "/run/user/1000/forge/buildkitd.sock"},
		{"home only", "/home/u", "", "",
			"/home/u/.local/state/forge/builder", "/home/u/.local/state/forge/builder/buildkitd.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", tt.home)
			t.Setenv("XDG_STATE_HOME", tt.state)
			t.Setenv("XDG_RUNTIME_DIR", tt.run)
			got, err := DefaultPaths()
			if err != nil {
				t.Fatalf("DefaultPaths() error: %v", err)
			}
			want := Paths{
				StateDir: tt.wantDir,
				Root:     tt.wantDir + "/root",
				Socket:   tt.wantSocket,
				PIDFile:  tt.wantDir + "/buildkitd.pid",
				LogFile:  tt.wantDir + "/buildkitd.log",
				LockFile: tt.wantDir + "/lock",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DefaultPaths() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusIgnoresStalePIDFile(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	// PID 1 is alive but is not this builder's buildkitd.
	if err := writePID(l.Paths.PIDFile, 1); err != nil {
		t.Fatal(err)
	}
	if st := l.Status(t.Context()); st.Running || st.PID != 0 {
		t.Errorf("Status() with a pidfile naming another process = %+v, want not running", st)
	}
	stopped, err := l.Stop(t.Context())
	if err != nil || stopped {
		t.Errorf("Stop() = %v, %v; want false, nil without signalling anything", stopped, err)
	}
}

func TestStartWaitsForTheLockUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	unlock, err := l.lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := l.Start(ctx); err == nil {
		t.Fatal("Start() while another holds the lock succeeded")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Start() gave up %s after its context ended, want promptly", elapsed)
	}
}

func TestStartLeavesAnUnansweringDaemonAlone(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	// A stand-in for this builder's daemon, alive but not answering: its
	// command line names the builder's address, as buildkitd's does.
	daemon := exec.Command("sh", "-c", "sleep 30", l.Paths.Addr())
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	if err := writePID(l.Paths.PIDFile, daemon.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.Paths.Socket, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if st, err := l.Start(ctx); err == nil {
		t.Fatalf("Start() = %+v with a daemon that does not answer, want an error", st)
	}
	if pid, ok := l.runningPID(); !ok || pid != daemon.Process.Pid {
		t.Errorf("after Start() the pidfile names %d, want the running daemon %d", pid, daemon.Process.Pid)
	}
	if _, err := os.Stat(l.Paths.Socket); err != nil {
		t.Errorf("Start() removed the running daemon's socket: %v", err)
	}
}

// workerLister answers ListWorkers as buildkitd does, with no workers: a
// stand-in for a BuildKit daemon that is not this builder's.
type workerLister struct {
	controlapi.UnimplementedControlServer
}

func (workerLister) ListWorkers(context.Context,
	*controlapi.ListWorkersRequest) (*controlapi.ListWorkersResponse, error) {
	return &controlapi.ListWorkersResponse{}, nil
}

func TestStartLeavesAnotherDaemonsSocketAlone(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	serveControl(t, l.Paths.Socket)
	if !l.answers(t.Context(), ConnectProbe) {
		t.Fatal("the stand-in daemon does not answer")
	}

	st, err := l.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("Start() = %+v, %v with another daemon on the socket, want an error saying so", st, err)
	}
	if !l.answers(t.Context(), ConnectProbe) {
		t.Error("after Start() the other daemon no longer answers on its socket")
	}
	if _, ok := l.runningPID(); ok {
		t.Error("Start() wrote a pid file")
	}
}

// TestStopFindsADaemonWithoutPIDFile checks that a daemon running on this
// builder's state directory is found and stopped even when its pidfile is
// gone.
func TestStopFindsADaemonWithoutPIDFile(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	// A stand-in whose command line names the state directory as
	// buildkitd's does.
	daemon := exec.Command("sh", "-c", "sleep 30; :", "sh", "--root", l.Paths.Root)
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { daemon.Wait(); close(exited) }()
	t.Cleanup(func() { daemon.Process.Kill(); <-exited })

	if st := l.Status(t.Context()); st.PID != daemon.Process.Pid {
		t.Fatalf("Status().PID = %d, want the daemon's %d", st.PID, daemon.Process.Pid)
	}
	stopped, err := l.Stop(t.Context())
	if err != nil || !stopped {
		t.Fatalf("Stop() = %v, %v; want true, nil", stopped, err)
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Error("the daemon still runs after Stop()")
	}
}

// TestStopLeavesAnotherDaemonsSocket checks that stopping a builder that
// does not run leaves a socket another daemon answers on.
func TestStopLeavesAnotherDaemonsSocket(t *testing.T) {
	dir := t.TempDir()
	l := &Local{Paths: PathsIn(dir, dir+"/buildkitd.sock")}
	serveControl(t, l.Paths.Socket)
	if stopped, err := l.Stop(t.Context()); err != nil || stopped {
		t.Fatalf("Stop() = %v, %v; want false, nil", stopped, err)
	}
	if !l.answers(t.Context(), ConnectProbe) {
		t.Error("after Stop() the other daemon no longer answers on its socket")
	}
}

// serveControl serves a stand-in for a BuildKit daemon on socket until the
// test ends.
func serveControl(t *testing.T, socket string) {
	t.Helper()
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	controlapi.RegisterControlServer(srv, workerLister{})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
}
