// Package check finds the mistakes that cost a build or a broken runtime
// before anything is built: secrets passed as build arguments, build steps
// that need runtime-only settings, images running as root, bind mounts
// hiding what an image built or lacking SELinux labels, tags claimed twice,
// build contexts that send what they should not.
//
// It reads the configuration, each image's Dockerfile (with BuildKit's own
// parser) and the services together: no single one of them shows these
// problems. Each finding has a stable rule ID, a severity and a location.
//
// A rule is turned off with a comment "# forge:ignore=RULE[,RULE]": in a
// Dockerfile, before its first instruction for the whole file or on the
// line above an instruction for that instruction; in forge.hcl, on the line
// of a finding or the line above it, or above an image or service block for
// everything about that block. Words after the list give the reason.
package check

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/forge-build/forge/pkg/plan"
)

// Severity ranks findings. Errors stop forge build unless --no-check.
type Severity string

// The severities, most severe first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Rule IDs. They are stable: scripts and ignore comments name them.
const (
	SecretBuildArg       = "secret-build-arg"
	RuntimeEnvInBuild    = "runtime-env-in-build"
	RuntimeStepInBuild   = "runtime-step-in-build"
	RunsAsRoot           = "runs-as-root"
	BindMountOverImage   = "bind-mount-over-image"
	BindMountSELinux     = "bind-mount-selinux"
	TagConflict          = "tag-conflict"
	MissingDockerignore  = "missing-dockerignore"
	DockerignoreMisses   = "dockerignore-misses"
	BuildKitLint         = "buildkit-lint"
	UnreadableDockerfile = "unreadable-dockerfile"
)

// Location is where a finding points: a file and a 1-based line and
// column (0 when unknown).
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (l Location) String() string {
	switch {
	case l.Line == 0:
		return l.File
	case l.Column == 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

func hclLocation(r hcl.Range) Location {
	return Location{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}

// Finding is one problem.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Location Location `json:"location"`
	// Image and Service name the blocks the finding is about, when any.
	Image   string `json:"image,omitempty"`
	Service string `json:"service,omitempty"`
	// Message says what is wrong; Fix how to fix it.
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// DefaultRuntimeSteps are the commands that need a running deployment's
// settings and belong in tasks, not in RUN steps.
var DefaultRuntimeSteps = []string{"collectstatic", "migrate"}

// Options tune Run. The zero value checks with DefaultRuntimeSteps and
// reads the host's SELinux mode.
type Options struct {
	// RuntimeSteps replaces DefaultRuntimeSteps when not empty.
	RuntimeSteps []string
	// SELinuxEnforcing reports whether the host enforces SELinux; nil
	// reads /sys/fs/selinux/enforce.
	SELinuxEnforcing func() bool
}

// Run checks cfg and returns the findings that are not turned off, sorted
// by location. cfg must have loaded without errors.
func Run(cfg *plan.Config, opts Options) []Finding {
	c := &checker{cfg: cfg, opts: opts, dockerfiles: map[string]*dockerfile{}}
	c.readSuppressions()
	for _, img := range cfg.Images {
		c.checkImage(img)
	}
	for _, svc := range cfg.Services {
		c.checkService(svc)
	}
	c.checkTags()
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i].Location, c.findings[j].Location
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return c.findings
}

// HasErrors reports whether any finding is an error.
func HasErrors(findings []Finding) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity == Error })
}

type checker struct {
	cfg         *plan.Config
	opts        Options
	findings    []Finding
	dockerfiles map[string]*dockerfile
	// hclIgnored holds the rules forge.hcl turns off, by line.
	hclIgnored map[int][]string
}

func (c *checker) readSuppressions() {
	c.hclIgnored = map[int][]string{}
	data, err := os.ReadFile(c.cfg.Filename)
	if err != nil {
		return
	}
	for i, line := range strings.Split(string(data), "\n") {
		if m := ignoreDirective.FindStringSubmatch(line); m != nil {
			c.hclIgnored[i+1] = ignoredRules(m[1])
		}
	}
}

// hclSuppressed reports whether forge.hcl turns rule off at line, or for
// the block declared at blockLine.
func (c *checker) hclSuppressed(rule string, line, blockLine int) bool {
	for _, l := range []int{line, line - 1, blockLine - 1} {
		if slices.Contains(c.hclIgnored[l], rule) {
			return true
		}
	}
	return false
}

// add records f unless a directive turns its rule off.
func (c *checker) add(f Finding, df *dockerfile) {
	if df != nil && f.Location.File == df.file && df.suppressed(f.Rule, f.Location) {
		return
	}
	if df != nil && df.ignored[f.Rule] {
		return
	}
	blockLine := 0
	if img := c.cfg.Image(f.Image); img != nil {
		blockLine = img.DeclRange.Start.Line
	}
	if svc := c.cfg.Service(f.Service); svc != nil {
		blockLine = svc.DeclRange.Start.Line
	}
	line := 0
	if f.Location.File == c.cfg.Filename {
		line = f.Location.Line
	}
	if c.hclSuppressed(f.Rule, line, blockLine) {
		return
	}
	c.findings = append(c.findings, f)
}

// dockerfileOf returns img's parsed Dockerfile, or nil after recording why
// it cannot be read.
func (c *checker) dockerfileOf(img *plan.Image) *dockerfile {
	if df, ok := c.dockerfiles[img.Name]; ok {
		return df
	}
	df, err := readDockerfile(img)
	if err != nil {
		c.add(Finding{Rule: UnreadableDockerfile, Severity: Error, Image: img.Name,
			Location: hclLocation(img.DeclRange), Message: err.Error(),
			Fix: "Fix the Dockerfile's syntax; forge build would fail the same way."}, nil)
	}
	c.dockerfiles[img.Name] = df
	return df
}

// runnersOf returns the services that run img.
func (c *checker) runnersOf(img *plan.Image) []*plan.Service {
	var out []*plan.Service
	for _, svc := range c.cfg.Services {
		if svc.Image == img.Name {
			out = append(out, svc)
		}
	}
	return out
}
