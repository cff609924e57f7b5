package plan

import (
	"bytes"
	"runtime"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// pieceSize is the size of the pieces a large file is parsed in. HCL's
// lexer collects a file's tokens in one slice that it grows as it goes, so
// pieces of a few thousand tokens allocate a third less than one parse of
// a whole large file, and they parse on every CPU.
const pieceSize = 8 << 10

// parseHCL parses src as HCL native syntax. A file of more than two pieces
// is cut at lines that may start a top-level block and the pieces parsed
// concurrently; the result is then the same as a parse of the whole file,
// which is what runs whenever a piece does not parse cleanly.
func parseHCL(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if len(src) < 2*pieceSize {
		return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	return parsePieces(src, filename, pieceSize, runtime.GOMAXPROCS(0))
}

// parsePieces parses src in pieces of at least size bytes on workers
// goroutines and joins their bodies.
//
// A piece is cut only before a line that starts with a letter. If every
// piece parses without a diagnostic, each cut lay between two top-level
// items: a cut inside a block, a bracket, a heredoc, a template or a
// comment leaves the piece before it unterminated, which is an error. The
// pieces' bodies then join into the whole file's body, positions included,
// since each piece is parsed from its own position in the file. That
// holds for UTF-8 text only: HCL counts lines by grapheme clusters, and an
// invalid sequence before a newline can swallow it, so such a file is
// parsed whole.
func parsePieces(src []byte, filename string, size, workers int) (*hcl.File, hcl.Diagnostics) {
	cuts := cutPoints(src, size)
	if len(cuts) < 2 || !utf8.Valid(src) {
		return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	files := make([]*hcl.File, len(cuts))
	clean := make([]bool, len(cuts))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, len(cuts)) {
		wg.Go(func() {
			for i := range next {
				end := len(src)
				if i+1 < len(cuts) {
					end = cuts[i+1].Byte
				}
				file, diags := hclsyntax.ParseConfig(src[cuts[i].Byte:end], filename, cuts[i])
				files[i], clean[i] = file, len(diags) == 0
			}
		})
	}
	for i := range cuts {
		next <- i
	}
	close(next)
	wg.Wait()

	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	for i, file := range files {
		if !clean[i] {
			return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
		}
		piece := file.Body.(*hclsyntax.Body)
		for name, attr := range piece.Attributes {
			if _, dup := body.Attributes[name]; dup {
				// A whole parse reports the redefinition.
				return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
			}
			body.Attributes[name] = attr
		}
		body.Blocks = append(body.Blocks, piece.Blocks...)
	}
	first, last := files[0].Body.(*hclsyntax.Body), files[len(files)-1].Body.(*hclsyntax.Body)
	body.SrcRange = hcl.RangeBetween(first.SrcRange, last.SrcRange)
	body.EndRange = last.EndRange
	return &hcl.File{Body: body, Bytes: src, Nav: pieceNav{cuts: cuts, files: files}}, nil
}

// cutPoints returns the positions at which src is cut into pieces of at
// least size bytes, the first at the start of src.
func cutPoints(src []byte, size int) []hcl.Pos {
	cuts := []hcl.Pos{hcl.InitialPos}
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		nl := bytes.IndexByte(src[i:], '\n')
		if nl < 0 {
			break
		}
		line++
		i += nl + 1
		lineStart = i
		if lineStart-cuts[len(cuts)-1].Byte >= size && lineStart < len(src) && isLetter(src[lineStart]) {
			cuts = append(cuts, hcl.Pos{Line: line, Column: 1, Byte: lineStart})
		}
	}
	return cuts
}

func isLetter(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// pieceNav answers hcl's questions about positions in a file parsed in
// pieces, such as the block a diagnostic's position lies in, by asking
// the piece that holds the position.
type pieceNav struct {
	cuts  []hcl.Pos
	files []*hcl.File
}

func (n pieceNav) piece(offset int) any {
	i := len(n.cuts) - 1
	for i > 0 && n.cuts[i].Byte > offset {
		i--
	}
	return n.files[i].Nav
}

// ContextString returns the address of the block that contains offset.
func (n pieceNav) ContextString(offset int) string {
	if nav, ok := n.piece(offset).(interface{ ContextString(int) string }); ok {
		return nav.ContextString(offset)
	}
	return ""
}

// ContextDefRange returns the definition range of the block that contains
// offset.
func (n pieceNav) ContextDefRange(offset int) hcl.Range {
	if nav, ok := n.piece(offset).(interface{ ContextDefRange(int) hcl.Range }); ok {
		return nav.ContextDefRange(offset)
	}
	return hcl.Range{}
}
