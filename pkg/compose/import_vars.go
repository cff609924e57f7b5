package compose

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// withoutVariableEntries returns the compose files at paths with the
// volumes and ports entries that use compose variables taken out, and the
// service and build keys forge does not carry over that use them, and
// what was taken out. Compose resolves those from the environment, which
// forge does not read; left in, an entry such as "${PORT:-8000}:8000" or
// a key such as cpus: ${CPUS} is not even valid without its value, and
// would fail the whole import.
func withoutVariableEntries(paths []string) ([]types.ConfigFile, []Problem, error) {
	var files []types.ConfigFile
	var dropped []Problem
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		found := dropVariableEntries(&doc)
		if len(found) > 0 {
			if data, err = yaml.Marshal(&doc); err != nil {
				return nil, nil, err
			}
		}
		dropped = append(dropped, found...)
		files = append(files, types.ConfigFile{Filename: path, Content: data})
	}
	return files, dropped, nil
}

func dropVariableEntries(doc *yaml.Node) []Problem {
	var dropped []Problem
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	services := mappingValue(doc.Content[0], "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(services.Content); i += 2 {
		name, svc := services.Content[i].Value, services.Content[i+1]
		for _, key := range []string{"volumes", "ports"} {
			list := mappingValue(svc, key)
			if list == nil || list.Kind != yaml.SequenceNode {
				continue
			}
			kept := list.Content[:0]
			for _, entry := range list.Content {
				if text := entryText(entry); strings.Contains(text, "$") {
					dropped = append(dropped, Problem{Service: name, Key: key,
						Message: fmt.Sprintf("%s uses compose variables, which forge does not read from the "+
							"environment: left out; write it with a variable block", text)})
					continue
				}
				kept = append(kept, entry)
			}
			list.Content = kept
		}
		dropped = append(dropped, dropVariableKeys(name, "", svc, convertedServiceKeys)...)
		if build := mappingValue(svc, "build"); build != nil {
			dropped = append(dropped, dropVariableKeys(name, "build.", build, convertedBuildKeys)...)
		}
	}
	return dropped
}

// dropVariableKeys takes the keys of the mapping m that are not in
// converted and use compose variables out of m, and reports them.
func dropVariableKeys(service, prefix string, m *yaml.Node, converted map[string]bool) []Problem {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	var dropped []Problem
	kept := m.Content[:0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, value := m.Content[i].Value, m.Content[i+1]
		switch {
		case !nodeUsesVariable(value):
		case !converted[key]:
			dropped = append(dropped, Problem{Service: service, Key: prefix + key,
				Message: unconvertedMessage(key) + "; it uses compose variables"})
			continue
		case typedKeys[prefix+key]:
			dropped = append(dropped, Problem{Service: service, Key: prefix + key,
				Message: "uses compose variables, which forge does not read from the environment, " +
					"where compose needs a value: left out; set it in forge.hcl"})
			continue
		}
		kept = append(kept, m.Content[i], value)
	}
	m.Content = kept
	return dropped
}

// typedKeys are the keys forge carries over whose value is not a string:
// with a variable in place of the value they would not load.
var typedKeys = setOf("build.no_cache", "build.pull")

// nodeUsesVariable reports whether a scalar in n uses a compose variable.
func nodeUsesVariable(n *yaml.Node) bool {
	if n.Kind == yaml.ScalarNode {
		return usesVariable(n.Value)
	}
	return slices.ContainsFunc(n.Content, nodeUsesVariable)
}

// mappingValue returns the value of key in the mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// entryText returns a volumes or ports entry as text: the short form as
// written, or the scalar values of the long form.
func entryText(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; v.Kind == yaml.ScalarNode {
			parts = append(parts, n.Content[i].Value+"="+v.Value)
		}
	}
	return strings.Join(parts, ",")
}
