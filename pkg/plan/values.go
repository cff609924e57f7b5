package plan

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evalContext is the scope attribute expressions are evaluated in.
func evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{}
}

// attrValue evaluates attr and converts the result to want. A null value
// comes back as a null of type want.
func attrValue(attr *hcl.Attribute, want cty.Type) (cty.Value, hcl.Diagnostics) {
	val, diags := attr.Expr.Value(evalContext())
	if diags.HasErrors() {
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
			EvalContext: evalContext(),
		})
	}
	return conv, diags
}

func decodeString(attr *hcl.Attribute) (string, hcl.Diagnostics) {
	if attr == nil {
		return "", nil
	}
	val, diags := attrValue(attr, cty.String)
	if val.IsNull() {
		return "", diags
	}
	return val.AsString(), diags
}

func decodeStringList(attr *hcl.Attribute) ([]string, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := attrValue(attr, cty.List(cty.String))
	if val.IsNull() {
		return nil, diags
	}
	var out []string
	for _, v := range val.AsValueSlice() {
		if v.IsNull() {
			return nil, append(diags, nullElement(attr))
		}
		out = append(out, v.AsString())
	}
	return out, diags
}

func decodeStringMap(attr *hcl.Attribute) (map[string]string, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := attrValue(attr, cty.Map(cty.String))
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

// suggestion returns the candidate closest to name, or "" when none is close
// enough to be a likely typo.
func suggestion(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
