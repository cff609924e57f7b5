package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// decodeLocals evaluates every locals block's attributes in dependency
// order, so a local may use another declared anywhere in the file.
func (l *loader) decodeLocals(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := make(map[string]*hcl.Attribute)
	for _, block := range blocks {
		battrs, d := block.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedKeys(battrs) {
			attr := battrs[name]
			if prev := attrs[name]; prev != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("Local %q was already defined at %s.", name, prev.NameRange),
					Subject:  attr.NameRange.Ptr(),
				})
				continue
			}
			attrs[name] = attr
		}
	}
	ev := &localEvaluator{l: l, attrs: attrs, values: make(map[string]cty.Value)}
	for _, name := range sortedKeys(attrs) {
		diags = append(diags, ev.eval(name, nil)...)
	}
	l.ctx.Variables["local"] = cty.ObjectVal(ev.values)
	return diags
}

type localEvaluator struct {
	l      *loader
	attrs  map[string]*hcl.Attribute
	values map[string]cty.Value
	done   map[string]bool
}

// eval evaluates local name after the locals it refers to. stack holds the
// locals being evaluated, to report a cycle with its chain.
func (ev *localEvaluator) eval(name string, stack []string) hcl.Diagnostics {
	if ev.done == nil {
		ev.done = make(map[string]bool)
	}
	if ev.done[name] {
		return nil
	}
	attr := ev.attrs[name]
	for i, s := range stack {
		if s == name {
			chain := append(append([]string{}, stack[i:]...), name)
			ev.done[name] = true
			ev.values[name] = cty.DynamicVal
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cycle between local values",
				Detail: fmt.Sprintf("The local values refer to each other in a loop: local.%s.",
					strings.Join(chain, " → local.")),
				Subject: attr.Expr.Range().Ptr(),
			}}
		}
	}
	var diags hcl.Diagnostics
	for _, trav := range attr.Expr.Variables() {
		if trav.RootName() != "local" || len(trav) < 2 {
			continue
		}
		step, ok := trav[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		if ev.attrs[step.Name] == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared local value",
				Detail: fmt.Sprintf("No local value named %q is declared.%s",
					step.Name, didYouMean(step.Name, sortedKeys(ev.attrs))),
				Subject: trav.SourceRange().Ptr(),
			})
			continue
		}
		diags = append(diags, ev.eval(step.Name, append(stack, name))...)
	}
	if ev.done[name] {
		return diags
	}
	if diags.HasErrors() {
		ev.values[name], ev.done[name] = cty.DynamicVal, true
		return diags
	}
	ctx := &hcl.EvalContext{Functions: ev.l.ctx.Functions, Variables: map[string]cty.Value{
		"var":   ev.l.ctx.Variables["var"],
		"local": cty.ObjectVal(ev.values),
	}}
	val, d := eval(attr.Expr, ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		val = cty.DynamicVal
	}
	ev.values[name] = val
	ev.done[name] = true
	return diags
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
