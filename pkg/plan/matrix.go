package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// MaxMatrixImages bounds the images one image block's matrix may declare,
// and MaxImages those of a whole configuration, so that a small file
// cannot make forge plan millions of builds.
const (
	MaxMatrixImages = 1024
	MaxImages       = 8192
)

// matrixSchema is the part of an image block read before the rest: the
// matrix it expands into several images, and their names.
var matrixSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "matrix"}, {Name: "name"}},
}

// imageInstance is one image an image block declares: the block's own,
// or one combination of the block's matrix.
type imageInstance struct {
	block *hcl.Block
	name  string
	// nameRange is where the name is written: the block's label, or its
	// name attribute.
	nameRange hcl.Range
	// vars are the matrix variables of this combination; nil without a
	// matrix.
	vars map[string]cty.Value
}

// expandImages returns the images that image blocks declare, in block
// order and, within a block, in matrix order: keys sorted by name, values
// in the order given, the last key changing fastest.
//
// A matrix maps variable names to lists of values; the block declares one
// image per combination, named by evaluating its name attribute with the
// combination's variables set. The matrix may refer to variables, locals
// and functions; images are not declared yet when it is read.
func (l *loader) expandImages(blocks []*hcl.Block) ([]imageInstance, hcl.Diagnostics) {
	var out []imageInstance
	var diags hcl.Diagnostics
	for _, block := range blocks {
		content, _, _ := block.Body.PartialContent(matrixSchema)
		matrix, name := content.Attributes["matrix"], content.Attributes["name"]
		if matrix == nil {
			if name != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Image name without a matrix",
					Detail: "An image block is named by its label; name names the images of a " +
						"matrix. Remove name, or add a matrix.",
					Subject: name.NameRange.Ptr(),
				})
			}
			out = append(out, imageInstance{block: block, name: block.Labels[0], nameRange: block.LabelRanges[0]})
			if len(out) > MaxImages {
				return nil, append(diags, tooManyImages("", block.DefRange))
			}
			continue
		}
		combos, moreDiags := l.matrixCombinations(matrix)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			continue
		}
		instances, moreDiags := l.nameCombinations(block, matrix, name, combos)
		diags = append(diags, moreDiags...)
		out = append(out, instances...)
		if len(out) > MaxImages {
			return nil, append(diags, tooManyImages("With this matrix the", matrix.Expr.Range()))
		}
	}
	return out, diags
}

// tooManyImages reports a configuration of more than MaxImages images, at
// the block or matrix that went over. lead starts the detail's sentence.
func tooManyImages(lead string, at hcl.Range) *hcl.Diagnostic {
	if lead == "" {
		lead = "The"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many images",
		Detail:   fmt.Sprintf("%s configuration declares more than %d images.", lead, MaxImages),
		Subject:  at.Ptr(),
	}
}

// matrixCombinations evaluates a matrix attribute and returns every
// combination of its values.
func (l *loader) matrixCombinations(attr *hcl.Attribute) ([]map[string]cty.Value, hcl.Diagnostics) {
	val, diags := eval(attr.Expr, l.ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	invalid := func(detail string) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Invalid matrix",
			Detail:      detail,
			Subject:     attr.Expr.Range().Ptr(),
			Expression:  attr.Expr,
			EvalContext: l.ctx,
		})
	}
	ty := val.Type()
	if !val.IsWhollyKnown() || val.IsNull() || !(ty.IsObjectType() || ty.IsMapType()) || val.LengthInt() == 0 {
		return nil, invalid("A matrix is an object of lists, as in { python = [\"3.11\", \"3.12\"] }: " +
			"each name is a variable the block's attributes can use.")
	}
	values := val.AsValueMap()
	combos := []map[string]cty.Value{{}}
	for _, key := range sortedKeys(values) {
		list := values[key]
		if !hclsyntax.ValidIdentifier(key) || key == "name" || rootNames[key] != "" {
			return nil, invalid(fmt.Sprintf("%q cannot be a matrix variable: a name is a valid identifier "+
				"other than name, var, local, image and service.", key))
		}
		lt := list.Type()
		if list.IsNull() || !(lt.IsListType() || lt.IsTupleType() || lt.IsSetType()) || list.LengthInt() == 0 {
			return nil, invalid(fmt.Sprintf("The values of %q are not a list of at least one value.", key))
		}
		if len(combos)*list.LengthInt() > MaxMatrixImages {
			return nil, invalid(fmt.Sprintf("The matrix declares more than %d images.", MaxMatrixImages))
		}
		var next []map[string]cty.Value
		for _, combo := range combos {
			for _, v := range list.AsValueSlice() {
				c := maps.Clone(combo)
				c[key] = v
				next = append(next, c)
			}
		}
		combos = next
	}
	return combos, diags
}

// nameCombinations names the image of each combination of block's matrix.
func (l *loader) nameCombinations(block *hcl.Block, matrix, name *hcl.Attribute,
	combos []map[string]cty.Value) ([]imageInstance, hcl.Diagnostics) {
	if name == nil {
		if len(combos) == 1 {
			return []imageInstance{{block: block, name: block.Labels[0], nameRange: block.LabelRanges[0],
				vars: combos[0]}}, nil
		}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Matrix images without names",
			Detail: fmt.Sprintf("The matrix declares %d images: name them with a name attribute that "+
				"uses the matrix variables, as in name = \"%s-${%s}\".",
				len(combos), block.Labels[0], firstKey(combos[0])),
			Subject: matrix.NameRange.Ptr(),
		}}
	}
	var out []imageInstance
	var diags hcl.Diagnostics
	for _, combo := range combos {
		s, moreDiags := decodeString(name, matrixContext(l.ctx, combo))
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			return nil, diags
		}
		if !hclsyntax.ValidIdentifier(s) {
			return nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid image name",
				Detail: fmt.Sprintf("The matrix combination %s names an image %q, which is not a valid "+
					"name. A name starts with a letter and holds only letters, digits, underscores and "+
					"dashes.", describeCombination(combo), s),
				Subject: name.Expr.Range().Ptr(),
			})
		}
		out = append(out, imageInstance{block: block, name: s, nameRange: name.Expr.Range(), vars: combo})
	}
	return out, diags
}

// matrixContext returns ctx with the variables of a matrix combination
// added, or ctx itself when there are none.
func matrixContext(ctx *hcl.EvalContext, vars map[string]cty.Value) *hcl.EvalContext {
	if vars == nil {
		return ctx
	}
	merged := maps.Clone(ctx.Variables)
	maps.Copy(merged, vars)
	return &hcl.EvalContext{Variables: merged, Functions: ctx.Functions}
}

func firstKey(combo map[string]cty.Value) string {
	return slices.Sorted(maps.Keys(combo))[0]
}

// describeCombination writes a combination as key=value pairs, for
// diagnostics.
func describeCombination(combo map[string]cty.Value) string {
	var parts []string
	for _, key := range slices.Sorted(maps.Keys(combo)) {
		v := combo[key]
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			parts = append(parts, fmt.Sprintf("%s=%q", key, v.AsString()))
		} else {
			parts = append(parts, fmt.Sprintf("%s=%s", key, v.GoString()))
		}
	}
	return strings.Join(parts, " ")
}
