package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSecondSignalExitsAtOnce(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	ctx, stop := watchSignals(sigs, func(code int) { exited <- code })
	defer stop()

	sigs <- syscall.SIGINT
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("the first signal exited with %d; it should only cancel", code)
	case <-time.After(50 * time.Millisecond):
	}

	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != exitInterrupted {
			t.Errorf("the second signal exited with %d, want %d", code, exitInterrupted)
		}
	case <-time.After(time.Second):
		t.Fatal("the second signal did not exit")
	}
}

func TestSignalsClosedStopsWatching(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, stop := watchSignals(sigs, func(int) { t.Error("exit called after the watch ended") })
	close(sigs)
	stop()
	<-ctx.Done()
	if ctx.Err() == nil {
		t.Error("stop did not cancel the context")
	}
}

// TestWrongArgumentsAreUsageErrors checks that an unknown command or
// arguments a command does not take exit with the usage code, and that a
// command grouping others shows its help when called alone.
func TestWrongArgumentsAreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"biuld"}, exitUsage, "did you mean build?"},
		{[]string{"check", "web"}, exitUsage, `unknown command "web"`},
		{[]string{"builder", "status", "x"}, exitUsage, `unknown command "x"`},
		{[]string{"builder", "nope"}, exitUsage, `unknown command "nope" for "forge builder"`},
		{[]string{"manifest", "show", "a", "b"}, exitUsage, "at most 1 arg"},
		{[]string{"builder"}, exitOK, "Available Commands"},
		{nil, exitOK, "Available Commands"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(tt.args, &stdout, &stderr)
			if out := stdout.String() + stderr.String(); code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("forge %s: exit %d, want %d with %q\n%s",
					strings.Join(tt.args, " "), code, tt.code, tt.want, out)
			}
		})
	}
}
