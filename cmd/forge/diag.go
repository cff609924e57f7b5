package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// printDiagnostics writes each diagnostic as FILE:LINE:COL, its severity and
// summary, the source line with the range underlined, and the detail:
// first those about no place in a file (flags, the environment), then the
// others in the order of their places, so that the output is the same in
// every run.
func printDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range slices.SortedStableFunc(slices.Values(diags), byPlace) {
		writeDiagnostic(w, files, d)
	}
}

func byPlace(a, b *hcl.Diagnostic) int {
	switch {
	case a.Subject == nil || b.Subject == nil:
		return cmp.Compare(boolInt(a.Subject != nil), boolInt(b.Subject != nil))
	case a.Subject.Filename != b.Subject.Filename:
		return strings.Compare(a.Subject.Filename, b.Subject.Filename)
	}
	return cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeDiagnostic(w io.Writer, files map[string]*hcl.File, d *hcl.Diagnostic) {
	severity := "error"
	if d.Severity == hcl.DiagWarning {
		severity = "warning"
	}
	if d.Subject == nil {
		fmt.Fprintf(w, "%s: %s\n", severity, d.Summary)
	} else {
		fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", displayPath(d.Subject.Filename),
			d.Subject.Start.Line, d.Subject.Start.Column, severity, d.Summary)
		writeSnippet(w, files[d.Subject.Filename], *d.Subject)
	}
	if d.Detail != "" {
		fmt.Fprintf(w, "  %s\n", d.Detail)
	}
	fmt.Fprintln(w)
}

// writeSnippet prints the first line of rng with a caret line under the
// part rng covers.
func writeSnippet(w io.Writer, file *hcl.File, rng hcl.Range) {
	if file == nil {
		return
	}
	line := sourceLine(file.Bytes, rng.Start.Line)
	if line == "" {
		return
	}
	end := rng.End.Column
	if rng.End.Line != rng.Start.Line || end > len(line)+1 {
		end = len(line) + 1
	}
	width := max(end-rng.Start.Column, 1)
	gutter := fmt.Sprintf("%4d | ", rng.Start.Line)
	fmt.Fprintf(w, "%s%s\n", gutter, line)
	pad := strings.Repeat(" ", len(gutter)-2) + "| " + indentOf(line, rng.Start.Column-1)
	fmt.Fprintf(w, "%s%s\n", pad, strings.Repeat("^", width))
}

// indentOf returns whitespace as wide as the first n bytes of line, keeping
// its tabs so the caret lines up.
func indentOf(line string, n int) string {
	n = min(max(n, 0), len(line))
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		return ' '
	}, line[:n])
}

func sourceLine(src []byte, n int) string {
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), len(src)+1)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return strings.TrimRight(sc.Text(), "\r")
		}
	}
	return ""
}

// displayPath shortens path to be relative to the working directory when it
// is below it.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
