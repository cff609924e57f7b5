package plan

import (
	"fmt"
	"reflect"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// blockRef is what an expression such as image.app or service.db
// evaluates to. It is a cty capsule, so no literal can forge one: a value
// of this type always names a declared block.
type blockRef struct {
	kind, name string
}

var (
	imageRefType   = cty.Capsule("image reference", reflect.TypeOf(blockRef{}))
	serviceRefType = cty.Capsule("service reference", reflect.TypeOf(blockRef{}))
)

// refObject returns the object that the root name kind (image or service)
// evaluates to: one attribute per declared block, holding its reference.
func refObject(kind string, ty cty.Type, names []string) cty.Value {
	attrs := make(map[string]cty.Value, len(names))
	for _, name := range names {
		attrs[name] = cty.CapsuleVal(ty, &blockRef{kind: kind, name: name})
	}
	return cty.ObjectVal(attrs)
}

// refName returns the block name val refers to if val is a reference of
// type ty.
func refName(val cty.Value, ty cty.Type) (string, bool) {
	if val.IsNull() || !val.IsKnown() || !val.Type().Equals(ty) {
		return "", false
	}
	return val.EncapsulatedValue().(*blockRef).name, true
}

// decodeRef evaluates attr, which must refer to a block of type ty, as in
// image = image.app.
func decodeRef(attr *hcl.Attribute, ty cty.Type, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	if attr == nil {
		return "", nil
	}
	val, diags := eval(attr.Expr, ctx)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return "", diags
	}
	if name, ok := refName(val, ty); ok {
		return name, nil
	}
	kind := refKind(ty)
	return "", hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s reference", kind),
		Detail: fmt.Sprintf("The %s attribute refers to a block of this file, as in %s = %s.NAME.",
			attr.Name, attr.Name, kind),
		Subject: attr.Expr.Range().Ptr(),
	}}
}

// decodeRefList evaluates attr, a list of references of type ty.
func decodeRefList(attr *hcl.Attribute, ty cty.Type, ctx *hcl.EvalContext) ([]string, hcl.Diagnostics) {
	if attr == nil {
		return nil, nil
	}
	val, diags := eval(attr.Expr, ctx)
	if diags.HasErrors() || !val.IsWhollyKnown() || val.IsNull() {
		return nil, diags
	}
	kind := refKind(ty)
	if !val.CanIterateElements() || val.Type().IsMapType() || val.Type().IsObjectType() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("%s takes a list of %s references, as in [%s.NAME].", attr.Name, kind, kind),
			Subject:  attr.Expr.Range().Ptr(),
		}}
	}
	elems := listElems(attr)
	var names []string
	for i, elem := range val.AsValueSlice() {
		name, ok := refName(elem, ty)
		if ok {
			names = append(names, name)
			continue
		}
		rng := attr.Expr.Range()
		if i < len(elems) {
			rng = elems[i].Range()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s reference", kind),
			Detail:   fmt.Sprintf("Each element of %s refers to a block of this file, as in %s.NAME.", attr.Name, kind),
			Subject:  rng.Ptr(),
		})
	}
	return names, diags
}

func refKind(ty cty.Type) string {
	if ty.Equals(serviceRefType) {
		return "service"
	}
	return "image"
}
