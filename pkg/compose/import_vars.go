package compose

import (
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// withoutVariableEntries returns the compose files at paths with the
// volumes and ports entries that use compose variables taken out, and what
// was taken out. Compose resolves those from the environment, which forge
// does not read; left in, an entry such as "${PORT:-8000}:8000" or
// "${DATA}:/data" is not even valid without its value, and would fail the
// whole import.
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
	}
	return dropped
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
