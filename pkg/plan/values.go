package plan

import (
	"fmt"
	"os"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
	return convertAttr(attr, val, diags, want, ctx)
}

// convertAttr is attrValue for a value already evaluated with diags.
func convertAttr(attr *hcl.Attribute, val cty.Value, diags hcl.Diagnostics, want cty.Type,
	ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
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
	if s, ok := literalString(attr.Expr); ok {
		return s, nil
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
	if out, ok := literalStrings(attr.Expr); ok {
		return out, nil
	}
	val, diags := eval(attr.Expr, ctx)
	if out, ok := knownStrings(val); ok && !diags.HasErrors() {
		return out, diags
	}
	val, diags = convertAttr(attr, val, diags, cty.List(cty.String), ctx)
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
	if out, ok := literalStringMap(attr.Expr); ok {
		return out, nil
	}
	val, diags := eval(attr.Expr, ctx)
	if out, ok := knownStringMap(val); ok && !diags.HasErrors() {
		return out, diags
	}
	val, diags = convertAttr(attr, val, diags, cty.Map(cty.String), ctx)
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

// literalString returns the string that expr writes when expr is a
// string literal, such as "run", without evaluating it. Most values in a
// large configuration are literals, and reading them from the syntax tree
// costs nothing.
func literalString(expr hcl.Expression) (string, bool) {
	tmpl, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || !tmpl.IsStringLiteral() {
		return "", false
	}
	val := tmpl.Parts[0].(*hclsyntax.LiteralValueExpr).Val
	if val.Type() != cty.String || val.IsNull() || val.IsMarked() {
		return "", false
	}
	return val.AsString(), true
}

// literalStrings returns the elements of a tuple written with string
// literals only, such as ["run", "1"]. ok is false for any other
// expression, which is then evaluated.
func literalStrings(expr hcl.Expression) (out []string, ok bool) {
	tuple, ok := expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil, false
	}
	out = make([]string, len(tuple.Exprs))
	for i, elem := range tuple.Exprs {
		if out[i], ok = literalString(elem); !ok {
			return nil, false
		}
	}
	return out, true
}

// literalStringMap returns the entries of an object written with literal
// keys and string literal values, such as { DEBUG = "false" }. ok is false
// for any other expression, including one that repeats a key.
func literalStringMap(expr hcl.Expression) (out map[string]string, ok bool) {
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, false
	}
	out = make(map[string]string, len(obj.Items))
	for _, item := range obj.Items {
		key, ok := literalKey(item.KeyExpr)
		if _, dup := out[key]; !ok || dup {
			return nil, false
		}
		if out[key], ok = literalString(item.ValueExpr); !ok {
			return nil, false
		}
	}
	return out, true
}

// literalKey returns the name an object key written as a bare word or a
// string literal stands for.
func literalKey(expr hcl.Expression) (string, bool) {
	key, ok := expr.(*hclsyntax.ObjectConsKeyExpr)
	if !ok || key.ForceNonLiteral {
		return "", false
	}
	if word := hcl.ExprAsKeyword(key.Wrapped); word != "" {
		return word, true
	}
	return literalString(key.Wrapped)
}

// knownStrings returns the elements of val when val is a known list or
// tuple of known, non-null strings: the usual literal, which then needs no
// conversion. ok is false for any other value, which attrValue converts or
// reports.
func knownStrings(val cty.Value) (out []string, ok bool) {
	ty := val.Type()
	if !val.IsKnown() || val.IsNull() || val.IsMarked() || !(ty.IsTupleType() || ty.IsListType()) {
		return nil, false
	}
	out = make([]string, 0, val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.Type() != cty.String || !v.IsKnown() || v.IsNull() || v.IsMarked() {
			return nil, false
		}
		out = append(out, v.AsString())
	}
	return out, true
}

// knownStringMap is knownStrings for a known map or object of known,
// non-null strings.
func knownStringMap(val cty.Value) (out map[string]string, ok bool) {
	ty := val.Type()
	if !val.IsKnown() || val.IsNull() || val.IsMarked() || !(ty.IsObjectType() || ty.IsMapType()) {
		return nil, false
	}
	out = make(map[string]string, val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if v.Type() != cty.String || !v.IsKnown() || v.IsNull() || v.IsMarked() {
			return nil, false
		}
		out[k.AsString()] = v.AsString()
	}
	return out, true
}

func nullElement(attr *hcl.Attribute) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Null value not allowed",
		Detail:   fmt.Sprintf("Every element of %q must be a string, not null.", attr.Name),
		Subject:  attr.Expr.Range().Ptr(),
	}
}

// nullElementAt reports that element i of a list attribute is null.
func nullElementAt(attr *hcl.Attribute, i int) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Null value not allowed",
		Detail:   fmt.Sprintf("Element %d of %q is null.", i+1, attr.Name),
		Subject:  elemRange(attr, i),
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
