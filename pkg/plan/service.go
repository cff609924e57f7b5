package plan

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image", Required: true},
		{Name: "command"},
		{Name: "env"},
	},
}

func decodeService(block *hcl.Block, cfg *Config) (*Service, hcl.Diagnostics) {
	svc := &Service{Name: block.Labels[0], DeclRange: block.DefRange}
	content, diags := block.Body.Content(serviceSchema)
	attrs := content.Attributes

	var d hcl.Diagnostics
	if attr := attrs["image"]; attr != nil {
		svc.Image, d = decodeImageRef(attr, cfg)
		diags = append(diags, d...)
	}
	svc.Command, d = decodeStringList(attrs["command"])
	diags = append(diags, d...)
	svc.Env, d = decodeStringMap(attrs["env"])
	diags = append(diags, d...)
	return svc, diags
}

// decodeImageRef resolves a reference of the form image.NAME to the name of
// a declared image block.
func decodeImageRef(attr *hcl.Attribute, cfg *Config) (string, hcl.Diagnostics) {
	trav, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() || len(trav) != 2 || trav.RootName() != "image" {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid image reference",
			Detail: "The image attribute refers to an image block of this file, " +
				"as in image = image.app.",
			Subject: attr.Expr.Range().Ptr(),
		}}
	}
	step, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid image reference",
			Detail:   "Name the image block with a dot, as in image.app.",
			Subject:  trav[1].SourceRange().Ptr(),
		}}
	}
	if cfg.Image(step.Name) == nil {
		return "", hcl.Diagnostics{undeclaredImage(step.Name, trav.SourceRange(), cfg)}
	}
	return step.Name, nil
}

func undeclaredImage(name string, rng hcl.Range, cfg *Config) *hcl.Diagnostic {
	names := make([]string, len(cfg.Images))
	for i, img := range cfg.Images {
		names[i] = img.Name
	}
	detail := fmt.Sprintf("No image block named %q is declared.", name)
	if hint := didYouMean(name, names); hint != "" {
		detail += hint
	} else if len(names) > 0 {
		detail += fmt.Sprintf(" Declared images: %s.", strings.Join(names, ", "))
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to undeclared image",
		Detail:   detail,
		Subject:  rng.Ptr(),
	}
}
