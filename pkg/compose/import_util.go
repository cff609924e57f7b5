package compose

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/forge-build/forge/pkg/plan"
)

// reportUnconverted reports every key of v, a compose struct, that is set
// and not in converted. Nested structs marked inline are walked.
func (im *importer) reportUnconverted(service, prefix string, v reflect.Value,
	converted map[string]bool) {
	for _, key := range unconvertedKeys(v, converted) {
		im.report(service, prefix+key, "%s", unconvertedMessage(key))
	}
}

func unconvertedKeys(v reflect.Value, converted map[string]bool) []string {
	var keys []string
	t := v.Type()
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		switch {
		case name == "" && strings.Contains(opts, "inline") && v.Field(i).Kind() == reflect.Struct:
			keys = append(keys, unconvertedKeys(v.Field(i), converted)...)
		case name == "" || name == "-" || strings.HasPrefix(name, "#") || converted[name]:
		case !v.Field(i).IsZero():
			keys = append(keys, name)
		}
	}
	return keys
}

func unconvertedMessage(key string) string {
	switch key {
	case "secrets":
		return "runtime secrets are not carried over: list the variables they hold in " +
			"secret_env, or keep the service in compose"
	case "labels":
		return "container labels are not carried over; image labels are build.labels"
	case "platform":
		return "not carried over: set platforms on the image block"
	case "links":
		return "not carried over: use depends_on"
	}
	return "not carried over: forge.hcl has no equivalent"
}

var variableRef = regexp.MustCompile(`\$(\{|\$|[A-Za-z_])`)

// usesVariable reports whether s uses a compose variable, $VAR or ${VAR}:
// $$, compose's escape for $, is not one.
func usesVariable(s string) bool {
	for _, m := range variableRef.FindAllString(s, -1) {
		if m != "$$" {
			return true
		}
	}
	return false
}

// literal returns value, a string compose interpolates when it loads the
// file, as forge.hcl should hold it. A value whose only compose syntax is
// $$, compose's escape for $, gets its $ back. One with variables ($VAR,
// ${VAR}) is kept as written and reported: compose would substitute them,
// forge does not. The report quotes the value unless it spans lines or key
// names what looks like a secret: a password holding a $ must not reach a
// terminal or a CI log.
func (im *importer) literal(service, key, value string) string {
	if !usesVariable(value) {
		return strings.ReplaceAll(value, "$$", "$")
	}
	subject := "uses"
	name := key[strings.LastIndexByte(key, '.')+1:]
	if !strings.Contains(value, "\n") && !plan.LooksSecret(name) {
		subject = strconv.Quote(value) + " uses"
	}
	im.report(service, key, "%s compose variables ($VAR or ${VAR}), which compose "+
		"substitutes when it loads the file; forge keeps the text as written", subject)
	return value
}

// literals applies literal to each of values.
func (im *importer) literals(service, key string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = im.literal(service, key, v)
	}
	return out
}

// path returns p, an absolute path, as forge.hcl should hold it: relative
// to the output directory when p is inside it or when they share a
// directory below the home directory or outside it; else, for attributes
// that expand ~/, relative to the home directory when p is in it; else
// relative when they share more than the filesystem root; else absolute.
func (im *importer) path(p string, tilde bool) string {
	rel, err := filepath.Rel(im.dir, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	common := im.dir
	for !within(common, p) {
		common = filepath.Dir(common)
	}
	inHome := im.home != "" && im.home != "/" && within(im.home, p)
	switch {
	case common == im.dir:
		return filepath.ToSlash(rel)
	case tilde && inHome && !(within(im.home, common) && common != im.home):
		return "~/" + filepath.ToSlash(strings.TrimPrefix(p, im.home+string(filepath.Separator)))
	case common != filepath.Dir(common):
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func setOf(keys ...string) map[string]bool {
	set := make(map[string]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return set
}

// objectEntry is one attribute of an object constructor, with an optional
// comment on the line before it.
type objectEntry struct {
	key     string
	value   hclwrite.Tokens
	comment string
}

// objectTokens returns an object constructor: on one line when oneLine is
// set or there is a single entry without comment, else one entry a line.
func objectTokens(entries []objectEntry, oneLine bool) hclwrite.Tokens {
	if len(entries) == 0 {
		return nil
	}
	oneLine = oneLine || len(entries) == 1 && entries[0].comment == ""
	toks := hclwrite.Tokens{token(hclsyntax.TokenOBrace, "{")}
	for i, e := range entries {
		switch {
		case !oneLine:
			toks = append(toks, token(hclsyntax.TokenNewline, "\n"))
			if e.comment != "" {
				toks = append(toks, commentToken(e.comment))
			}
		case i > 0:
			toks = append(toks, token(hclsyntax.TokenComma, ","))
		}
		toks = append(toks, keyTokens(e.key)...)
		toks = append(toks, token(hclsyntax.TokenEqual, "="))
		toks = append(toks, e.value...)
	}
	if !oneLine {
		toks = append(toks, token(hclsyntax.TokenNewline, "\n"))
	}
	return append(toks, token(hclsyntax.TokenCBrace, "}"))
}

// keyTokens returns key as an object key: bare when it is an identifier
// HCL reads as a name, quoted otherwise. Keywords are quoted: a bare null
// or for would be read as a value or a for expression.
func keyTokens(key string) hclwrite.Tokens {
	if hclsyntax.ValidIdentifier(key) && !hclKeywords[key] {
		return hclwrite.TokensForIdentifier(key)
	}
	return stringTokens(key)
}

var hclKeywords = setOf("true", "false", "null", "for", "in", "if", "else", "endif", "endfor")

func token(t hclsyntax.TokenType, s string) *hclwrite.Token {
	return &hclwrite.Token{Type: t, Bytes: []byte(s)}
}

func stringTokens(s string) hclwrite.Tokens {
	return hclwrite.TokensForValue(cty.StringVal(s))
}

func stringList(ss []string) hclwrite.Tokens {
	if len(ss) == 0 {
		return nil
	}
	elems := make([]hclwrite.Tokens, len(ss))
	for i, s := range ss {
		elems[i] = stringTokens(s)
	}
	return hclwrite.TokensForTuple(elems)
}

func traversalTokens(root, name string) hclwrite.Tokens {
	return hclwrite.TokensForTraversal(hcl.Traversal{
		hcl.TraverseRoot{Name: root},
		hcl.TraverseAttr{Name: name},
	})
}

// heredoc returns text as a heredoc template that evaluates to text, with
// a final newline added when it lacks one.
func heredoc(text string) hclwrite.Tokens {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "${", "$${"), "%{", "%%{")
	marker := "EOT"
	for slices.ContainsFunc(strings.Split(text, "\n"), func(line string) bool {
		return strings.TrimSpace(line) == marker
	}) {
		marker += "_"
	}
	return hclwrite.Tokens{
		token(hclsyntax.TokenOHeredoc, "<<"+marker+"\n"),
		token(hclsyntax.TokenStringLit, text),
		token(hclsyntax.TokenCHeredoc, marker),
	}
}
