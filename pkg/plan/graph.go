package plan

import (
	"fmt"
	"strings"
)

// Graph is the work of one build: the nodes to solve and the services that
// run their results.
type Graph struct {
	Config *Config
	// Nodes are the builds, in the order their image blocks are declared.
	Nodes []*Node
	// Services are every service that runs the image of a node, in the
	// order they are declared.
	Services []*Service
}

// Node is one build: solved once and exported once under all its tags,
// however many services run it.
type Node struct {
	// Name names the artifact in the manifest: the image block's name.
	Name  string
	Image *Image
	// Services names the services that run the node's image.
	Services []string
}

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
// of an image block. With no targets it builds every image block. A service
// target selects the image it runs; building an image also updates every
// service that runs it, so a graph never leaves a service pinned to a stale
// build. An unknown target yields an *UnknownTargetError.
//
// cfg must have been loaded without errors.
func New(cfg *Config, targets ...string) (*Graph, error) {
	selected, err := selectImages(cfg, targets)
	if err != nil {
		return nil, err
	}
	g := &Graph{Config: cfg}
	byImage := make(map[string]*Node)
	for _, img := range cfg.Images {
		if !selected[img.Name] {
			continue
		}
		n := &Node{Name: img.Name, Image: img}
		byImage[img.Name] = n
		g.Nodes = append(g.Nodes, n)
	}
	for _, svc := range cfg.Services {
		if n := byImage[svc.Image]; n != nil {
			n.Services = append(n.Services, svc.Name)
			g.Services = append(g.Services, svc)
		}
	}
	return g, nil
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

// Node returns the node named name, or nil if the graph has none.
func (g *Graph) Node(name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// String summarises the graph on one line per node, for messages.
func (g *Graph) String() string {
	var b strings.Builder
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "%s → %s", n.Name, strings.Join(n.Image.Tags, ", "))
		if len(n.Services) > 0 {
			fmt.Fprintf(&b, " (services: %s)", strings.Join(n.Services, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
