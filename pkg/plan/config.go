package plan

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Config is a decoded forge.hcl file: its blocks as written, in file order,
// with every path made absolute.
type Config struct {
	// Filename is the path of the file as given to Load.
	Filename string
	// Dir is the absolute directory holding the file. Relative paths in the
	// file resolve against it.
	Dir      string
	Images   []*Image
	Services []*Service
}

// Image is an image block: the inputs of one Dockerfile build and the tags
// its result carries.
type Image struct {
	Name string
	// Context is the absolute path of the build context directory. It
	// defaults to the directory holding forge.hcl.
	Context string
	// Dockerfile is the absolute path of the Dockerfile. It defaults to
	// "Dockerfile" inside Context; a relative value resolves against Context.
	Dockerfile string
	// Target is the Dockerfile stage to build; empty means the last stage.
	Target string
	// Args are the build arguments, passed to the build and nowhere else.
	Args map[string]string
	// Tags are the image references the result is exported under. An image
	// block without tags is tagged NAME:latest.
	Tags []string

	DeclRange hcl.Range
}

// Service is a service block: a container that runs the image built from
// an image block.
type Service struct {
	Name string
	// Image is the name of the image block the service runs.
	Image string
	// Command replaces the image's default command when not empty.
	Command []string
	// Env is the runtime environment. It is never passed to a build.
	Env map[string]string

	DeclRange hcl.Range
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

var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "image", LabelNames: []string{"name"}},
		{Type: "service", LabelNames: []string{"name"}},
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
// as it can. The returned Config is nil when the file could not be parsed at
// all; when diags has errors a non-nil Config is incomplete and must not be
// built.
func (p *Parser) Load(path string) (*Config, hcl.Diagnostics) {
	if _, err := os.Stat(path); err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Configuration file not found",
			Detail:   fmt.Sprintf("Cannot read %s: %s. Pass another file with -f.", path, err),
		}}
	}
	file, diags := p.p.ParseHCLFile(path)
	if diags.HasErrors() {
		return nil, diags
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid configuration path",
			Detail:   err.Error(),
		})
	}
	cfg := &Config{Filename: path, Dir: filepath.Dir(abs)}
	diags = append(diags, cfg.decode(file.Body)...)
	return cfg, diags
}

func (c *Config) decode(body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(fileSchema)
	var services []*hcl.Block
	for _, block := range content.Blocks {
		if !validName(block, &diags) {
			continue
		}
		switch block.Type {
		case "image":
			img, d := decodeImage(block, c.Dir)
			diags = append(diags, d...)
			c.addImage(img, block, &diags)
		case "service":
			services = append(services, block)
		}
	}
	// Services are decoded once every image is known, so a service may
	// refer to an image declared further down the file.
	for _, block := range services {
		svc, d := decodeService(block, c)
		diags = append(diags, d...)
		c.addService(svc, block, &diags)
	}
	return diags
}

func (c *Config) addImage(img *Image, block *hcl.Block, diags *hcl.Diagnostics) {
	if prev := c.Image(img.Name); prev != nil {
		*diags = append(*diags, duplicateBlock(block, prev.DeclRange))
		return
	}
	c.Images = append(c.Images, img)
}

func (c *Config) addService(svc *Service, block *hcl.Block, diags *hcl.Diagnostics) {
	if prev := c.Service(svc.Name); prev != nil {
		*diags = append(*diags, duplicateBlock(block, prev.DeclRange))
		return
	}
	c.Services = append(c.Services, svc)
}

func duplicateBlock(block *hcl.Block, prev hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", block.Type),
		Detail: fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique.",
			block.Type, block.Labels[0], prev),
		Subject: block.LabelRanges[0].Ptr(),
		Context: block.DefRange.Ptr(),
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
