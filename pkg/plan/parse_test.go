package plan

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/forge-build/forge/internal/genconfig"
)

// piecesSeeds are files whose lines starting with a letter lie inside
// constructs that a cut must not split.
var piecesSeeds = []string{
	"image \"a\" {\ntags = [\"x\"]\n}\nimage \"b\" {}\n",
	"image \"a\" {\n  args = {\nA = \"1\"\n  }\n}\n",
	"image \"a\" {\n  dockerfile_inline = <<EOT\nFROM scratch\nRUN true\nEOT\n}\nservice \"s\" {}\n",
	"image \"a\" {\n  dockerfile_inline = <<-EOT\n  FROM scratch\nEOT\n}\n",
	"/* a comment\nimage \"x\" {}\n*/\nimage \"a\" {}\n",
	"image \"a\" {\n  tags = [\"${\nvar.x}\"]\n}\n",
	"image \"a\" {\n  args = { A = (\nvar.x) }\n}\n",
	"a = 1\nb = 2\na = 3\n",
	"a = 1 +\nb\n",
	"image \"a\" {}\nimage\n\"b\" {}\n",
	"image \"a\" {\n  x = <<EOT\n${\nfoo}\nEOT\n}\n",
	"image \"a\" { x = \"%{ if true }\nfoo%{ endif }\" }\n",
	"\ufeffimage \"a\" {}\r\nimage \"b\" {}\r\n",
}

// FuzzParsePieces checks that a file parsed in pieces is the file parsed
// whole: every piece parses cleanly only if the whole file does, and then
// into the same body, positions included.
func FuzzParsePieces(f *testing.F) {
	for _, seed := range piecesSeeds {
		f.Add([]byte(seed))
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*", "*.hcl"))
	for _, path := range seeds {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(genconfig.Services(3, 5)))
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > MaxFileSize || checkNesting(src, "forge.hcl") != nil {
			return
		}
		whole, wholeDiags := hclsyntax.ParseConfig(src, "forge.hcl", hcl.InitialPos)
		pieces, diags := parsePieces(src, "forge.hcl", 1, 3)
		if !reflect.DeepEqual(diags, wholeDiags) {
			t.Fatalf("diagnostics differ:\npieces: %v\nwhole:  %v", diags, wholeDiags)
		}
		if len(wholeDiags) > 0 {
			return
		}
		if !reflect.DeepEqual(pieces.Body, whole.Body) {
			t.Fatalf("bodies differ:\npieces: %#v\nwhole:  %#v", pieces.Body, whole.Body)
		}
		type navigator interface {
			ContextString(int) string
			ContextDefRange(int) hcl.Range
		}
		wn, pn := whole.Nav.(navigator), pieces.Nav.(navigator)
		for offset := range len(src) + 1 {
			if w, p := wn.ContextString(offset), pn.ContextString(offset); w != p {
				t.Fatalf("context at %d: pieces %q, whole %q", offset, p, w)
			}
			if w, p := wn.ContextDefRange(offset), pn.ContextDefRange(offset); w != p {
				t.Fatalf("definition range at %d: pieces %v, whole %v", offset, p, w)
			}
		}
	})
}

func TestParsePiecesCuts(t *testing.T) {
	src := []byte(genconfig.Services(100, 1000))
	cuts := cutPoints(src, len(src)/8)
	if len(cuts) < 8 {
		t.Fatalf("cutPoints() made %d pieces of a %d-byte file, want at least 8", len(cuts), len(src))
	}
	file, diags := parsePieces(src, "forge.hcl", len(src)/8, 4)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if _, ok := file.Nav.(pieceNav); !ok {
		t.Fatalf("a clean file was parsed whole, not in pieces")
	}
	if n := len(file.Body.(*hclsyntax.Body).Blocks); n != 1101 {
		t.Fatalf("parsed %d blocks, want 1101", n)
	}
}
