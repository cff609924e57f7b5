package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
)

var imageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "context"},
		{Name: "dockerfile"},
		{Name: "target"},
		{Name: "args"},
		{Name: "tags"},
	},
}

func decodeImage(block *hcl.Block, dir string) (*Image, hcl.Diagnostics) {
	img := &Image{Name: block.Labels[0], DeclRange: block.DefRange}
	content, diags := block.Body.Content(imageSchema)
	attrs := content.Attributes

	var d hcl.Diagnostics
	contextDir, d := decodeString(attrs["context"])
	diags = append(diags, d...)
	dockerfile, d := decodeString(attrs["dockerfile"])
	diags = append(diags, d...)
	img.Target, d = decodeString(attrs["target"])
	diags = append(diags, d...)
	img.Args, d = decodeStringMap(attrs["args"])
	diags = append(diags, d...)
	img.Tags, d = decodeStringList(attrs["tags"])
	diags = append(diags, d...)
	if diags.HasErrors() {
		return img, diags
	}

	img.Context = resolvePath(dir, contextDir, ".")
	img.Dockerfile = resolvePath(img.Context, dockerfile, "Dockerfile")
	// A missing context hides its Dockerfile too: report only the cause.
	if d := checkDir(img.Context, attrs["context"], block); d.HasErrors() {
		diags = append(diags, d...)
	} else {
		diags = append(diags, checkFile(img.Dockerfile, attrs["dockerfile"], block)...)
	}
	diags = append(diags, checkArgs(img.Args, attrs["args"])...)
	if len(img.Tags) == 0 {
		img.Tags = []string{img.Name + ":latest"}
	}
	diags = append(diags, checkTags(img.Tags, attrs["tags"], block)...)
	return img, diags
}

// resolvePath returns p made absolute against base, or def when p is empty.
func resolvePath(base, p, def string) string {
	if p == "" {
		p = def
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// subject returns the range a diagnostic about attr should point at: the
// attribute's value, or the block header when the attribute is absent and
// its default was used.
func subject(attr *hcl.Attribute, block *hcl.Block) *hcl.Range {
	if attr != nil {
		return attr.Expr.Range().Ptr()
	}
	return block.DefRange.Ptr()
}

func checkDir(path string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil
	}
	detail := fmt.Sprintf("The build context %s is not a directory.", path)
	if err != nil {
		detail = fmt.Sprintf("The build context %s does not exist.", path)
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Missing build context",
		Detail:   detail + " Relative paths resolve against the directory holding forge.hcl.",
		Subject:  subject(attr, block),
	}}
}

func checkFile(path string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Missing Dockerfile",
		Detail: fmt.Sprintf("No Dockerfile at %s. A relative dockerfile path resolves "+
			"against the build context.", path),
		Subject: subject(attr, block),
	}}
}

func checkArgs(args map[string]string, attr *hcl.Attribute) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(args) {
		if name != "" && !strings.ContainsAny(name, "= \t\n") {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid build argument name",
			Detail:   fmt.Sprintf("%q cannot name a build argument: names are not empty and hold no '=' or whitespace.", name),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	return diags
}

// checkTags validates each tag with the same reference grammar the
// registries use, pointing at the offending list element when it can.
func checkTags(tags []string, attr *hcl.Attribute, block *hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	elems := listElems(attr)
	for i, tag := range tags {
		named, err := reference.ParseNormalizedNamed(tag)
		if err == nil {
			if _, digested := named.(reference.Digested); !digested {
				continue
			}
			err = fmt.Errorf("a tag cannot hold a digest")
		}
		rng := subject(attr, block)
		if i < len(elems) {
			rng = elems[i].Range().Ptr()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid image tag",
			Detail: fmt.Sprintf("%q is not a valid image reference: %s. A tag looks like "+
				"registry.example.com/team/app:1.2 or app:latest.", tag, err),
			Subject: rng,
		})
	}
	return diags
}

// listElems returns the element expressions of a list attribute, or nil
// when attr is absent or not written as a list literal.
func listElems(attr *hcl.Attribute) []hcl.Expression {
	if attr == nil {
		return nil
	}
	elems, _ := hcl.ExprList(attr.Expr)
	return elems
}
