package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix starts the names of environment variables that set forge.hcl
// variables: FORGE_VAR_tag sets variable "tag". No other environment
// variable reaches a build.
const VarEnvPrefix = "FORGE_VAR_"

// Values are the variable values given outside forge.hcl. From lowest to
// highest precedence: a variable's default, the environment, the var files
// in order, then the --var flags in order.
type Values struct {
	// Vars are NAME=VALUE assignments, as given to --var.
	Vars []string
	// Files are paths of files of NAME = VALUE lines (HCL, or JSON when the
	// name ends in .json), as given to --var-file.
	Files []string
	// Environ is the process environment in os.Environ form. Only
	// FORGE_VAR_NAME entries are read.
	Environ []string
}

// Variable is a declared input of the configuration, with its final value.
type Variable struct {
	Name        string
	Description string
	// Type is the declared type; cty.DynamicPseudoType when none is declared.
	Type  cty.Type
	Value cty.Value
	// Source says where Value came from: "default", "FORGE_VAR_NAME",
	// "--var" or a var file's path.
	Source    string
	DeclRange hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// rawValue is a value given outside the file, before conversion to the
// variable's type.
type rawValue struct {
	source string
	// expr is the value as an expression; text values from the command
	// line or environment are literal strings for string variables and
	// parsed as HCL otherwise.
	expr hcl.Expression
	text *string
}

type declaredVariable struct {
	Variable
	block       *hcl.Block
	validations []*hcl.Block
	defaultAttr *hcl.Attribute
}

func (l *loader) decodeVariables(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var vars []*declaredVariable
	for _, block := range blocks {
		v, d := decodeVariable(block, l.constants)
		diags = append(diags, d...)
		if v == nil {
			continue
		}
		if prev := findVariable(vars, v.Name); prev != nil {
			diags = append(diags, duplicateBlock(block.Type, block.Labels[0], block.LabelRanges[0],
				block.DefRange, prev.DeclRange))
			continue
		}
		vars = append(vars, v)
	}
	given, d := l.givenValues(vars)
	diags = append(diags, d...)
	values := make(map[string]cty.Value)
	for _, v := range vars {
		diags = append(diags, v.resolve(given[v.Name], l.constants)...)
		values[v.Name] = v.Value
		l.cfg.Variables = append(l.cfg.Variables, &v.Variable)
	}
	l.ctx.Variables["var"] = cty.ObjectVal(values)
	if diags.HasErrors() {
		return diags
	}
	for _, v := range vars {
		diags = append(diags, v.validate(l.ctx)...)
	}
	return diags
}

func findVariable(vars []*declaredVariable, name string) *declaredVariable {
	for _, v := range vars {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func decodeVariable(block *hcl.Block, ctx *hcl.EvalContext) (*declaredVariable, hcl.Diagnostics) {
	content, diags := block.Body.Content(variableSchema)
	v := &declaredVariable{
		Variable: Variable{Name: block.Labels[0], Type: cty.DynamicPseudoType, DeclRange: block.DefRange},
		block:    block,
	}
	if attr := content.Attributes["type"]; attr != nil {
		ty, d := typeexpr.TypeConstraint(attr.Expr)
		diags = append(diags, d...)
		v.Type = ty
	}
	var d hcl.Diagnostics
	v.Description, d = decodeString(content.Attributes["description"], ctx)
	diags = append(diags, d...)
	v.defaultAttr = content.Attributes["default"]
	for _, b := range content.Blocks {
		v.validations = append(v.validations, b)
	}
	return v, diags
}

// resolve sets the variable's value from the highest-precedence source.
func (v *declaredVariable) resolve(given *rawValue, constants *hcl.EvalContext) hcl.Diagnostics {
	val, source, diags := v.rawValue(given, constants)
	if diags.HasErrors() {
		v.Value = cty.UnknownVal(v.Type)
		return diags
	}
	if val.IsNull() && v.defaultAttr != nil {
		// default = null: an optional variable without a value.
		v.Value, v.Source = cty.NullVal(v.Type), source
		return nil
	}
	if val.IsNull() {
		v.Value = cty.UnknownVal(v.Type)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No value for required variable",
			Detail: fmt.Sprintf("Variable %q has no default. Set it with --var %s=VALUE, "+
				"a --var-file, or the environment variable %s%s.", v.Name, v.Name, VarEnvPrefix, v.Name),
			Subject: v.block.DefRange.Ptr(),
		}}
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		v.Value = cty.UnknownVal(v.Type)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail: fmt.Sprintf("The value of %q from %s is not a %s: %s.",
				v.Name, source, typeexpr.TypeString(v.Type), err),
			Subject: v.block.DefRange.Ptr(),
		}}
	}
	v.Value, v.Source = conv, source
	return nil
}

func (v *declaredVariable) rawValue(given *rawValue, constants *hcl.EvalContext) (cty.Value, string, hcl.Diagnostics) {
	if given == nil {
		if v.defaultAttr == nil {
			return cty.NullVal(cty.DynamicPseudoType), "", nil
		}
		val, diags := v.defaultAttr.Expr.Value(constants)
		return val, "default", diags
	}
	if given.text != nil {
		if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
			return cty.StringVal(*given.text), given.source, nil
		}
		// A typed value given as text is an HCL expression: 3, true,
		// ["a", "b"] or { k = "v" }.
		expr, diags := hclsyntax.ParseExpression([]byte(*given.text), given.source, hcl.InitialPos)
		if diags.HasErrors() {
			return cty.NilVal, given.source, valueSyntaxError(v, given, diags)
		}
		val, diags := expr.Value(constants)
		if diags.HasErrors() {
			return cty.NilVal, given.source, valueSyntaxError(v, given, diags)
		}
		if val.IsNull() {
			// --var n=null, as a null in a var file, leaves the
			// variable to its default.
			return v.rawValue(nil, constants)
		}
		return val, given.source, nil
	}
	val, diags := given.expr.Value(constants)
	if !diags.HasErrors() && val.IsNull() {
		// A null in a var file leaves the variable to its default.
		return v.rawValue(nil, constants)
	}
	return val, given.source, diags
}

func valueSyntaxError(v *declaredVariable, given *rawValue, diags hcl.Diagnostics) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail: fmt.Sprintf("The value of %q from %s is not a valid %s expression: %s: %s",
			v.Name, given.source, typeexpr.TypeString(v.Type), diags[0].Summary, diags[0].Detail),
		Subject: v.block.DefRange.Ptr(),
	}}
}

// validate checks the variable's validation blocks against its value.
func (v *declaredVariable) validate(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, block := range v.validations {
		content, d := block.Body.Content(validationSchema)
		diags = append(diags, d...)
		cond, msg := content.Attributes["condition"], content.Attributes["error_message"]
		if cond == nil || msg == nil {
			continue
		}
		ok, d := attrValue(cond, cty.Bool, ctx)
		diags = append(diags, d...)
		if d.HasErrors() || ok.IsNull() || ok.True() {
			continue
		}
		text, d := decodeString(msg, ctx)
		diags = append(diags, d...)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value for variable",
			Detail:   fmt.Sprintf("%s (value from %s)", text, v.Source),
			Subject:  cond.Expr.Range().Ptr(),
		})
	}
	return diags
}

// givenValues collects the values given outside the file, keeping for each
// variable the one of highest precedence.
func (l *loader) givenValues(vars []*declaredVariable) (map[string]*rawValue, hcl.Diagnostics) {
	given := make(map[string]*rawValue)
	for _, kv := range l.opts.Values.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if name, found := strings.CutPrefix(name, VarEnvPrefix); ok && found {
			// The environment is ambient: a FORGE_VAR_ entry for a variable
			// this file does not declare is not an error.
			if findVariable(vars, name) != nil {
				given[name] = &rawValue{source: VarEnvPrefix + name, text: &value}
			}
		}
	}
	var diags hcl.Diagnostics
	for _, path := range l.opts.Values.Files {
		diags = append(diags, l.readVarFile(path, vars, given)...)
	}
	for _, kv := range l.opts.Values.Vars {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			diags = append(diags, flagError("Invalid --var",
				fmt.Sprintf("%q is not NAME=VALUE.", kv)))
			continue
		}
		if findVariable(vars, name) == nil {
			diags = append(diags, undeclaredVariable(name, "--var", vars, nil))
			continue
		}
		given[name] = &rawValue{source: "--var", text: &value}
	}
	return given, diags
}

func (l *loader) readVarFile(path string, vars []*declaredVariable, given map[string]*rawValue) hcl.Diagnostics {
	file, diags := l.parseFile(path)
	if diags.HasErrors() {
		return diags
	}
	attrs, d := file.Body.JustAttributes()
	diags = append(diags, d...)
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		attr := attrs[name]
		if findVariable(vars, name) == nil {
			diags = append(diags, undeclaredVariable(name, path, vars, attr.NameRange.Ptr()))
			continue
		}
		given[name] = &rawValue{source: path, expr: attr.Expr}
	}
	return diags
}

func undeclaredVariable(name, source string, vars []*declaredVariable, rng *hcl.Range) *hcl.Diagnostic {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Value for undeclared variable",
		Detail: fmt.Sprintf("%s sets %q, but no variable block declares it.%s",
			source, name, didYouMean(name, names)),
		Subject: rng,
	}
}

// flagError is a diagnostic about a command-line value, which has no
// source range.
func flagError(summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}
