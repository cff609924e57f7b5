package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/distribution/reference"

	"github.com/hashicorp/hcl/v2"
	"github.com/opencontainers/go-digest"
)

// Graph is the work of one build: the nodes to solve and what runs their
// results.
type Graph struct {
	Config *Config
	// Nodes are the builds, each after the nodes it needs.
	Nodes []*Node
	// Services are the services that run an exported node's image, in the
	// order they are declared.
	Services []*Service
	// Tasks are the tasks that run an exported node's image.
	Tasks []*Task
}

// Node is one build: solved once, however many image blocks declare its
// inputs and however many services run it, and exported once under all
// its tags.
type Node struct {
	// Name names the node's artifact: the first of its image blocks.
	Name string
	// Key identifies the build inputs; image blocks with equal keys are
	// merged into one node.
	Key digest.Digest
	// Images names the image blocks merged into this node, in file order.
	Images []string
	// Image holds the build inputs. Its Tags, CacheFrom, CacheTo and
	// DependsOn are the union over Images.
	Image *Image
	// Services and Tasks name those that run this node's image.
	Services []string
	Tasks    []string
	// Deps are the nodes this one needs: image contexts and depends_on.
	Deps []*Node
	// Export is false for a node built only because another needs it: its
	// result feeds the dependent build and is not tagged or recorded.
	Export bool

	tagRanges map[string]hcl.Range
}

// Merged reports whether several image blocks declared this node's inputs.
func (n *Node) Merged() bool { return len(n.Images) > 1 }

// UnknownTargetError is returned by New for a target that names neither a
// service nor an image block.
type UnknownTargetError struct {
	Name string
	// Suggestion is the declared name closest to Name, or "".
	Suggestion string
}

func (e *UnknownTargetError) Error() string {
	msg := fmt.Sprintf("no service or image named %q", e.Name)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", e.Suggestion)
	}
	return msg
}

// New returns the graph that builds targets, each the name of a service or
// of an image block. With no targets it builds every image block.
//
// Image blocks whose build inputs are identical become one node. A service
// target selects the image it runs; building an image also updates every
// service and task that runs it, so a graph never leaves one pinned to a
// stale build. Images that selected images need are built too, but not
// exported unless selected themselves.
//
// An unknown target yields an *UnknownTargetError; a tag claimed by two
// different builds yields hcl.Diagnostics. cfg must have loaded without
// errors.
func New(cfg *Config, targets ...string) (*Graph, error) {
	nodes, byImage := mergeNodes(cfg)
	nodes, diags := nodeOrder(nodes)
	if diags.HasErrors() {
		return nil, diags
	}
	if diags := checkTagConflicts(nodes); diags.HasErrors() {
		return nil, diags
	}
	selected, err := selectImages(cfg, targets)
	if err != nil {
		return nil, err
	}
	g := &Graph{Config: cfg}
	needed := make(map[*Node]bool)
	for _, n := range nodes {
		if slices.ContainsFunc(n.Images, func(name string) bool { return selected[name] }) {
			markNeeded(n, needed)
		}
	}
	for _, n := range nodes {
		if needed[n] {
			g.Nodes = append(g.Nodes, n)
		}
	}
	g.attachRunners(byImage)
	return g, nil
}

// markNeeded marks n exported and needed, then what it needs.
func markNeeded(n *Node, needed map[*Node]bool) { need(n, true, needed) }

// need marks n needed, and exported if export is set, then what n needs:
// a depends_on dependency is exported and built before n, since n uses it
// by its tags; an image n only uses as a named context is built inside n's
// solve and not exported. A node already needed is visited again when it
// becomes exported.
func need(n *Node, export bool, needed map[*Node]bool) {
	if needed[n] && (n.Export || !export) {
		return
	}
	needed[n] = true
	n.Export = n.Export || export
	for _, d := range n.Deps {
		need(d, n.dependsOn(d), needed)
	}
}

// dependsOn reports whether n names one of d's image blocks in depends_on.
func (n *Node) dependsOn(d *Node) bool {
	return slices.ContainsFunc(d.Images, func(name string) bool { return slices.Contains(n.Image.DependsOn, name) })
}

// nodeOrder returns nodes with every node after those it needs, otherwise
// in the order given. Blocks are checked for loops before they merge, but
// merging can close a loop of its own: two blocks with the same inputs,
// one needed by an image that needs the other. Such a loop is an error.
func nodeOrder(nodes []*Node) ([]*Node, hcl.Diagnostics) {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[*Node]int)
	var order, stack []*Node
	var diags hcl.Diagnostics
	var visit func(n *Node)
	visit = func(n *Node) {
		state[n] = visiting
		stack = append(stack, n)
		for _, d := range n.Deps {
			switch state[d] {
			case 0:
				visit(d)
			case visiting:
				diags = append(diags, mergedCycle(stack[slices.Index(stack, d):]))
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		order = append(order, n)
	}
	for _, n := range nodes {
		if state[n] == 0 {
			visit(n)
		}
	}
	return order, diags
}

func mergedCycle(loop []*Node) *hcl.Diagnostic {
	var chain, merged []string
	for _, n := range loop {
		chain = append(chain, strings.Join(n.Images, "+"))
		if n.Merged() {
			merged = append(merged, "image."+strings.Join(n.Images, " and image."))
		}
	}
	chain = append(chain, chain[0])
	first := loop[0]
	rng := first.Image.DeclRange
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Dependency cycle between merged images",
		Detail: fmt.Sprintf("%s declare the same build inputs, so they are built once; "+
			"but then that build needs itself: %s. Make their inputs differ, or remove one of "+
			"the references.", strings.Join(merged, ", "), strings.Join(chain, " → ")),
		Subject: &rng,
	}
}

// mergeNodes groups the image blocks by content key. Keys are computed in
// dependency order, so that a block's key can include its dependencies';
// blocks are grouped in file order, so that a node is named after the
// first of its blocks in the file. It returns the nodes in file order and
// the node of each image block.
func mergeNodes(cfg *Config) ([]*Node, map[string]*Node) {
	keys := make(map[string]digest.Digest)
	for _, img := range dependencyOrder(cfg) {
		keys[img.Name] = contentKey(img, cfg.Dir, keys)
	}
	byKey := make(map[digest.Digest]*Node)
	byImage := make(map[string]*Node)
	var nodes []*Node
	for _, img := range cfg.Images {
		key := keys[img.Name]
		n := byKey[key]
		if n == nil {
			clone := *img
			n = &Node{Name: img.Name, Key: key, Image: &clone, tagRanges: make(map[string]hcl.Range)}
			byKey[key] = n
			nodes = append(nodes, n)
		} else {
			n.Image.Tags = unionTags(n.Image.Tags, img.Tags)
			n.Image.CacheFrom = unionCaches(n.Image.CacheFrom, img.CacheFrom)
			n.Image.CacheTo = unionCaches(n.Image.CacheTo, img.CacheTo)
			n.Image.DependsOn = union(n.Image.DependsOn, img.DependsOn)
		}
		n.Images = append(n.Images, img.Name)
		byImage[img.Name] = n
		for tag, rng := range img.tagRanges {
			if _, ok := n.tagRanges[tag]; !ok {
				n.tagRanges[tag] = rng
			}
		}
	}
	for _, n := range nodes {
		for _, dep := range imageDeps(n.Image) {
			if d := byImage[dep]; d != n && !slices.Contains(n.Deps, d) {
				n.Deps = append(n.Deps, d)
			}
		}
	}
	return nodes, byImage
}

// dependencyOrder returns the image blocks with every block after those it
// needs, otherwise in file order. The configuration has no cycles.
func dependencyOrder(cfg *Config) []*Image {
	var order []*Image
	seen := make(map[string]bool)
	var visit func(img *Image)
	visit = func(img *Image) {
		if img == nil || seen[img.Name] {
			return
		}
		seen[img.Name] = true
		for _, dep := range imageDeps(img) {
			visit(cfg.Image(dep))
		}
		order = append(order, img)
	}
	for _, img := range cfg.Images {
		visit(img)
	}
	return order
}

// checkTagConflicts reports a tag that two different builds would export:
// whichever finished last would silently win.
func checkTagConflicts(nodes []*Node) hcl.Diagnostics {
	var diags hcl.Diagnostics
	owner := make(map[string]*Node)
	for _, n := range nodes {
		for _, tag := range n.Image.Tags {
			prev := owner[canonicalTag(tag)]
			if prev == nil || prev == n {
				owner[canonicalTag(tag)] = n
				continue
			}
			rng, inFile := n.tagRange(tag)
			d := &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Tag produced by two different builds",
				Extra:    tagConflict{},
				Detail: fmt.Sprintf("Images %s and %s both claim the tag %q but build different "+
					"inputs, so one would overwrite the other. Give each its own tag.",
					prev.Name, n.Name, tag),
			}
			if inFile {
				d.Subject = &rng
			} else {
				d.Detail += fmt.Sprintf(" The tags of %s come from --set.", n.Name)
			}
			diags = append(diags, d)
		}
	}
	return diags
}

type tagConflict struct{}

// TagConflict reports whether d is the error that two different builds
// claim one tag. forge check reports it as a finding of its own.
func TagConflict(d *hcl.Diagnostic) bool {
	_, ok := d.Extra.(tagConflict)
	return ok
}

// tagRange returns where the first of n's image blocks to declare tag
// declared it; inFile is false when the tag was given with --set.
func (n *Node) tagRange(tag string) (rng hcl.Range, inFile bool) {
	if rng, ok := n.tagRanges[tag]; ok {
		return rng, true
	}
	return hcl.Range{}, false
}

// canonicalTag returns tag in its fully qualified form, so that app:1 and
// docker.io/library/app:1 compare equal.
func canonicalTag(tag string) string {
	if named, err := reference.ParseNormalizedNamed(tag); err == nil {
		return reference.TagNameOnly(named).String()
	}
	return tag
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// unionTags is union for tags, comparing them in canonical form so that
// app:1 and docker.io/library/app:1 are one tag.
func unionTags(a, b []string) []string {
	out := slices.Clone(a)
	for _, t := range b {
		if !slices.ContainsFunc(out, func(o string) bool { return canonicalTag(o) == canonicalTag(t) }) {
			out = append(out, t)
		}
	}
	return out
}

func unionCaches(a, b []Cache) []Cache {
	out := slices.Clone(a)
	for _, c := range b {
		// Compared whole: String redacts credentials, which may differ.
		same := func(o Cache) bool { return o.Type == c.Type && maps.Equal(o.Attrs, c.Attrs) }
		if !slices.ContainsFunc(out, same) {
			out = append(out, c)
		}
	}
	return out
}

// attachRunners records on each exported node the services and tasks that
// run it.
func (g *Graph) attachRunners(byImage map[string]*Node) {
	for _, svc := range g.Config.Services {
		if n := byImage[svc.Image]; n != nil && n.Export {
			n.Services = append(n.Services, svc.Name)
			g.Services = append(g.Services, svc)
		}
	}
	for _, t := range g.Config.Tasks {
		if n := byImage[t.Image]; n != nil && n.Export {
			n.Tasks = append(n.Tasks, t.Name)
			g.Tasks = append(g.Tasks, t)
		}
	}
}

func selectImages(cfg *Config, targets []string) (map[string]bool, error) {
	selected := make(map[string]bool)
	if len(targets) == 0 {
		for _, img := range cfg.Images {
			selected[img.Name] = true
		}
		return selected, nil
	}
	for _, t := range targets {
		found := false
		if svc := cfg.Service(t); svc != nil {
			selected[svc.Image], found = true, true
		}
		if img := cfg.Image(t); img != nil {
			selected[img.Name], found = true, true
		}
		if !found {
			return nil, &UnknownTargetError{Name: t, Suggestion: suggestion(t, cfg.names())}
		}
	}
	return selected, nil
}

// names returns the names of every service and image block.
func (c *Config) names() []string {
	var names []string
	for _, svc := range c.Services {
		names = append(names, svc.Name)
	}
	for _, img := range c.Images {
		names = append(names, img.Name)
	}
	return names
}

// Node returns the node an image block belongs to, or nil if the graph
// has none.
func (g *Graph) Node(image string) *Node {
	for _, n := range g.Nodes {
		if slices.Contains(n.Images, image) {
			return n
		}
	}
	return nil
}

// Exported returns the nodes whose results are tagged and recorded.
func (g *Graph) Exported() []*Node {
	var out []*Node
	for _, n := range g.Nodes {
		if n.Export {
			out = append(out, n)
		}
	}
	return out
}
