package check

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/moby/patternmatcher"

	"github.com/forge-build/forge/pkg/plan"
)

func (c *checker) checkImage(img *plan.Image) {
	c.checkBuildArgs(img)
	c.checkDockerignore(img)
	df := c.dockerfileOf(img)
	if df == nil {
		return
	}
	c.checkDockerfileValues(img, df)
	c.checkRuns(img, df)
}

// checkBuildArgs flags forge.hcl build arguments that carry secrets.
func (c *checker) checkBuildArgs(img *plan.Image) {
	for _, name := range sortedKeys(img.Args) {
		if why := secretReason(name, img.Args[name]); why != "" {
			c.add(Finding{Rule: SecretBuildArg, Severity: Error, Image: img.Name,
				Location: hclLocation(img.ArgRange(name)),
				Message: fmt.Sprintf("build argument %s %s; build arguments are stored in the image's "+
					"history and in the manifest", name, why),
				Fix: "Pass it with secrets = [{ id = \"...\", env = \"...\" }] and read it in a " +
					"RUN --mount=type=secret step, or give it to the service at run time with secret_env."}, nil)
		}
	}
}

// checkDockerfileValues flags ARG defaults and ENV values that carry
// secrets: they end up in the image.
func (c *checker) checkDockerfileValues(img *plan.Image, df *dockerfile) {
	for _, a := range df.values {
		if why := secretReason(a.name, a.value); why != "" && a.value != "" {
			c.add(Finding{Rule: SecretBuildArg, Severity: Error, Image: img.Name, Location: a.at,
				Message: fmt.Sprintf("%s %s %s; its value is stored in the image", a.kind, a.name, why),
				Fix:     "Remove the value from the Dockerfile; use a build secret, or runtime secret_env."}, df)
		}
	}
}

// checkRuns flags RUN steps that need runtime-only settings.
func (c *checker) checkRuns(img *plan.Image, df *dockerfile) {
	runtimeEnv := c.runtimeEnv(img)
	steps := c.opts.RuntimeSteps
	if len(steps) == 0 {
		steps = DefaultRuntimeSteps
	}
	for _, run := range df.runs {
		for _, name := range referencedVars(run.text) {
			if runtimeEnv[name] != "" && !run.declared[name] && img.Args[name] == "" &&
				!buildDefined[name] {
				c.add(Finding{Rule: RuntimeEnvInBuild, Severity: Warning, Image: img.Name, Location: run.at,
					Message: fmt.Sprintf("RUN uses $%s, which only service %s sets, at run time; "+
						"the build sees it empty", name, runtimeEnv[name]),
					Fix: "Move the step to a task, or declare the value as a build argument (args) and ARG."}, df)
			}
		}
		for _, step := range steps {
			if runsStep(run.text, step) {
				c.add(Finding{Rule: RuntimeStepInBuild, Severity: Error, Image: img.Name, Location: run.at,
					Message: fmt.Sprintf("RUN runs %s, a step that needs the runtime settings of a "+
						"deployment (secrets, database), which a build does not have", step),
					Fix: fmt.Sprintf("Remove it from the Dockerfile and declare task %q { image = image.%s, "+
						"command = [...] } to run it at release time.", step, img.Name)}, df)
			}
		}
	}
}

// buildDefined are the variables a RUN step has without declaring them:
// PATH, which BuildKit sets, and the proxy settings it passes as
// predefined build arguments.
var buildDefined = map[string]bool{"PATH": true,
	"HTTP_PROXY": true, "http_proxy": true, "HTTPS_PROXY": true, "https_proxy": true,
	"FTP_PROXY": true, "ftp_proxy": true, "NO_PROXY": true, "no_proxy": true,
	"ALL_PROXY": true, "all_proxy": true}

// runtimeEnv maps each runtime environment variable of the services that
// run img to a service that sets it.
func (c *checker) runtimeEnv(img *plan.Image) map[string]string {
	out := map[string]string{}
	for _, svc := range c.runnersOf(img) {
		for name := range svc.Env {
			out[name] = svc.Name
		}
		for _, name := range svc.SecretEnv {
			out[name] = svc.Name
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

func referencedVars(s string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// generatedDirs are directories projects generate and images should not
// contain; a service's volume targets are added to them.
var generatedDirs = []string{"staticfiles", "media", "node_modules", "__pycache__", ".git", ".venv"}

// checkDockerignore flags contexts without a .dockerignore, and
// .dockerignore files that let generated or mounted directories through.
func (c *checker) checkDockerignore(img *plan.Image) {
	patterns, err := img.IgnorePatterns()
	if err != nil {
		return
	}
	file, ok := img.IgnoreFile()
	if !ok {
		c.add(Finding{Rule: MissingDockerignore, Severity: Warning, Image: img.Name,
			Location: hclLocation(img.AttrRange("context")),
			Message:  fmt.Sprintf("build context %s has no .dockerignore: everything in it is sent to the builder", img.Context),
			Fix:      "Add a .dockerignore listing what the image must not contain: .git, caches, generated files."}, nil)
		return
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return
	}
	for _, dir := range c.candidateDirs(img) {
		if !isDir(filepath.Join(img.Context, dir)) {
			continue
		}
		if excluded, _ := pm.MatchesOrParentMatches(dir); excluded {
			continue
		}
		c.add(Finding{Rule: DockerignoreMisses, Severity: Warning, Image: img.Name,
			Location: Location{File: file, Line: 1},
			Message:  fmt.Sprintf("%s does not exclude %s/, which is generated or mounted at run time", file, dir),
			Fix:      fmt.Sprintf("Add a line %s/ to %s.", dir, file)}, nil)
	}
}

func (c *checker) candidateDirs(img *plan.Image) []string {
	dirs := slices.Clone(generatedDirs)
	for _, svc := range c.runnersOf(img) {
		for _, v := range svc.Volumes {
			if base := path.Base(v.Target); !slices.Contains(dirs, base) && base != "/" {
				dirs = append(dirs, base)
			}
		}
	}
	return dirs
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func (c *checker) checkService(svc *plan.Service) {
	img := c.cfg.Image(svc.Image)
	if img == nil {
		return
	}
	df := c.dockerfileOf(img)
	if df != nil {
		c.checkUser(svc, df)
		c.checkMountsOverImage(svc, df)
	}
	c.checkSELinux(svc)
}

func (c *checker) checkUser(svc *plan.Service, df *dockerfile) {
	isRoot := func(user string) bool {
		name := strings.SplitN(user, ":", 2)[0]
		return name == "root" || name == "0"
	}
	var message string
	switch {
	case svc.User != "" && !isRoot(svc.User):
		return
	case svc.User != "":
		message = fmt.Sprintf("service %s runs as root: it sets user %s", svc.Name, svc.User)
	case df.final.user != "" && !isRoot(df.final.user):
		return
	case df.final.user != "":
		message = fmt.Sprintf("service %s runs as root: %s sets USER %s and the service sets no user",
			svc.Name, df.file, df.final.user)
	default:
		message = fmt.Sprintf("service %s runs as root: %s has no USER instruction and the service sets no user",
			svc.Name, df.file)
	}
	c.add(Finding{Rule: RunsAsRoot, Severity: Warning, Service: svc.Name, Image: svc.Image,
		Location: hclLocation(svc.DeclRange),
		Message:  message,
		Fix: "Create a user in the Dockerfile (RUN useradd --uid 1000 appuser), give it the directories " +
			"the app writes, and end with USER appuser; or set user in the service."}, df)
}

func (c *checker) checkMountsOverImage(svc *plan.Service, df *dockerfile) {
	for i, v := range svc.Volumes {
		if !v.Bind {
			continue
		}
		target := path.Clean(v.Target)
		for _, p := range df.final.populated {
			if p == "/" || (p != target && !strings.HasPrefix(p, target+"/")) {
				continue
			}
			c.add(Finding{Rule: BindMountOverImage, Severity: Warning, Service: svc.Name, Image: svc.Image,
				Location: hclLocation(svc.VolumeRange(i)),
				Message: fmt.Sprintf("bind mount %s hides %s, which the image builds: the container runs "+
					"the host's files, not what was built", v.String(), p),
				Fix: "Remove the bind mount to run what the image holds, or mount a named volume for " +
					"data the app writes."}, nil)
			break
		}
	}
}

// checkSELinux flags bind mounts without an SELinux label when the
// configuration labels some mounts or the host enforces SELinux.
func (c *checker) checkSELinux(svc *plan.Service) {
	why := c.selinuxReason()
	if why == "" {
		return
	}
	for i, v := range svc.Volumes {
		if v.Bind && v.SELinux == "" {
			c.add(Finding{Rule: BindMountSELinux, Severity: Warning, Service: svc.Name,
				Location: hclLocation(svc.VolumeRange(i)),
				Message: fmt.Sprintf("bind mount %s has no SELinux label while %s: the container "+
					"is denied access even when file permissions allow it", v.String(), why),
				Fix: "Add :z (shared by several containers) or :Z (private to one) to the volume."}, nil)
		}
	}
}

func (c *checker) selinuxReason() string {
	for _, svc := range c.cfg.Services {
		for _, v := range svc.Volumes {
			if v.SELinux != "" {
				return "other mounts of this configuration are labelled"
			}
		}
	}
	enforcing := c.opts.SELinuxEnforcing
	if enforcing == nil {
		enforcing = hostEnforcesSELinux
	}
	if enforcing() {
		return "this host enforces SELinux"
	}
	return ""
}

func hostEnforcesSELinux() bool {
	data, err := os.ReadFile("/sys/fs/selinux/enforce")
	return err == nil && strings.TrimSpace(string(data)) == "1"
}

// checkTags reports tags that two different builds would export, as the
// planner finds them. The planner's other errors are not findings: the
// commands that plan report them.
func (c *checker) checkTags() {
	_, err := plan.New(c.cfg)
	var diags hcl.Diagnostics
	if !errors.As(err, &diags) {
		return
	}
	for _, d := range diags {
		if !plan.TagConflict(d) {
			continue
		}
		f := Finding{Rule: TagConflict, Severity: Error, Message: d.Detail,
			Fix: "Give each image its own tags, or make the blocks' inputs identical so forge merges them."}
		if d.Subject != nil {
			f.Location = hclLocation(*d.Subject)
		}
		c.add(f, nil)
	}
}

// secretPrefixes start values that are credentials of well-known services.
var secretPrefixes = regexp.MustCompile(`^(ghp_|gho_|github_pat_|glpat-|xox[abpr]-|sk_live_|AKIA[0-9A-Z]{12}|-----BEGIN)`)

// secretReason says why a name and value look like a secret, or returns ""
// when they do not.
func secretReason(name, value string) string {
	switch {
	case plan.LooksSecret(name) && !plainSetting(value):
		return "is named like a secret"
	case secretPrefixes.MatchString(value):
		return "holds what looks like a credential"
	case looksRandom(value):
		return "holds a long random-looking value"
	}
	return ""
}

// plainSetting reports whether a value named like a secret is plainly a
// setting about secrets instead, such as PASSWORD_MIN_LENGTH=8 or
// TOKEN_REFRESH=true: a number or a boolean.
func plainSetting(value string) bool {
	if _, err := strconv.ParseFloat(value, 64); err == nil {
		return true
	}
	_, err := strconv.ParseBool(value)
	return err == nil
}

// looksRandom reports whether v is long, without spaces or path and URL
// punctuation, and of high entropy: a token rather than a word or version.
func looksRandom(v string) bool {
	if len(v) < 24 || strings.ContainsAny(v, " /:.") {
		return false
	}
	counts := map[rune]int{}
	for _, r := range v {
		counts[r]++
	}
	entropy := 0.0
	for _, n := range counts {
		p := float64(n) / float64(len(v))
		entropy -= p * math.Log2(p)
	}
	return entropy >= 4.0
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
