package plan

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var secretType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"id":   cty.String,
	"env":  cty.String,
	"file": cty.String,
}, []string{"env", "file"})

// secrets decodes secrets = [{ id = "npm", env = "NPM_TOKEN" }, ...]. Each
// secret names exactly one source; the value is read only at build time.
func (d *imageDecoder) secrets() []Secret {
	attr := d.attrs["secrets"]
	if attr == nil {
		return nil
	}
	val, diags := attrValue(attr, cty.List(secretType), d.ctx)
	d.add(diags)
	if val.IsNull() {
		return nil
	}
	var out []Secret
	for i, v := range val.AsValueSlice() {
		if v.IsNull() {
			d.add(hcl.Diagnostics{nullElementAt(attr, i)})
			continue
		}
		s := Secret{
			ID:   ctyString(v.GetAttr("id")),
			Env:  ctyString(v.GetAttr("env")),
			File: ctyString(v.GetAttr("file")),
		}
		if s.File != "" {
			s.File = resolvePath(d.dir, expandHome(s.File), "")
		}
		if msg := checkSecret(s, out); msg != "" {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid secret",
				Detail:   msg,
				Subject:  elemRange(attr, i),
			}})
			continue
		}
		out = append(out, s)
	}
	return out
}

func checkSecret(s Secret, earlier []Secret) string {
	switch {
	case s.ID == "":
		return "A secret needs an id, the name RUN --mount=type=secret,id=... uses."
	case (s.Env == "") == (s.File == ""):
		return fmt.Sprintf("Secret %q needs exactly one source: env (an environment variable) "+
			"or file (a path).", s.ID)
	}
	for _, e := range earlier {
		if e.ID == s.ID {
			return fmt.Sprintf("Secret %q is declared twice.", s.ID)
		}
	}
	return ""
}

// ssh decodes ssh = ["default", "github=~/.ssh/id_ed25519"]: an id alone
// forwards the agent at $SSH_AUTH_SOCK, id=PATH[,PATH] forwards keys or
// agent sockets.
func (d *imageDecoder) ssh() []SSH {
	specs := d.stringList("ssh")
	var out []SSH
	for i, spec := range specs {
		id, paths, _ := strings.Cut(spec, "=")
		s := SSH{ID: id}
		if paths != "" {
			for _, p := range strings.Split(paths, ",") {
				s.Paths = append(s.Paths, resolvePath(d.dir, expandHome(p), ""))
			}
		}
		if id == "" || slices.ContainsFunc(out, func(o SSH) bool { return o.ID == id }) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid ssh entry",
				Detail:   fmt.Sprintf("%q: an entry is ID or ID=PATH[,PATH], with each ID once.", spec),
				Subject:  elemRange(d.attrs["ssh"], i),
			}})
			continue
		}
		out = append(out, s)
	}
	return out
}

// cacheTypes are the cache backends BuildKit knows.
var cacheTypes = []string{"registry", "local", "inline", "gha", "s3", "azblob"}

// caches decodes cache_from or cache_to: entries in BuildKit's CSV form
// (type=registry,ref=REF,mode=max) or a bare image reference, which means
// a registry cache.
func (d *imageDecoder) caches(name string) []Cache {
	var out []Cache
	for i, spec := range d.stringList(name) {
		c, err := ParseCache(spec)
		if err != nil {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid cache entry",
				Detail:   fmt.Sprintf("%s.", err),
				Subject:  elemRange(d.attrs[name], i),
			}})
			continue
		}
		out = append(out, c)
	}
	return out
}

// ParseCache parses a cache import or export in BuildKit's CSV form, as
// type=registry,ref=REF,mode=max, or a bare image reference for a registry
// cache. It fails for an unknown type or a malformed entry.
func ParseCache(spec string) (Cache, error) {
	if !strings.Contains(spec, "=") {
		if err := checkTag(spec); err != nil {
			return Cache{}, fmt.Errorf("a bare cache entry is an image reference: %w", err)
		}
		return Cache{Type: "registry", Attrs: map[string]string{"ref": spec}}, nil
	}
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return Cache{}, fmt.Errorf("not a comma-separated list: %w", err)
	}
	c := Cache{Attrs: make(map[string]string)}
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			// The field is not quoted: it may be part of a credential.
			return Cache{}, fmt.Errorf("field %d is not KEY=VALUE", i+1)
		}
		if k == "type" {
			c.Type = v
		} else {
			c.Attrs[k] = v
		}
	}
	if !slices.Contains(cacheTypes, c.Type) {
		return Cache{}, fmt.Errorf("type %q is not one of %s", c.Type, strings.Join(cacheTypes, ", "))
	}
	return c, nil
}

// String returns the cache in BuildKit's CSV form, for people and the
// manifest: credentials are replaced by xxxxx (see redactCacheAttr).
func (c Cache) String() string {
	parts := []string{"type=" + c.Type}
	for _, k := range sortedKeys(c.Attrs) {
		parts = append(parts, k+"="+redactCacheAttr(k, c.Attrs[k]))
	}
	return strings.Join(parts, ",")
}

// expandHome replaces a leading ~/ with the user's home directory.
func expandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest)
}
