package check

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// fileCommands take paths and text as arguments: "mv migrate /app" moves a
// file called migrate, "echo collectstatic" prints a word. Neither runs a
// step.
var fileCommands = []string{"mv", "cp", "rm", "ln", "cat", "echo", "printf", "mkdir", "touch",
	"chmod", "chown", "chgrp", "install", "ls", "test", "[", "grep", "sed", "find", "tar", "stat"}

// shells run their -c argument as a script.
var shells = []string{"sh", "bash", "dash", "ash", "zsh"}

// runsStep reports whether the shell script runs step: as a command
// ("migrate", "./bin/migrate") or as an argument of a command that is not
// a file utility ("python manage.py migrate", "rake migrate"). Comments do
// not count. A script the shell parser cannot read, such as a heredoc
// holding another language, is searched for step as a word.
func runsStep(script, step string) bool {
	file, err := syntax.NewParser().Parse(strings.NewReader(script), "")
	if err != nil {
		return hasWord(script, step)
	}
	found := false
	syntax.Walk(file, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok || found || len(call.Args) == 0 {
			return !found
		}
		args := make([]string, len(call.Args))
		for i, w := range call.Args {
			args[i] = wordText(w)
		}
		found = callRunsStep(args, step)
		return !found
	})
	return found
}

func callRunsStep(args []string, step string) bool {
	name := path.Base(args[0])
	if name == step {
		return true
	}
	if slices.Contains(shells, name) {
		// -c, alone or among other flags (-ec, -lc), takes the script.
		i := slices.IndexFunc(args, func(a string) bool {
			return len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a, 'c')
		})
		if i > 0 && i+1 < len(args) {
			return runsStep(args[i+1], step)
		}
	}
	if slices.Contains(fileCommands, name) {
		return false
	}
	return slices.Contains(args[1:], step)
}

// wordText returns a shell word's text with its quotes removed; an
// expansion stands for itself, as written.
func wordText(w *syntax.Word) string {
	var b strings.Builder
	var add func(parts []syntax.WordPart)
	add = func(parts []syntax.WordPart) {
		for _, p := range parts {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				b.WriteString(p.Value)
			case *syntax.DblQuoted:
				add(p.Parts)
			default:
				b.WriteString("$")
			}
		}
	}
	add(w.Parts)
	return b.String()
}

// hasWord reports whether word is one of the shell words of s, or the
// last element of a command path: "manage.py migrate" and "bin/migrate"
// have the word migrate; "/usr/local/bin/migrate.sh" and
// "golang-migrate/migrate/v4" do not.
func hasWord(s, word string) bool {
	pattern := `(^|[\s;&|(/"'])` + regexp.QuoteMeta(word) + `($|[\s;&|)"'])`
	return regexp.MustCompile(pattern).MatchString(s)
}
