package main

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestPrintDiagnosticsInOrderOfPlace(t *testing.T) {
	at := func(file string, line, byte int) *hcl.Range {
		return &hcl.Range{Filename: file, Start: hcl.Pos{Line: line, Column: 1, Byte: byte},
			End: hcl.Pos{Line: line, Column: 2, Byte: byte + 1}}
	}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "third", Subject: at("a.hcl", 9, 90)},
		{Severity: hcl.DiagWarning, Summary: "second", Subject: at("a.hcl", 2, 20)},
		{Severity: hcl.DiagError, Summary: "first"},
		{Severity: hcl.DiagError, Summary: "fourth", Subject: at("b.hcl", 1, 0)},
	}
	var out strings.Builder
	printDiagnostics(&out, nil, diags)
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.LastIndex(line, ": "); i >= 0 && !strings.HasPrefix(line, " ") {
			got = append(got, line[i+2:])
		}
	}
	if want := "first second third fourth"; strings.Join(got, " ") != want {
		t.Errorf("printDiagnostics() order = %v, want %s\n%s", got, want, out.String())
	}
}
