package check

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/forge-build/forge/pkg/plan"
)

// dockerfile is what the rules need of one Dockerfile, read with
// BuildKit's own parser.
type dockerfile struct {
	file string
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
	// declared are the variables the stage has declared, with ARG or
	// ENV, or inherited, with ENV, where the instruction runs.
	declared map[string]bool
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
// that follows it. Words after the list are a reason, free text:
// "# forge:ignore=runs-as-root the entrypoint drops privileges".
var (
	ignoreDirective  = regexp.MustCompile(`#\s*forge:ignore=(` + ruleList + `)`)
	dockerfileIgnore = regexp.MustCompile(`^\s*#\s*forge:ignore=(` + ruleList + `)`)
)

const ruleList = `[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*`

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
	df := &dockerfile{file: name, ignored: map[string]bool{}, ignoredLine: map[int]map[string]bool{}}
	df.readDirectives(src, result.AST)
	for _, a := range metaArgs {
		df.addArgs(&a)
	}
	expandBaseNames(stages, metaArgs, img.Args, result.EscapeToken)
	final := len(stages) - 1
	if img.Target != "" {
		final = slices.IndexFunc(stages, func(st instructions.Stage) bool { return strings.EqualFold(st.Name, img.Target) })
	}
	if final < 0 {
		return df, nil
	}
	// Only the stages the built one needs end up in the image; each
	// starts from its parent stage's user, directory and files.
	used := usedStages(stages, final)
	states := make([]stageState, len(stages))
	for i, st := range stages {
		if !used[i] {
			continue
		}
		state := stageState{workdir: "/"}
		if parent := stageIndex(stages, st.BaseName); parent >= 0 && parent < i {
			state = states[parent]
			state.populated = slices.Clone(state.populated)
		}
		state.at = df.at(st.Location)
		states[i] = df.readStage(st, state)
	}
	df.final = states[final].finalStage
	return df, nil
}

// expandBaseNames expands the ARGs in each stage's FROM, as BuildKit does
// with the ARGs declared before the first FROM: their defaults, or the
// image's build args. FROM base-${VARIANT} then names the stage it builds
// on.
func expandBaseNames(stages []instructions.Stage, metaArgs []instructions.ArgCommand,
	args map[string]string, escape rune) {
	var env []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if v, ok := args[kv.Key]; ok {
				env = append(env, kv.Key+"="+v)
			} else if kv.Value != nil {
				env = append(env, kv.Key+"="+*kv.Value)
			}
		}
	}
	lex, vars := shell.NewLex(escape), shell.EnvsFromSlice(env)
	for i := range stages {
		if name, _, err := lex.ProcessWord(stages[i].BaseName, vars); err == nil {
			stages[i].BaseName = name
		}
	}
}

// stageIndex returns the index of the stage ref names (a name, or a
// number), or -1 when ref names an image rather than a stage.
func stageIndex(stages []instructions.Stage, ref string) int {
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < len(stages) {
		return n
	}
	return slices.IndexFunc(stages, func(st instructions.Stage) bool {
		return st.Name != "" && strings.EqualFold(st.Name, ref)
	})
}

// usedStages marks the stages stage final needs: its parents (FROM
// STAGE) and the stages it copies from, transitively.
func usedStages(stages []instructions.Stage, final int) []bool {
	used := make([]bool, len(stages))
	var visit func(i int)
	visit = func(i int) {
		if i < 0 || used[i] {
			return
		}
		used[i] = true
		visit(stageIndex(stages, stages[i].BaseName))
		for _, c := range stages[i].Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" {
				visit(stageIndex(stages, cp.From))
			}
		}
	}
	visit(final)
	return used
}

func (df *dockerfile) at(rng []parser.Range) Location {
	if len(rng) == 0 {
		return Location{File: df.file}
	}
	return Location{File: df.file, Line: rng[0].Start.Line, Column: rng[0].Start.Character + 1}
}

// insideInstruction reports whether line is one of an instruction's
// lines after its first: a heredoc's body or a continuation.
func insideInstruction(ast *parser.Node, line int) bool {
	return slices.ContainsFunc(ast.Children, func(n *parser.Node) bool {
		return n.StartLine < line && line <= n.EndLine
	})
}

func (df *dockerfile) readDirectives(src []byte, ast *parser.Node) {
	first := 0
	if len(ast.Children) > 0 {
		first = ast.Children[0].StartLine
	}
	for i, line := range strings.Split(string(src), "\n") {
		m := dockerfileIgnore.FindStringSubmatch(line)
		if m == nil || insideInstruction(ast, i+1) {
			// A # line inside a heredoc is the script's.
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
		if kv.Value != nil {
			df.values = append(df.values, assignment{name: kv.Key, value: *kv.Value, kind: "ARG",
				at: df.at(cmd.Location())})
		}
	}
}

// stageState is what a stage leaves for the stages built on it.
type stageState struct {
	finalStage
	workdir string
	// env are the names the stage's ENV instructions and its parents'
	// set; a stage built on it inherits them, but not its ARGs.
	env map[string]bool
}

// readStage reads the instructions of st, a stage the image needs,
// starting from state, and returns the state it ends in.
func (df *dockerfile) readStage(st instructions.Stage, state stageState) stageState {
	// An ARG before the first FROM is not in scope: a stage declares it
	// again to use it.
	state.env = maps.Clone(state.env)
	if state.env == nil {
		state.env = map[string]bool{}
	}
	declared := maps.Clone(state.env)
	for _, c := range st.Commands {
		switch cmd := c.(type) {
		case *instructions.ArgCommand:
			df.addArgs(cmd)
			for _, kv := range cmd.Args {
				declared[kv.Key] = true
			}
		case *instructions.EnvCommand:
			for _, kv := range cmd.Env {
				state.env[kv.Key], declared[kv.Key] = true, true
				df.values = append(df.values, assignment{name: kv.Key, value: kv.Value, kind: "ENV",
					at: df.at(cmd.Location())})
			}
		case *instructions.RunCommand:
			text := strings.Join(cmd.CmdLine, " ")
			// A heredoc's script is in its file, not on the command line.
			for _, f := range cmd.Files {
				text += "\n" + f.Data
			}
			df.runs = append(df.runs, instruction{text: text, at: df.at(cmd.Location()),
				declared: maps.Clone(declared)})
		case *instructions.UserCommand:
			state.user, state.userAt = cmd.User, df.at(cmd.Location())
		case *instructions.WorkdirCommand:
			state.workdir = resolve(state.workdir, cmd.Path)
			state.populated = append(state.populated, state.workdir)
		case *instructions.CopyCommand:
			state.populated = append(state.populated, resolve(state.workdir, cmd.DestPath))
		case *instructions.AddCommand:
			state.populated = append(state.populated, resolve(state.workdir, cmd.DestPath))
		}
	}
	return state
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
