package plan

import (
	"fmt"
	"os"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// rootNames maps the root names a reference can start with to what they
// name, for diagnostics.
var rootNames = map[string]string{
	"var":     "variable",
	"local":   "local value",
	"image":   "image",
	"service": "service",
}

// checkReferences reports references such as image.NAME or var.NAME whose
// NAME is not declared, with the closest declared name as a suggestion.
func checkReferences(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, trav := range expr.Variables() {
		what, known := rootNames[trav.RootName()]
		obj, declared := ctx.Variables[trav.RootName()]
		if !known || !declared || len(trav) < 2 {
			continue
		}
		step, ok := trav[1].(hcl.TraverseAttr)
		if !ok || obj.Type().HasAttribute(step.Name) {
			continue
		}
		var names []string
		for name := range obj.Type().AttributeTypes() {
			names = append(names, name)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to undeclared " + what,
			Detail: fmt.Sprintf("No %s named %q is declared.%s",
				what, step.Name, didYouMean(step.Name, names)),
			Subject: trav.SourceRange().Ptr(),
		})
	}
	return diags
}

// eval evaluates expr after checking its references.
func eval(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if diags := checkReferences(expr, ctx); diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return expr.Value(ctx)
}

// attrValue evaluates attr and converts the result to want. The value is
// null when attr cannot be evaluated, and after errors reported elsewhere
// (a variable without a valid value, say), without a diagnostic of its own.
func attrValue(attr *hcl.Attribute, want cty.Type, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	val, diags := eval(attr.Expr, ctx)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return cty.NullVal(want), diags
	}
	conv, err := convert.Convert(val, want)
	if err != nil {
		return cty.NullVal(want), append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect attribute value type",
			Detail:      fmt.Sprintf("Inappropriate value for attribute %q: %s.", attr.Name, err),
			Subject:     attr.Expr.Range().Ptr(),
			Expression:  attr.Expr,
			EvalContext: ctx,
		})
	}
	return conv, diags
}

func decodeString(attr *hcl.Attribute, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	if attr == nil {
		return "", nil
	}
	val, diags := attrValue(attr, cty.String, ctx)
	if val.IsNull() {
		return "", diags
	}
	return val.AsString(), diags
}

func decodeBool(attr *hcl.Attribute, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	if attr == nil {
		return false, nil
	}
	val, diags := attrValue(attr, cty.Bool, ctx)
	if val.IsNull() {
		return false, diags
	}
	return val.True(), diags
}

func decodeStringList(attr *hcl.Attribute, ctx *hcl.EvalContext) ([]string, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := attrValue(attr, cty.List(cty.String), ctx)
	if val.IsNull() {
		return nil, diags
	}
	out := []string{}
	for _, v := range val.AsValueSlice() {
		if v.IsNull() {
			return nil, append(diags, nullElement(attr))
		}
		out = append(out, v.AsString())
	}
	return out, diags
}

func decodeStringMap(attr *hcl.Attribute, ctx *hcl.EvalContext) (map[string]string, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := attrValue(attr, cty.Map(cty.String), ctx)
	if val.IsNull() {
		return nil, diags
	}
	out := make(map[string]string, val.LengthInt())
	for k, v := range val.AsValueMap() {
		if v.IsNull() {
			return nil, append(diags, nullElement(attr))
		}
		out[k] = v.AsString()
	}
	return out, diags
}

func nullElement(attr *hcl.Attribute) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Null value not allowed",
		Detail:   fmt.Sprintf("Every element of %q must be a string, not null.", attr.Name),
		Subject:  attr.Expr.Range().Ptr(),
	}
}

// mapKeyRange returns the range of key's entry in a map-literal attribute,
// or the whole value's range when the entry cannot be found.
func mapKeyRange(attr *hcl.Attribute, key string) *hcl.Range {
	pairs, d := hcl.ExprMap(attr.Expr)
	if !d.HasErrors() {
		for _, pair := range pairs {
			k, d := pair.Key.Value(nil)
			if !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && k.AsString() == key {
				return pair.Key.Range().Ptr()
			}
		}
	}
	return attr.Expr.Range().Ptr()
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

// elemRange returns the range of element i of a list attribute, or the
// whole value's range when the list is not a literal.
func elemRange(attr *hcl.Attribute, i int) *hcl.Range {
	if elems := listElems(attr); i < len(elems) {
		return elems[i].Range().Ptr()
	}
	return attr.Expr.Range().Ptr()
}

// suggestion returns the candidate closest to name, or "" when none is close
// enough to be a likely typo. Ties go to the candidate that sorts first.
func suggestion(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := levenshtein.Distance(name, c, nil)
		if d < bestDist || d == bestDist && best != "" && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats a suggestion as a sentence, or returns "" for none.
func didYouMean(name string, candidates []string) string {
	if s := suggestion(name, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func convertValue(v cty.Value, ty cty.Type) (cty.Value, error) {
	return convert.Convert(v, ty)
}

// fileExists reports whether path names a regular file.
func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// dirExists reports whether path names a directory.
func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
