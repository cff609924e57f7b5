package plan

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The library functions below can be asked, by a typo as easily as on
// purpose, for more than any configuration needs: a product of three
// ranges of a thousand, a million levels of JSON, a billion spaces. Their
// guarded versions refuse such arguments with an error on the call instead
// of exhausting memory or the stack.
const (
	// maxProduct bounds the elements setproduct returns.
	maxProduct = 100_000
	// maxPadding bounds indent's spaces and the width and precision of
	// format's verbs.
	maxPadding = 10_000
)

var (
	guardedSetProduct = guard(stdlib.SetProductFunc, func(args []cty.Value) error {
		n := 1
		for _, a := range args {
			if !a.IsKnown() || a.IsNull() || !a.CanIterateElements() {
				return nil
			}
			n *= a.LengthInt()
			if n > maxProduct {
				return fmt.Errorf("the product has more than %d elements", maxProduct)
			}
		}
		return nil
	})
	guardedJSONDecode = guard(stdlib.JSONDecodeFunc, func(args []cty.Value) error {
		if s, ok := knownString(args[0]); ok && jsonDepth(s) > MaxNesting {
			return fmt.Errorf("the JSON nests deeper than %d levels", MaxNesting)
		}
		return nil
	})
	guardedIndent = guard(stdlib.IndentFunc, func(args []cty.Value) error {
		if !args[0].IsKnown() || args[0].IsNull() {
			return nil
		}
		n, _ := args[0].AsBigFloat().Int(nil)
		if n.Sign() < 0 || n.Cmp(big.NewInt(maxPadding)) > 0 {
			return fmt.Errorf("spaces must be between 0 and %d", maxPadding)
		}
		return nil
	})
	guardedFormat     = guard(stdlib.FormatFunc, checkFormat)
	guardedFormatList = guard(stdlib.FormatListFunc, checkFormat)
)

// guard returns f that first runs check on the arguments.
func guard(f function.Function, check func(args []cty.Value) error) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := check(args); err != nil {
				return cty.NilVal, err
			}
			return f.Call(args)
		},
	})
}

func knownString(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// jsonDepth returns how deeply the arrays and objects of the JSON text s
// nest, brackets inside strings not counted.
func jsonDepth(s string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// checkFormat refuses a format string whose verbs ask for a width or a
// precision over maxPadding.
func checkFormat(args []cty.Value) error {
	spec, ok := knownString(args[0])
	if !ok {
		return nil
	}
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' {
			continue
		}
		i++
		for i < len(spec) && strings.IndexByte("+-# 0", spec[i]) >= 0 {
			i++
		}
		for _, part := range []string{"width", "precision"} {
			n := 0
			for ; i < len(spec) && spec[i] >= '0' && spec[i] <= '9'; i++ {
				if n = n*10 + int(spec[i]-'0'); n > maxPadding {
					return fmt.Errorf("a verb's %s is over %d", part, maxPadding)
				}
			}
			if part == "width" && i < len(spec) && spec[i] == '.' {
				i++
				continue
			}
			break
		}
	}
	return nil
}
