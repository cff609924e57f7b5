package main

import (
	"os"
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
