package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"
)

// MaxFileSize bounds the size of a forge.hcl or var file Load reads.
const MaxFileSize = 4 << 20

// MaxNesting bounds how deeply brackets, braces and parentheses may nest
// in a large file. HCL's parser recurses once per level, so without a
// bound a hostile file could exhaust the stack.
const MaxNesting = 200

// Config is a decoded forge.hcl file: its blocks as written, in file order,
// with variables resolved, expressions evaluated and paths made absolute.
type Config struct {
	// Filename is the path of the file as given to Load.
	Filename string
	// Dir is the absolute directory holding the file. Relative paths in the
	// file resolve against it.
	Dir       string
	Variables []*Variable
	Images    []*Image
	Services  []*Service
	Tasks     []*Task
}

// Image returns the image block named name, or nil if there is none.
func (c *Config) Image(name string) *Image {
	for _, img := range c.Images {
		if img.Name == name {
			return img
		}
	}
	return nil
}

// Service returns the service block named name, or nil if there is none.
func (c *Config) Service(name string) *Service {
	for _, svc := range c.Services {
		if svc.Name == name {
			return svc
		}
	}
	return nil
}

// Task returns the task block named name, or nil if there is none.
func (c *Config) Task(name string) *Task {
	for _, t := range c.Tasks {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// LoadOptions tune Load. The zero value reads nothing from outside the
// file.
type LoadOptions struct {
	// Values set variables from outside the file.
	Values Values
	// Set are NAME.ATTR=VALUE overrides of image attributes, applied after
	// the file is decoded; see ApplySet.
	Set []string
	// Now is the time timestamp() returns; zero means the time of the call.
	Now time.Time
}

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "image", LabelNames: []string{"name"}},
		{Type: "service", LabelNames: []string{"name"}},
		{Type: "task", LabelNames: []string{"name"}},
	},
}

// Parser loads forge.hcl files and keeps their sources, so that diagnostics
// can be printed with a snippet of the offending line.
type Parser struct {
	p *hclparse.Parser
}

// NewParser returns a Parser with no files loaded.
func NewParser() *Parser {
	return &Parser{p: hclparse.NewParser()}
}

// Files returns every file the parser has read, keyed by the filename used
// in diagnostics' ranges.
func (p *Parser) Files() map[string]*hcl.File {
	return p.p.Files()
}

// Load reads and decodes the forge.hcl file at path.
//
// Decoding goes on after a problem so that one run reports as many problems
// as it can, warnings included. The returned Config is nil when the file
// could not be parsed at all; when diags has errors a non-nil Config is
// incomplete and must not be built.
func (p *Parser) Load(path string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{parser: p, opts: opts}
	file, diags := l.parseFile(path)
	if diags.HasErrors() {
		return nil, diags
	}
	return l.load(file, path, diags)
}

// Parse decodes src as if read from the file path, for callers that hold
// the configuration in memory: JSON when path ends in .json. Relative paths
// resolve against path's directory. Results, and limits, are as for Load.
func (p *Parser) Parse(src []byte, path string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{parser: p, opts: opts}
	file, diags := l.parseSource(src, path)
	if diags.HasErrors() {
		return nil, diags
	}
	return l.load(file, path, diags)
}

func (l *loader) load(file *hcl.File, path string, diags hcl.Diagnostics) (*Config, hcl.Diagnostics) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, append(diags, flagError("Invalid configuration path", err.Error()))
	}
	l.cfg = &Config{Filename: path, Dir: filepath.Dir(abs)}
	diags = append(diags, l.decode(file.Body)...)
	return l.cfg, diags
}

// loader holds the state of one Load.
type loader struct {
	parser *Parser
	opts   LoadOptions
	cfg    *Config
	// constants evaluates values that may call functions but refer to
	// nothing, such as variable defaults.
	constants *hcl.EvalContext
	// ctx evaluates block attributes: functions, var, local, image and
	// service.
	ctx *hcl.EvalContext
}

// parseFile parses an HCL file, or a JSON one when path ends in .json,
// refusing files too large to be configuration.
func (l *loader) parseFile(path string) (*hcl.File, hcl.Diagnostics) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, hcl.Diagnostics{flagError("Configuration file not found",
			fmt.Sprintf("Cannot read %s: %s. Pass another file with -f.", path, err))}
	}
	if fi.Size() > MaxFileSize {
		return nil, hcl.Diagnostics{flagError("Configuration file too large",
			fmt.Sprintf("%s holds %d bytes; forge reads files of up to %d.", path, fi.Size(), MaxFileSize))}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{flagError("Configuration file not readable", err.Error())}
	}
	return l.parseSource(src, path)
}

// parseSource parses src, read from path: JSON when path ends in .json,
// else HCL native syntax.
func (l *loader) parseSource(src []byte, path string) (*hcl.File, hcl.Diagnostics) {
	if len(src) > MaxFileSize {
		return nil, hcl.Diagnostics{flagError("Configuration file too large",
			fmt.Sprintf("%s holds %d bytes; forge reads files of up to %d.",
				path, len(src), MaxFileSize))}
	}
	if d := checkNesting(src, path); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if filepath.Ext(path) == ".json" {
		return l.parser.p.ParseJSON(src, path)
	}
	return l.parseHCL(src, path)
}

// parseHCL parses src as HCL native syntax and registers the file with
// the parser, for diagnostics' snippets.
func (l *loader) parseHCL(src []byte, path string) (*hcl.File, hcl.Diagnostics) {
	file, diags := parseHCL(src, path)
	if file != nil {
		l.parser.p.AddFile(path, file)
	}
	return file, diags
}

// MaxOperators bounds the operators and brackets of one expression. HCL's
// parser and evaluator recurse once per unary operator, conditional and
// binary operation, so without a bound a long chain could exhaust the
// stack, which no Go program survives.
const MaxOperators = 10_000

// recursionBudget is how many bytes that can open a level of recursion
// (brackets and operators) a file may hold without being checked further:
// HCL spends at most a few KiB of stack per level, so no such file can
// exhaust the 1 GiB a goroutine may grow to.
const recursionBudget = 20_000

// checkNesting returns a diagnostic when brackets nest deeper than
// MaxNesting in src, or an expression holds more than MaxOperators
// operators and brackets. Files within recursionBudget are not read
// further: they are safe whatever their structure.
func checkNesting(src []byte, path string) *hcl.Diagnostic {
	risky := 0
	for _, b := range src {
		if strings.IndexByte("([{-!+*/%=<>&|?:", b) >= 0 {
			risky++
		}
	}
	if risky <= recursionBudget {
		return nil
	}
	tokens, _ := hclsyntax.LexConfig(src, path, hcl.InitialPos)
	depth, run := 0, 0
	tooMuch := func(tok hclsyntax.Token, summary, detail string) *hcl.Diagnostic {
		rng := tok.Range
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}
	}
	for _, tok := range tokens {
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			run++
			if depth > MaxNesting {
				return tooMuch(tok, "Nesting too deep",
					fmt.Sprintf("Brackets nest more than %d levels deep here; forge refuses such files.", MaxNesting))
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			depth = max(depth-1, 0)
		case hclsyntax.TokenNewline:
			if depth == 0 {
				run = 0
			}
		case hclsyntax.TokenMinus, hclsyntax.TokenBang, hclsyntax.TokenPlus, hclsyntax.TokenStar,
			hclsyntax.TokenSlash, hclsyntax.TokenPercent, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan,
			hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenQuestion:
			run++
		}
		if run > MaxOperators {
			return tooMuch(tok, "Expression too long",
				fmt.Sprintf("More than %d operators and brackets in one expression; forge refuses such files.",
					MaxOperators))
		}
	}
	return nil
}

func (l *loader) decode(body hcl.Body) hcl.Diagnostics {
	now := l.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	funcs := functions(now)
	l.constants = &hcl.EvalContext{Functions: funcs}
	l.ctx = &hcl.EvalContext{Functions: funcs, Variables: map[string]cty.Value{}}

	content, diags := body.Content(fileSchema)
	blocks := make(map[string][]*hcl.Block)
	for _, block := range content.Blocks {
		if len(block.Labels) == 0 || validName(block, &diags) {
			blocks[block.Type] = append(blocks[block.Type], block)
		}
	}
	diags = append(diags, l.decodeVariables(blocks["variable"])...)
	if diags.HasErrors() {
		// Every value below may depend on a variable: stop rather than
		// report the same problem again at each use.
		return diags
	}
	diags = append(diags, l.decodeLocals(blocks["locals"])...)
	images, imageDiags := l.expandImages(blocks["image"])
	diags = append(diags, imageDiags...)
	l.ctx.Variables["image"] = refObject("image", imageRefType, imageNames(blocks["image"], images))
	l.ctx.Variables["service"] = refObject("service", serviceRefType, blockNames(blocks["service"]))
	diags = append(diags, l.decodeBlocks(images, blocks)...)
	if diags.HasErrors() {
		return diags
	}
	diags = append(diags, l.applySet()...)
	diags = append(diags, checkCycles(l.cfg)...)
	diags = append(diags, checkServiceCycles(l.cfg)...)
	return append(diags, checkContextPlatforms(l.cfg)...)
}

// decodeBlocks decodes the images, then the service and task blocks.
// Images of one block's matrix share its attributes, so a problem with one
// is reported once, not for each image.
func (l *loader) decodeBlocks(instances []imageInstance, blocks map[string][]*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	type blockName struct{ kind, name string }
	seen := make(map[blockName]hcl.Range, len(instances)+len(blocks["service"])+len(blocks["task"]))
	unique := func(kind, name string, subject, decl hcl.Range) bool {
		key := blockName{kind, name}
		if prev, dup := seen[key]; dup {
			diags = append(diags, duplicateBlock(kind, name, subject, decl, prev))
			return false
		}
		seen[key] = decl
		return true
	}
	dir := l.cfg.Dir
	images, imageDiags := decodeAll(instances, func(inst imageInstance) (*Image, hcl.Diagnostics) {
		return decodeImage(inst, dir, l.ctx)
	})
	var blockDiags hcl.Diagnostics // of the instances of one block so far
	for i, inst := range instances {
		if i == 0 || inst.block != instances[i-1].block {
			blockDiags = nil
		}
		for _, d := range imageDiags[i] {
			if !slices.ContainsFunc(blockDiags, func(have *hcl.Diagnostic) bool { return sameDiagnostic(have, d) }) {
				blockDiags = append(blockDiags, d)
				diags = append(diags, d)
			}
		}
		if unique("image", inst.name, inst.nameRange, inst.block.DefRange) {
			l.cfg.Images = append(l.cfg.Images, images[i])
		}
	}
	services, serviceDiags := decodeAll(blocks["service"], func(b *hcl.Block) (*Service, hcl.Diagnostics) {
		return decodeService(b, dir, l.ctx)
	})
	for i, block := range blocks["service"] {
		diags = append(diags, serviceDiags[i]...)
		if unique(block.Type, block.Labels[0], block.LabelRanges[0], block.DefRange) {
			l.cfg.Services = append(l.cfg.Services, services[i])
		}
	}
	tasks, taskDiags := decodeAll(blocks["task"], func(b *hcl.Block) (*Task, hcl.Diagnostics) {
		return decodeTask(b, dir, l.ctx)
	})
	for i, block := range blocks["task"] {
		diags = append(diags, taskDiags[i]...)
		if unique(block.Type, block.Labels[0], block.LabelRanges[0], block.DefRange) {
			l.cfg.Tasks = append(l.cfg.Tasks, tasks[i])
		}
	}
	return diags
}

func sameDiagnostic(a, b *hcl.Diagnostic) bool {
	return a.Severity == b.Severity && a.Summary == b.Summary && a.Detail == b.Detail &&
		(a.Subject == nil) == (b.Subject == nil) && (a.Subject == nil || *a.Subject == *b.Subject)
}

// decodeAll decodes blocks on all CPUs, in batches, and returns the values
// and diagnostics in the blocks' order. Decoding a block only reads the
// evaluation context, so blocks decode independently.
func decodeAll[B, T any](blocks []B, decode func(B) (T, hcl.Diagnostics)) ([]T, []hcl.Diagnostics) {
	const batch = 32
	vals := make([]T, len(blocks))
	diags := make([]hcl.Diagnostics, len(blocks))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for start := 0; start < len(blocks); start += batch {
		end := min(start+batch, len(blocks))
		g.Go(func() error {
			for i := start; i < end; i++ {
				vals[i], diags[i] = decode(blocks[i])
			}
			return nil
		})
	}
	g.Wait()
	return vals, diags
}

// imageNames returns the names image.NAME may refer to: those of the
// instances, and the labels of blocks whose matrix could not be expanded,
// so that references to them are not reported as well.
func imageNames(blocks []*hcl.Block, instances []imageInstance) []string {
	names := make([]string, 0, len(instances))
	expanded := make(map[*hcl.Block]bool)
	for _, inst := range instances {
		names = append(names, inst.name)
		expanded[inst.block] = true
	}
	for _, b := range blocks {
		if !expanded[b] {
			names = append(names, b.Labels[0])
		}
	}
	return names
}

func blockNames(blocks []*hcl.Block) []string {
	names := make([]string, 0, len(blocks))
	for _, b := range blocks {
		names = append(names, b.Labels[0])
	}
	return names
}

// duplicateBlock reports a second kind block named name, declared at decl
// with its name at subject; the first is declared at prev.
func duplicateBlock(kind, name string, subject, decl, prev hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("The name %q is already taken by the %s block at %s. Names must be unique.",
		name, kind, prev)
	if decl == prev {
		detail = fmt.Sprintf("Two combinations of the matrix are named %q. The name must tell every "+
			"combination apart: use each matrix variable in it.", name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", kind),
		Detail:   detail,
		Subject:  subject.Ptr(),
		Context:  decl.Ptr(),
	}
}

// validName reports whether the block's label can be used in a reference
// such as image.NAME, adding a diagnostic when it cannot.
func validName(block *hcl.Block, diags *hcl.Diagnostics) bool {
	name := block.Labels[0]
	if hclsyntax.ValidIdentifier(name) {
		return true
	}
	*diags = append(*diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", block.Type),
		Detail: fmt.Sprintf("%q is not a valid name. A name starts with a letter and holds "+
			"only letters, digits, underscores and dashes.", name),
		Subject: block.LabelRanges[0].Ptr(),
	})
	return false
}
