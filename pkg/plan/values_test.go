package plan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// TestLiteralValues checks that literals read from the syntax tree equal
// what evaluation and conversion give, and that every other expression is
// left to evaluation.
//
// TestKnownValues checks the same of values read without conversion.
func TestLiteralValues(t *testing.T) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{"v": cty.StringVal("x")}),
	}}
	lists := []struct {
		src     string
		literal bool
	}{
		{`["run", "1"]`, true},
		{`[]`, true},
		{`["caf\u00e9", "tab\there", "$${not}", "%%{x}"]`, true},
		{`["a", var.v]`, false},
		{`["a", 1]`, false},
		{`["a", "${var.v}"]`, false},
		{`["a", null]`, false},
		{`tolist(["a"])`, false},
		{`"a"`, false},
	}
	for _, tt := range lists {
		t.Run(tt.src, func(t *testing.T) {
			expr := parseExpr(t, tt.src)
			got, ok := literalStrings(expr)
			if ok != tt.literal {
				t.Fatalf("literalStrings(%s) ok = %v, want %v", tt.src, ok, tt.literal)
			}
			if ok {
				want := evalAs(t, expr, ctx, cty.List(cty.String))
				var wantStrings []string
				for _, v := range want.AsValueSlice() {
					wantStrings = append(wantStrings, v.AsString())
				}
				if diff := cmp.Diff(wantStrings, got, cmpEmptyNil); diff != "" {
					t.Errorf("literalStrings(%s) differs from evaluation (-eval +literal):\n%s", tt.src, diff)
				}
			}
		})
	}
	maps := []struct {
		src     string
		literal bool
	}{
		{`{ A = "1", B = "two" }`, true},
		{`{ "with space" = "1", "é" = "2" }`, true},
		{`{ true = "1", null = "2" }`, true},
		{`{}`, true},
		{`{ A = "1", A = "2" }`, false},
		{`{ (var.v) = "1" }`, false},
		{`{ A = var.v }`, false},
		{`{ A = 1 }`, false},
		{`{ "${var.v}" = "1" }`, false},
		{`{ a.b = "1" }`, false},
	}
	for _, tt := range maps {
		t.Run(tt.src, func(t *testing.T) {
			expr := parseExpr(t, tt.src)
			got, ok := literalStringMap(expr)
			if ok != tt.literal {
				t.Fatalf("literalStringMap(%s) ok = %v, want %v", tt.src, ok, tt.literal)
			}
			if ok {
				want := map[string]string{}
				for k, v := range evalAs(t, expr, ctx, cty.Map(cty.String)).AsValueMap() {
					want[k] = v.AsString()
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("literalStringMap(%s) differs from evaluation (-eval +literal):\n%s", tt.src, diff)
				}
			}
		})
	}
}

var cmpEmptyNil = cmp.Transformer("emptyNil", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func parseExpr(t *testing.T, src string) hcl.Expression {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("ParseExpression(%s): %s", src, diags)
	}
	return expr
}

func evalAs(t *testing.T, expr hcl.Expression, ctx *hcl.EvalContext, ty cty.Type) cty.Value {
	t.Helper()
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("Value(): %s", diags)
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		t.Fatalf("Convert(%#v, %#v): %v", val, ty, err)
	}
	return conv
}

func TestKnownValues(t *testing.T) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{"v": cty.StringVal("x"), "n": cty.NumberIntVal(1)}),
	}, Functions: functions(time.Now())}
	tests := []struct {
		src   string
		ty    cty.Type
		known bool
	}{
		{`["a", var.v, "${var.v}-y"]`, cty.List(cty.String), true},
		{`split(",", "a,${var.v}")`, cty.List(cty.String), true},
		{`["a", var.n]`, cty.List(cty.String), false},
		{`["a", null]`, cty.List(cty.String), false},
		{`{ A = var.v, B = "b" }`, cty.Map(cty.String), true},
		{`merge({ A = var.v }, { B = "b" })`, cty.Map(cty.String), true},
		{`{ A = var.n }`, cty.Map(cty.String), false},
		{`var.v`, cty.Map(cty.String), false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			expr := parseExpr(t, tt.src)
			val, diags := expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("Value(): %s", diags)
			}
			var got any
			var ok bool
			if tt.ty.IsListType() {
				got, ok = knownStrings(val)
			} else {
				got, ok = knownStringMap(val)
			}
			if ok != tt.known {
				t.Fatalf("known(%s) ok = %v, want %v", tt.src, ok, tt.known)
			}
			if !ok {
				return
			}
			conv := evalAs(t, expr, ctx, tt.ty)
			var want any
			if tt.ty.IsListType() {
				var l []string
				for _, v := range conv.AsValueSlice() {
					l = append(l, v.AsString())
				}
				want = l
			} else {
				m := map[string]string{}
				for k, v := range conv.AsValueMap() {
					m[k] = v.AsString()
				}
				want = m
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("known(%s) differs from conversion (-conv +known):\n%s", tt.src, diff)
			}
		})
	}
}
