package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

func TestHostileSources(t *testing.T) {
	tests := []struct {
		name, src, summary string
	}{
		{"deep nesting", "locals {\n  x = " + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + "\n}\n",
			"Nesting too deep"},
		// A quote in a comment is not the start of a string.
		{"deep nesting after a commented quote", "# \"\nlocals {\n  x = " + strings.Repeat("[", 1_000_000) +
			strings.Repeat("]", 1_000_000) + "\n}\n# \"\n", "Nesting too deep"},
		{"deep nesting in a template", "locals {\n  x = \"${" + strings.Repeat("[", 1_000_000) +
			strings.Repeat("]", 1_000_000) + "}\"\n}\n", "Nesting too deep"},
		{"unary chain", "locals {\n  x = " + strings.Repeat("-", 2_000_000) + "1\n}\n", "Expression too long"},
		{"conditional chain", "locals {\n  x = " + strings.Repeat("true ? 1 : ", 300_000) + "1\n}\n",
			"Expression too long"},
		{"binary chain", "locals {\n  x = 1" + strings.Repeat("+1", 1_000_000) + "\n}\n", "Expression too long"},
		{"invalid UTF-8 in a label", "image \"a\xff\" {}\n", "Invalid character encoding"},
		{"invalid UTF-8 in a value", "image \"a\" {\n  target = \"\xfe\"\n}\n", "Invalid character encoding"},
		{"NUL bytes", "image \"a\" {}\n\x00\x00\n", "Invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := NewParser().Parse([]byte(tt.src), filepath.Join(t.TempDir(), "forge.hcl"), LoadOptions{})
			if !diags.HasErrors() || !strings.HasPrefix(diags[0].Summary, tt.summary) {
				t.Errorf("Parse(%s) = %v, want %q", tt.name, diags, tt.summary)
			}
			if diags[0].Subject == nil {
				t.Errorf("Parse(%s) diagnostic has no location", tt.name)
			}
		})
	}
}

func TestNestingWithinBoundsLoads(t *testing.T) {
	src := "locals {\n  x = " + strings.Repeat("[", 100) + "\"[[[[\"" + strings.Repeat("]", 100) + "\n}\n"
	if _, diags := NewParser().Parse([]byte(src), filepath.Join(t.TempDir(), "forge.hcl"), LoadOptions{}); diags.HasErrors() {
		t.Errorf("Parse(100 levels) = %v", diags)
	}
}

func TestSymlinkedContextOutsideProject(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "Dockerfile"), "FROM scratch\n")
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "ctx")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "image \"app\" {\n  context = \"ctx\"\n}\n")
	_, diags := NewParser().Load(path, LoadOptions{})
	got := summarize(path, errorsOnly(diags)...)
	want := []diag{{Pos: "2:13", Summary: "Path outside the project", Detail: "is outside"}}
	if diff := cmp.Diff(want, got, diagComparer); diff != "" {
		t.Errorf("Load(symlinked context) mismatch (-want +got):\n%s", diff)
	}
}

// TestOddValuesAreLocatedErrors gives every attribute of every block values
// of the wrong shape (nulls inside lists and objects among them): each
// must load, or fail with located errors, and never crash.
func TestOddValuesAreLocatedErrors(t *testing.T) {
	values := []string{
		`null`, `[null]`, `["a", null]`, `[[]]`, `{ a = null }`, `{ a = [null] }`, `{}`, `[{}]`,
		`[{ id = null }]`, `[{ source = null, target = null }]`, `""`, `1`, `true`, `[1]`,
		`tostring(null)`, `{ a = { b = null } }`,
	}
	blocks := []struct {
		schema *hcl.BodySchema
		format string
	}{
		{imageSchema, "image \"app\" {\n  %s = %s\n}\n"},
		{serviceSchema, "service \"web\" {\n  image = image.base\n  %s = %s\n}\n"},
		{taskSchema, "task \"t\" {\n  image = image.base\n  command = [\"x\"]\n  %s = %s\n}\n"},
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	for _, b := range blocks {
		for _, attr := range b.schema.Attributes {
			for _, value := range values {
				block := strings.Replace(fmt.Sprintf(b.format, attr.Name, value), "  image = image.base\n  image =", "  image =", 1)
				src := "image \"base\" {}\n" + block
				t.Run(fmt.Sprintf("%s=%s", attr.Name, value), func(t *testing.T) {
					cfg, diags := NewParser().Parse([]byte(src), path, LoadOptions{})
					for _, d := range errorsOnly(diags) {
						if d.Subject == nil {
							t.Errorf("Parse(%q): error %q has no location", src, d.Summary)
						}
					}
					if diags.HasErrors() {
						return
					}
					g, err := New(cfg)
					if err == nil {
						Describe(g)
					}
				})
			}
		}
	}
}

func TestTooManyImages(t *testing.T) {
	var src strings.Builder
	for i := range MaxImages + 1 {
		fmt.Fprintf(&src, "image \"i%d\" {}\n", i)
	}
	_, diags := NewParser().Parse([]byte(src.String()), filepath.Join(t.TempDir(), "forge.hcl"), LoadOptions{})
	if !diags.HasErrors() || diags[0].Summary != "Too many images" || diags[0].Subject == nil ||
		diags[0].Subject.Start.Line != MaxImages+1 {
		t.Errorf("Parse(%d image blocks) = %v, want Too many images at the last block", MaxImages+1, diags)
	}
}

func TestPorts(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	tests := []struct {
		port  string
		valid bool
	}{
		{"8000", true}, {"8000:8000", true}, {"127.0.0.1:8000:8000", true}, {"127.0.0.1::8000", true},
		{"[::1]:8000:8000", true}, {"9000-9010:9000-9010/udp", true}, {"53/sctp", true},
		{"999.1:80:80", false}, {"[:]:1:1", false}, {"[127.0.0.1]:80:80", false}, {"10.0.0.256:80:80", false},
		{"0:80", false}, {"80:65536", false}, {"80/icmp", false}, {"a:80", false},
	}
	for _, tt := range tests {
		src := fmt.Sprintf("image \"app\" {}\nservice \"web\" {\n  image = image.app\n  ports = [%q]\n}\n", tt.port)
		_, diags := NewParser().Parse([]byte(src), filepath.Join(dir, "forge.hcl"), LoadOptions{})
		invalid := diags.HasErrors() && diags[0].Summary == "Invalid port" && diags[0].Subject.Start.Line == 4
		if tt.valid == diags.HasErrors() || !tt.valid && !invalid {
			t.Errorf("ports = [%q]: %v, want valid %t", tt.port, diags, tt.valid)
		}
	}
}
