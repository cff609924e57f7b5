package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

const precedenceConfig = `
variable "tag" {
  default = "from-default"
}
variable "replicas" {
  type    = number
  default = 1
}
variable "platforms" {
  type    = list(string)
  default = ["linux/amd64"]
}
variable "note" {
  default = ""
}
image "app" {
  tags = ["app:${var.tag}"]
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, precedenceConfig)
	first := filepath.Join(dir, "first.hcl")
	writeFile(t, first, "tag = \"from-first-file\"\nreplicas = 3\n")
	nulls := filepath.Join(dir, "nulls.hcl")
	writeFile(t, nulls, "tag = null\n")
	second := filepath.Join(dir, "second.json")
	writeFile(t, second, `{"tag": "from-second-file", "platforms": ["linux/arm64", "linux/amd64"]}`)

	tests := []struct {
		name       string
		values     Values
		wantTag    string
		wantSource string
	}{
		{"default", Values{}, "from-default", "default"},
		{"environment beats default",
			Values{Environ: []string{"FORGE_VAR_tag=from-env", "tag=ignored"}}, "from-env", "FORGE_VAR_tag"},
		{"a var file beats the environment",
			Values{Environ: []string{"FORGE_VAR_tag=from-env"}, Files: []string{first}},
			"from-first-file", first},
		{"a later var file beats an earlier one",
			Values{Files: []string{first, second}}, "from-second-file", second},
		{"--var beats files and environment",
			Values{Environ: []string{"FORGE_VAR_tag=from-env"}, Files: []string{first},
				Vars: []string{"tag=from-flag"}}, "from-flag", "--var"},
		{"a later --var beats an earlier one",
			Values{Vars: []string{"tag=one", "tag=two"}}, "two", "--var"},
		{"a null in a var file leaves the default",
			Values{Files: []string{nulls}}, "from-default", "default"},
		{"an unprefixed environment variable is ignored",
			Values{Environ: []string{"TAG=from-env", "tag=from-env"}}, "from-default", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := NewParser().Load(path, LoadOptions{Values: tt.values})
			if diags.HasErrors() {
				t.Fatalf("Load() diagnostics: %v", diags)
			}
			v := findVar(cfg, "tag")
			if got := v.Value.AsString(); got != tt.wantTag || v.Source != tt.wantSource {
				t.Errorf("var.tag = %q from %q, want %q from %q", got, v.Source, tt.wantTag, tt.wantSource)
			}
			if got, want := cfg.Image("app").Tags[0], "app:"+tt.wantTag; got != want {
				t.Errorf("image tag = %q, want %q", got, want)
			}
		})
	}
}

func TestVariableTypes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, precedenceConfig)
	tests := []struct {
		name   string
		values Values
		check  func(*Config) bool
	}{
		{"number from --var", Values{Vars: []string{"replicas=3"}}, func(c *Config) bool {
			return findVar(c, "replicas").Value.Equals(cty.NumberIntVal(3)).True()
		}},
		{"list from the environment", Values{Environ: []string{`FORGE_VAR_platforms=["linux/arm64"]`}},
			func(c *Config) bool {
				return findVar(c, "platforms").Value.Equals(cty.ListVal([]cty.Value{cty.StringVal("linux/arm64")})).True()
			}},
		{"null from --var leaves the default", Values{Vars: []string{"replicas=null"}}, func(c *Config) bool {
			v := findVar(c, "replicas")
			return !v.Value.IsNull() && v.Source == "default"
		}},
		{"untyped keeps strings verbatim", Values{Vars: []string{`note=["not", "a", "list"]`}},
			func(c *Config) bool {
				return findVar(c, "note").Value.AsString() == `["not", "a", "list"]`
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := NewParser().Load(path, LoadOptions{Values: tt.values})
			if diags.HasErrors() {
				t.Fatalf("Load() diagnostics: %v", diags)
			}
			if !tt.check(cfg) {
				t.Errorf("Load(%+v) variables = %v", tt.values, cfg.Variables)
			}
		})
	}
}

func TestVariableValueErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, precedenceConfig)
	varFile := filepath.Join(dir, "vars.hcl")
	writeFile(t, varFile, "tga = \"x\"\n")
	tests := []struct {
		name    string
		values  Values
		summary string
		detail  string
		pos     string
	}{
		{"undeclared --var", Values{Vars: []string{"tga=x"}},
			"Value for undeclared variable", `Did you mean "tag"?`, "none"},
		{"undeclared in a var file", Values{Files: []string{varFile}},
			"Value for undeclared variable", `Did you mean "tag"?`, "1:1"},
		{"--var without a value", Values{Vars: []string{"tag"}}, "Invalid --var", "NAME=VALUE", "none"},
		{"number that is not", Values{Vars: []string{"replicas=many"}},
			"Invalid value for variable", "--var", "5:1"},
		{"missing var file", Values{Files: []string{filepath.Join(dir, "absent.hcl")}},
			"Configuration file not found", "absent.hcl", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := NewParser().Load(path, LoadOptions{Values: tt.values})
			if !diags.HasErrors() {
				t.Fatalf("Load(%+v) succeeded, want %q", tt.values, tt.summary)
			}
			d := errorsOnly(diags)[0]
			pos := "none"
			if d.Subject != nil {
				pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
			}
			if d.Summary != tt.summary || !strings.Contains(d.Detail, tt.detail) || pos != tt.pos {
				t.Errorf("Load(%+v) = %s %q: %q, want %s %q containing %q",
					tt.values, pos, d.Summary, d.Detail, tt.pos, tt.summary, tt.detail)
			}
		})
	}
}

func findVar(cfg *Config, name string) *Variable {
	for _, v := range cfg.Variables {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func TestFunctions(t *testing.T) {
	now := time.Date(2026, 12, 3, 16, 30, 0, 0, time.UTC)
	tests := []struct {
		expr string
		want string
	}{
		{`upper("app")`, "APP"},
		{`lower("APP")`, "app"},
		{`format("%s-%03d", "build", 7)`, "build-007"},
		{`join(",", ["a", "b"])`, "a,b"},
		{`join(",", split("/", "a/b/c"))`, "a,b,c"},
		{`replace("a.b.c", ".", "-")`, "a-b-c"},
		{`regex_replace("v1.2.3", "^v", "")`, "1.2.3"},
		{`regex("[0-9]+", "build-42")`, "42"},
		{`trimspace("  x  ")`, "x"},
		{`trimprefix("refs/heads/main", "refs/heads/")`, "main"},
		{`substr("abcdef", 0, 3)`, "abc"},
		{`title("hello world")`, "Hello World"},
		{`sanitize("feature/login-page")`, "feature_login_page"},
		{`jsonencode({a = 1})`, `{"a":1}`},
		{`jsondecode("{\"a\": \"b\"}").a`, "b"},
		{`base64encode("forge")`, "Zm9yZ2U="},
		{`base64decode("Zm9yZ2U=")`, "forge"},
		{`csvdecode("a,b\n1,2")[0].b`, "2"},
		{`timestamp()`, "2026-12-03T16:30:00Z"},
		{`formatdate("YYYYMMDD", timestamp())`, "20261203"},
		{`timeadd("2026-12-03T16:30:00Z", "1h")`, "2026-12-03T17:30:00Z"},
		{`try(var.missing_map.key, "fallback")`, "fallback"},
		{`can(regex("^v", "1.0")) ? "tagged" : "plain"`, "plain"},
		{`length(concat(["a"], ["b", "c"]))`, "3"},
		{`length(merge({a = 1}, {b = "x"}))`, "2"},
		{`length({})`, "0"},
		{`length({a = 1, b = 2}) + length(["x"])`, "3"},
		{`element(distinct(["a", "a", "b"]), 1)`, "b"},
		{`lookup({a = "x"}, "b", "default")`, "default"},
		{`join(",", keys(merge({a = 1}, {b = 2})))`, "a,b"},
		{`join(",", sort(["b", "a"]))`, "a,b"},
		{`coalesce(null, "second")`, "second"},
		{`join(",", flatten([["a"], ["b"]]))`, "a,b"},
		{`tostring(max(1, 5, 3))`, "5"},
		{`local.version`, "v2"},
		{`indent(2, "a\nb")`, "a\n  b"},
		{`formatlist("%s-%5.2f", ["a"], [1])[0]`, "a- 1.00"},
		{`tostring(length(setproduct(range(100), range(100), range(10))))`, "100000"},
		{`jsondecode("[[[\"]]]]]]\"]]]")[0][0][0]`, "]]]]]]"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			src := "variable \"missing_map\" {\n  default = {}\n}\n" +
				"locals {\n  version = \"v${1 + 1}\"\n}\n" +
				"image \"app\" {\n  target = " + tt.expr + "\n}\n"
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
			cfg, diags := NewParser().Parse([]byte(src), filepath.Join(dir, "forge.hcl"), LoadOptions{Now: now})
			if diags.HasErrors() {
				t.Fatalf("target = %s: %v", tt.expr, diags)
			}
			if got := cfg.Image("app").Target; got != tt.want {
				t.Errorf("target = %s gives %q, want %q", tt.expr, got, tt.want)
			}
		})
	}
}

// TestFunctionGuards checks that arguments asking a function for more
// than memory or the stack can give are an error on the call, located.
func TestFunctionGuards(t *testing.T) {
	tests := []string{
		`length(setproduct(range(1000), range(1000), range(1000)))`,
		`length(jsondecode("${join("", [for i in range(300) : "["])}${join("", [for i in range(300) : "]"])}"))`,
		`indent(-1, "a\nb")`,
		`indent(1000000000, "a\nb")`,
		`format("%03000000000d", 0)`,
		`format("%.999999999f", 1)`,
		`formatlist("%099999999s", ["a"])`,
	}
	for _, expr := range tests {
		t.Run(expr, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
			src := "image \"app\" {\n  target = tostring(" + expr + ")\n}\n"
			_, diags := NewParser().Parse([]byte(src), filepath.Join(dir, "forge.hcl"), LoadOptions{})
			if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
				t.Errorf("target = %s: %v, want an error on line 2", expr, diags)
			}
			if strings.Contains(diags.Error(), "goroutine") {
				t.Errorf("target = %s: the error holds a stack trace: %v", expr, diags)
			}
		})
	}
}

func TestSet(t *testing.T) {
	cfg := mustLoad(t, filepath.Join("testdata", "shared", "forge.hcl"))
	dir := cfg.Dir
	tests := []struct {
		name  string
		set   []string
		image string
		check func(*Image) any
		want  any
	}{
		{"arg", []string{"app.args.VERSION=2.0"}, "app",
			func(i *Image) any { return i.Args["VERSION"] }, "2.0"},
		{"new label on every image", []string{"*.labels.team=core"}, "broker",
			func(i *Image) any { return i.Labels["team"] }, "core"},
		{"tags replace the list", []string{"app.tags=app:ci,app:sha"}, "app",
			func(i *Image) any { return i.Tags }, []string{"app:ci", "app:sha"}},
		{"later wins", []string{"app.target=a", "app.target=b"}, "app",
			func(i *Image) any { return i.Target }, "b"},
		{"platforms are normalised", []string{"app.platforms=linux/arm64,linux/amd64"}, "app",
			func(i *Image) any { return i.Platforms }, []string{"linux/arm64", "linux/amd64"}},
		{"no_cache", []string{"app.no_cache=true"}, "app",
			func(i *Image) any { return i.NoCache }, true},
		{"cache entry with commas", []string{"app.cache_to=type=registry,ref=r/c,mode=max"}, "app",
			func(i *Image) any { return i.CacheTo[0].String() }, "type=registry,mode=max,ref=r/c"},
		{"dockerfile resolves against the context", []string{"broker.dockerfile=Dockerfile"}, "broker",
			func(i *Image) any { return i.Dockerfile }, filepath.Join(dir, "app", "Dockerfile")},
		{"a new context takes the dockerfile along", []string{"broker.context=next"}, "broker",
			func(i *Image) any { return i.Dockerfile }, filepath.Join(dir, "next", "Broker.Dockerfile")},
		{"context then dockerfile", []string{"broker.context=next", "broker.dockerfile=../app/Dockerfile"}, "broker",
			func(i *Image) any { return i.Dockerfile }, filepath.Join(dir, "app", "Dockerfile")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := NewParser().Load(filepath.Join("testdata", "shared", "forge.hcl"), LoadOptions{Set: tt.set})
			if diags.HasErrors() {
				t.Fatalf("Load(--set %v): %v", tt.set, diags)
			}
			if diff := cmp.Diff(tt.want, tt.check(cfg.Image(tt.image))); diff != "" {
				t.Errorf("Load(--set %v) mismatch (-want +got):\n%s", tt.set, diff)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		set, detail string
	}{
		{"app.tagz=x", `Did you mean "tags"?`},
		{"ap.tags=x", `no image named "ap". Did you mean "app"?`},
		{"app.args=x", "takes a key"},
		{"app.target.x=y", "takes no key"},
		{"app.tags=Bad Tag", "must be lowercase"},
		{"app.no_cache=maybe", "true or false"},
		{"app", "NAME.ATTR=VALUE"},
		{"app.context=nowhere", "not a directory"},
		{"app.args.A B=1", "cannot name a build argument"},
		{"app.context=next", "no Dockerfile at"},
		{"app.context=/", "outside"},
		{"app.dockerfile=../../../config.go", "outside"},
		{"app.tags=", "at least one tag"},
		{"app.platforms=linux/arm64,linux/arm64/v8", "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			_, diags := NewParser().Load(filepath.Join("testdata", "shared", "forge.hcl"),
				LoadOptions{Set: []string{tt.set}})
			if !diags.HasErrors() || diags[0].Summary != "Invalid --set" ||
				!strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("Load(--set %s) = %v, want Invalid --set containing %q", tt.set, diags, tt.detail)
			}
		})
	}
}

func TestLoadRefusesHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forge.hcl")
	if err := os.WriteFile(path, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := NewParser().Load(path, LoadOptions{})
	if !diags.HasErrors() || diags[0].Summary != "Configuration file too large" {
		t.Errorf("Load(huge) = %v, want Configuration file too large", diags)
	}
	_, diags = NewParser().Parse(make([]byte, MaxFileSize+1), path, LoadOptions{})
	if !diags.HasErrors() || diags[0].Summary != "Configuration file too large" {
		t.Errorf("Parse(huge) = %v, want Configuration file too large", diags)
	}
}

// TestParseReadsJSONByName checks that Parse, like Load, reads a path
// ending in .json as HCL's JSON syntax.
func TestParseReadsJSONByName(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	src := []byte(`{"image": {"app": {"tags": ["app:json"]}}}`)
	cfg, diags := NewParser().Parse(src, filepath.Join(dir, "forge.hcl.json"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Parse(JSON) = %v", diags)
	}
	if img := cfg.Image("app"); img == nil || !slices.Equal(img.Tags, []string{"app:json"}) {
		t.Errorf("Parse(JSON) image app = %+v, want tags [app:json]", img)
	}
}

func TestVariableWithNullDefaultIsOptional(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "Dockerfile"), "FROM scratch\n")
	path := filepath.Join(dir, "forge.hcl")
	writeFile(t, path, "variable \"mirror\" {\n  type    = string\n  default = null\n}\n"+
		"image \"app\" {\n  args = { MIRROR = var.mirror == null ? \"none\" : var.mirror }\n}\n")
	cfg, diags := NewParser().Load(path, LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("Load() = %v, want a variable with a null default to be optional", diags)
	}
	if got := cfg.Image("app").Args["MIRROR"]; got != "none" {
		t.Errorf("args.MIRROR = %q, want none", got)
	}
}
