package plan

import (
	"path/filepath"
	"strings"
)

// Description is a graph in the form forge plan prints: what each node
// builds, from what, and who uses it. Paths are relative to the
// configuration's directory. It holds no secret values: secrets appear as
// their ids and the names of their sources.
type Description struct {
	File     string               `json:"file"`
	Nodes    []NodeDescription    `json:"nodes"`
	Services map[string]RunsImage `json:"services"`
	Tasks    map[string]RunsImage `json:"tasks,omitempty"`
}

// NodeDescription describes one build node.
type NodeDescription struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	// Images are the image blocks merged into the node; MergedBecause says
	// why when there are several.
	Images        []string          `json:"images"`
	MergedBecause string            `json:"mergedBecause,omitempty"`
	Export        bool              `json:"export"`
	Tags          []string          `json:"tags"`
	Context       string            `json:"context"`
	Dockerfile    string            `json:"dockerfile,omitempty"`
	Inline        bool              `json:"dockerfileInline,omitempty"`
	Target        string            `json:"target,omitempty"`
	Args          map[string]string `json:"args,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Platforms     []string          `json:"platforms,omitempty"`
	Contexts      map[string]string `json:"contexts,omitempty"`
	Secrets       []string          `json:"secrets,omitempty"`
	SSH           []string          `json:"ssh,omitempty"`
	CacheFrom     []string          `json:"cacheFrom,omitempty"`
	CacheTo       []string          `json:"cacheTo,omitempty"`
	NoCache       bool              `json:"noCache,omitempty"`
	Pull          bool              `json:"pull,omitempty"`
	Network       string            `json:"network,omitempty"`
	Needs         []string          `json:"needs,omitempty"`
	Services      []string          `json:"services,omitempty"`
	Tasks         []string          `json:"tasks,omitempty"`
}

// RunsImage names the node a service or task runs.
type RunsImage struct {
	Image string `json:"image"`
	Node  string `json:"node"`
}

// Describe returns the description of g.
func Describe(g *Graph) *Description {
	d := &Description{
		File:     g.Config.Filename,
		Services: make(map[string]RunsImage),
	}
	for _, n := range g.Nodes {
		d.Nodes = append(d.Nodes, describeNode(n, g.Config.Dir))
	}
	for _, svc := range g.Services {
		d.Services[svc.Name] = RunsImage{Image: svc.Image, Node: g.Node(svc.Image).Name}
	}
	if len(g.Tasks) > 0 {
		d.Tasks = make(map[string]RunsImage)
		for _, t := range g.Tasks {
			d.Tasks[t.Name] = RunsImage{Image: t.Image, Node: g.Node(t.Image).Name}
		}
	}
	return d
}

func describeNode(n *Node, dir string) NodeDescription {
	img := n.Image
	nd := NodeDescription{
		Name:        n.Name,
		Key:         n.Key.String(),
		Images:      n.Images,
		Export:      n.Export,
		Tags:        img.Tags,
		Context:     RelPath(dir, img.Context),
		Inline:      img.DockerfileInline != "",
		Target:      img.Target,
		Args:        img.Args,
		Labels:      img.Labels,
		Annotations: img.Annotations,
		Platforms:   img.Platforms,
		NoCache:     img.NoCache,
		Pull:        img.Pull,
		Network:     img.Network,
		Services:    n.Services,
		Tasks:       n.Tasks,
	}
	if n.Merged() {
		nd.MergedBecause = "identical build inputs: " + strings.Join(n.Images, ", ") +
			" declare the same context, Dockerfile, target, args and settings"
	}
	if img.Dockerfile != "" {
		nd.Dockerfile = RelPath(dir, img.Dockerfile)
	}
	if len(img.Contexts) > 0 {
		nd.Contexts = make(map[string]string, len(img.Contexts))
		for name, c := range img.Contexts {
			nd.Contexts[name] = c.relativeTo(dir).String()
		}
	}
	for _, s := range img.Secrets {
		source := "env " + s.Env
		if s.File != "" {
			source = "file " + RelPath(dir, s.File)
		}
		nd.Secrets = append(nd.Secrets, s.ID+" ("+source+")")
	}
	for _, s := range img.SSH {
		nd.SSH = append(nd.SSH, s.ID)
	}
	for _, c := range img.CacheFrom {
		nd.CacheFrom = append(nd.CacheFrom, c.String())
	}
	for _, c := range img.CacheTo {
		nd.CacheTo = append(nd.CacheTo, c.String())
	}
	for _, dep := range n.Deps {
		nd.Needs = append(nd.Needs, dep.Name)
	}
	return nd
}

// RelPath returns path relative to dir with forward slashes, so that it
// reads the same on every machine, or path itself when it has no relative
// form.
func RelPath(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}
