// Package engine loads images into a local container engine, podman or
// docker, through its command-line client.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// Engines lists the engines Load knows, in the order Detect tries them.
var Engines = []string{"podman", "docker"}

// Detect returns the first engine of Engines whose client is on PATH. It
// fails when there is none.
func Detect() (string, error) {
	for _, name := range Engines {
		if _, err := exec.LookPath(name); err == nil {
			return name, nil
		}
	}
	return "", errors.New("neither podman nor docker is on PATH; install one, or name it with --load=ENGINE")
}

// Check returns an error when name is not a known engine or its client is
// not on PATH.
func Check(name string) error {
	known := false
	for _, e := range Engines {
		known = known || e == name
	}
	if !known {
		return fmt.Errorf("unknown engine %q (want %s)", name, strings.Join(Engines, " or "))
	}
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s is not on PATH: %w", name, err)
	}
	return nil
}

// Load starts `ENGINE load` and returns the writer that feeds it a
// docker-format tarball. Close waits for the engine and returns its error,
// with what it printed.
func Load(ctx context.Context, name string) (io.WriteCloser, error) {
	cmd := exec.CommandContext(ctx, name, "load")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s load: %w", name, err)
	}
	return &loader{WriteCloser: stdin, cmd: cmd, out: &out, name: name}, nil
}

// loader feeds `ENGINE load`. When the engine exits early, the write that
// finds its pipe closed returns the engine's own error and output, not a
// bare "broken pipe".
type loader struct {
	io.WriteCloser
	cmd  *exec.Cmd
	out  *bytes.Buffer
	name string

	once    sync.Once
	waitErr error
}

func (l *loader) Write(p []byte) (int, error) {
	n, err := l.WriteCloser.Write(p)
	if err != nil {
		if waitErr := l.wait(); waitErr != nil {
			return n, waitErr
		}
		return n, fmt.Errorf("%s load stopped reading: %w", l.name, err)
	}
	return n, nil
}

func (l *loader) Close() error {
	return l.wait()
}

// wait closes the engine's input and waits for it to exit, once.
func (l *loader) wait() error {
	l.once.Do(func() {
		l.WriteCloser.Close()
		if err := l.cmd.Wait(); err != nil {
			l.waitErr = fmt.Errorf("%s load: %w: %s", l.name, err, strings.TrimSpace(l.out.String()))
		}
	})
	return l.waitErr
}

// ImageID returns the ID (the config digest, sha256:...) of the image ref
// in the engine, or "" when the engine has no such image.
func ImageID(ctx context.Context, name, ref string) string {
	out, err := exec.CommandContext(ctx, name, "image", "inspect", "--format", "{{.Id}}", ref).Output()
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(out))
	if id != "" && !strings.HasPrefix(id, "sha256:") {
		id = "sha256:" + id
	}
	return id
}
