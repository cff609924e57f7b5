package check

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/forge-build/forge/pkg/plan"
)

// dockerfile is what the rules need of one Dockerfile, read with
// BuildKit's own parser.
type dockerfile struct {
	file string
	// args and envs are the names every stage declares with ARG or ENV.
	args, envs map[string]bool
	// values are the literal values of ARG defaults and ENV, by name, with
	// where they are set.
	values []assignment
	// runs are the RUN instructions of every stage.
	runs []instruction
	// final describes the stage that is exported.
	final finalStage
	// ignored are rule IDs suppressed for the whole file, and per line.
	ignored     map[string]bool
	ignoredLine map[int]map[string]bool
}

type assignment struct {
	name, value string
	kind        string // "ARG" or "ENV"
	at          Location
}

type instruction struct {
	text string
	at   Location
}

type finalStage struct {
	// user is the last USER of the final stage, "" when there is none.
	user   string
	userAt Location
	// populated are absolute paths the final stage writes with WORKDIR,
	// COPY or ADD.
	populated []string
	at        Location
}

// ignoreDirective marks a comment that turns rules off:
// "# forge:ignore=RULE[,RULE]". In forge.hcl it may end a line; in a
// Dockerfile it is a line of its own (dockerfileIgnore), since a # later in
// a line belongs to the shell of a RUN. Before a Dockerfile's first
// instruction it applies to the whole file; elsewhere to the instruction
// that follows it.
var (
	ignoreDirective  = regexp.MustCompile(`#\s*forge:ignore=([a-z0-9, -]+)`)
	dockerfileIgnore = regexp.MustCompile(`^\s*#\s*forge:ignore=([a-z0-9, -]+)`)
)

// ignoredRules returns the rules a directive's list names.
func ignoredRules(list string) []string {
	var rules []string
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rules = append(rules, r)
		}
	}
	return rules
}

// readDockerfile parses img's Dockerfile. It fails when the file cannot be
// read or parsed.
func readDockerfile(img *plan.Image) (*dockerfile, error) {
	name, src := img.Dockerfile, []byte(img.DockerfileInline)
	if img.DockerfileInline == "" {
		data, err := os.ReadFile(img.Dockerfile)
		if err != nil {
			return nil, err
		}
		src = data
	} else {
		name = "forge.hcl (dockerfile_inline of " + img.Name + ")"
	}
	result, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	stages, metaArgs, err := instructions.Parse(result.AST, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	df := &dockerfile{file: name, args: map[string]bool{}, envs: map[string]bool{},
		ignored: map[string]bool{}, ignoredLine: map[int]map[string]bool{}}
	df.readDirectives(src, result.AST)
	for _, a := range metaArgs {
		df.addArgs(&a)
	}
	for i, st := range stages {
		df.readStage(st, i == len(stages)-1, img.Target)
	}
	return df, nil
}

func (df *dockerfile) at(rng []parser.Range) Location {
	if len(rng) == 0 {
		return Location{File: df.file}
	}
	return Location{File: df.file, Line: rng[0].Start.Line, Column: rng[0].Start.Character + 1}
}

func (df *dockerfile) readDirectives(src []byte, ast *parser.Node) {
	first := 0
	if len(ast.Children) > 0 {
		first = ast.Children[0].StartLine
	}
	for i, line := range strings.Split(string(src), "\n") {
		m := dockerfileIgnore.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rules := ignoredRules(m[1])
		if i+1 < first {
			for _, r := range rules {
				df.ignored[r] = true
			}
			continue
		}
		// The directive covers the next instruction's line.
		next := nextInstruction(ast, i+1)
		if df.ignoredLine[next] == nil {
			df.ignoredLine[next] = map[string]bool{}
		}
		for _, r := range rules {
			df.ignoredLine[next][r] = true
		}
	}
}

func nextInstruction(ast *parser.Node, line int) int {
	for _, n := range ast.Children {
		if n.StartLine > line {
			return n.StartLine
		}
	}
	return -1
}

func (df *dockerfile) addArgs(cmd *instructions.ArgCommand) {
	for _, kv := range cmd.Args {
		df.args[kv.Key] = true
		if kv.Value != nil {
			df.values = append(df.values, assignment{name: kv.Key, value: *kv.Value, kind: "ARG",
				at: df.at(cmd.Location())})
		}
	}
}

func (df *dockerfile) readStage(st instructions.Stage, last bool, target string) {
	final := last && target == "" || target != "" && strings.EqualFold(st.Name, target)
	workdir := "/"
	var fs finalStage
	fs.at = df.at(st.Location)
	for _, c := range st.Commands {
		switch cmd := c.(type) {
		case *instructions.ArgCommand:
			df.addArgs(cmd)
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				df.envs[kv.Key] = true
				df.values = append(df.values, assignment{name: kv.Key, value: kv.Value, kind: "ENV",
					at: df.at(cmd.Location())})
			}
		case *instructions.RunCommand:
			df.runs = append(df.runs, instruction{text: strings.Join(cmd.CmdLine, " "), at: df.at(cmd.Location())})
		case *instructions.UserCommand:
			fs.user, fs.userAt = cmd.User, df.at(cmd.Location())
		case *instructions.WorkdirCommand:
			workdir = resolve(workdir, cmd.Path)
			fs.populated = append(fs.populated, workdir)
		case *instructions.CopyCommand:
			fs.populated = append(fs.populated, resolve(workdir, cmd.DestPath))
		case *instructions.AddCommand:
			fs.populated = append(fs.populated, resolve(workdir, cmd.DestPath))
		}
	}
	if final {
		df.final = fs
	}
}

func resolve(workdir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(workdir, p)
}

// suppressed reports whether rule is turned off at loc of this file.
func (df *dockerfile) suppressed(rule string, loc Location) bool {
	return df.ignored[rule] || df.ignoredLine[loc.Line][rule]
}
