// Package manifest defines forge's runtime manifest: the record of what a
// build produced (artifacts) and what runs it (services).
//
// The two halves never share values. An artifact holds its build inputs,
// build arguments included; a service holds its runtime environment. A value
// given to one is never copied into the other.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/forge-build/forge/internal/atomicfile"
)

// Version is the format version this package writes. Read rejects any
// other version.
const Version = 1

// DefaultName is the file name of the manifest, written next to forge.hcl
// unless another path is given.
const DefaultName = "forge.manifest.json"

// Manifest is the whole file.
type Manifest struct {
	Version int `json:"version"`
	// Config is the path of the forge.hcl the manifest was built from,
	// relative to the manifest's directory. Paths inside the manifest are
	// relative to Config's directory.
	Config string `json:"config,omitempty"`
	// Artifacts are the built images, keyed by image block name.
	Artifacts map[string]*Artifact `json:"artifacts"`
	// Services are the containers that run artifacts, keyed by service name.
	Services map[string]*Service `json:"services"`
	// Tasks are one-off commands run from artifacts, keyed by task name.
	Tasks map[string]*Task `json:"tasks,omitempty"`
}

// Artifact is one built image.
type Artifact struct {
	// Images are the image blocks whose identical inputs this artifact
	// builds; the artifact's key is the first.
	Images []string `json:"images"`
	// Tags are the references the image was exported under, all by one
	// export.
	Tags []string `json:"tags"`
	// Digest is the image manifest (or index) digest.
	Digest string `json:"digest"`
	// PlatformDigests are the manifest digests of a multi-platform image's
	// platforms (os/arch[/variant]), as its registry holds them; recorded
	// for pushed images.
	PlatformDigests map[string]string `json:"platformDigests,omitempty"`
	// ConfigDigest is the digest of the image configuration: the image ID
	// docker and podman show.
	ConfigDigest string `json:"configDigest,omitempty"`
	// Key identifies the declared build inputs, as forge plan shows it.
	Key string `json:"key"`
	// Fingerprint digests every input, files included: a build whose
	// fingerprint is unchanged can be skipped.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Pushed is true when every tag was pushed to its registry.
	Pushed bool `json:"pushed,omitempty"`
	// Loaded names the engine (podman, docker) the image was loaded into.
	Loaded string `json:"loaded,omitempty"`
	// Provenance is the mode (min, max) of the attached SLSA provenance
	// attestation, or empty for none.
	Provenance string `json:"provenance,omitempty"`
	Inputs     Inputs `json:"inputs"`
	// Promotions are the tags later given to this digest by forge release.
	Promotions []Promotion `json:"promotions,omitempty"`
}

// Promotion is a tag added to an artifact's digest after it was built.
type Promotion struct {
	Tag string `json:"tag"`
	// At is when the tag was added, in RFC 3339 form.
	At string `json:"at"`
}

// Inputs are what an artifact was built from. Paths are relative to the
// directory holding forge.hcl, so a manifest reads the same on every
// machine.
type Inputs struct {
	Context string `json:"context"`
	// Dockerfile is empty when the Dockerfile was written in forge.hcl.
	Dockerfile string            `json:"dockerfile,omitempty"`
	Target     string            `json:"target,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	// Platforms are those built for: the image's, else the builder's.
	Platforms []string `json:"platforms,omitempty"`
	// Contexts are the named contexts, by name.
	Contexts map[string]string `json:"contexts,omitempty"`
	// Secrets are the ids of the build secrets; their values are never
	// recorded.
	Secrets []string `json:"secrets,omitempty"`
	// CacheFrom and CacheTo are the caches the build imported and
	// exported, in BuildKit's CSV form.
	CacheFrom []string `json:"cacheFrom,omitempty"`
	CacheTo   []string `json:"cacheTo,omitempty"`
}

// Service is one container definition, pinned to the image that was built.
type Service struct {
	// Artifact is the key of the artifact the service runs.
	Artifact string `json:"artifact"`
	// Image is the artifact's first tag pinned by digest (NAME:TAG@DIGEST),
	// so a runtime starts exactly what was built.
	Image      string   `json:"image"`
	Command    []string `json:"command,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	WorkingDir string   `json:"workingDir,omitempty"`
	User       string   `json:"user,omitempty"`
	// Env is the runtime environment. No build argument is copied into it.
	Env map[string]string `json:"env,omitempty"`
	// SecretEnv names variables the runtime must provide; their values are
	// never recorded.
	SecretEnv []string `json:"secretEnv,omitempty"`
	EnvFiles  []string `json:"envFiles,omitempty"`
	Ports     []string `json:"ports,omitempty"`
	// Volumes are in SOURCE:TARGET[:OPTIONS] form, bind sources relative to
	// the directory holding forge.hcl.
	Volumes   []string `json:"volumes,omitempty"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Task is a one-off command run from an artifact.
type Task struct {
	Artifact  string            `json:"artifact"`
	Image     string            `json:"image"`
	Command   []string          `json:"command"`
	Env       map[string]string `json:"env,omitempty"`
	SecretEnv []string          `json:"secretEnv,omitempty"`
	Volumes   []string          `json:"volumes,omitempty"`
	// When is release, start or manual.
	When string `json:"when"`
}

// New returns an empty manifest of the current version.
func New() *Manifest {
	return &Manifest{
		Version:   Version,
		Artifacts: make(map[string]*Artifact),
		Services:  make(map[string]*Service),
		Tasks:     make(map[string]*Task),
	}
}

// VersionError is returned by Read for a manifest written in a format this
// forge does not understand.
type VersionError struct {
	Path    string
	Version int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s: manifest format version %d is not supported (this forge reads version %d)",
		e.Path, e.Version, Version)
}

// Read loads the manifest at path. A missing file yields an error that
// satisfies errors.Is(err, fs.ErrNotExist); a file of another format version
// yields a *VersionError; one that breaks the schema, an error naming each
// violation.
func Read(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decode(f, path)
}

func decode(r io.Reader, path string) (*Manifest, error) {
	var probe struct {
		Version int `json:"version"`
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("manifest %s is not valid JSON: %w", path, err)
	}
	if probe.Version != Version {
		return nil, &VersionError{Path: path, Version: probe.Version}
	}
	if err := checkSchema(data, path); err != nil {
		return nil, err
	}
	m := New()
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return m, nil
}

// Write stores m at path atomically: readers see either the previous file or
// the whole new one, and a failed write leaves the previous file untouched.
// A manifest that does not match the schema is not written.
func Write(path string, m *Manifest) error {
	data, err := encode(m)
	if err != nil {
		return err
	}
	return write(path, data)
}

func encode(m *Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return append(data, '\n'), nil
}

// write stores data at path atomically, unless it breaks the schema: forge
// never writes a manifest it could not read back.
func write(path string, data []byte) error {
	if err := checkSchema(data, path); err != nil {
		return fmt.Errorf("not writing it: %w", err)
	}
	return atomicfile.WriteFile(path, data, 0o644)
}

// Update applies change to the manifest at path and writes the result, while
// holding a lock that other forge processes updating the same manifest
// wait for: concurrent builds never lose each other's records. A missing
// manifest starts empty; one forge cannot read is an error and is left as
// it is. The lock is taken on the manifest's directory, so no lock file is
// left behind.
func Update(path string, change func(*Manifest) error) error {
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unlock()
	m, err := Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		m, err = New(), nil
	}
	if err != nil {
		return err
	}
	if err := change(m); err != nil {
		return err
	}
	data, err := encode(m)
	if err != nil {
		return err
	}
	// An unchanged manifest is left alone: a build that changed nothing
	// writes nothing.
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return write(path, data)
}

func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("locking the manifest: %w", err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("locking the manifest: %w", err)
	}
	return func() { d.Close() }, nil
}
