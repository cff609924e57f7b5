package plan

import (
	// go-digest computes SHA-256 digests with the hash crypto registers.
	_ "crypto/sha256"
	"encoding/json"
	"os"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

// keyInputs is everything that decides what an image build produces, in a
// canonical form: two image blocks with equal keyInputs build the same
// image. Tags, caches and build order are left out: they say where a
// result goes and how fast it comes, not what it is.
type keyInputs struct {
	Context          string            `json:"context"`
	Dockerfile       string            `json:"dockerfile,omitempty"`
	DockerfileInline string            `json:"dockerfileInline,omitempty"`
	Target           string            `json:"target,omitempty"`
	Args             map[string]string `json:"args,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
	Platforms        []string          `json:"platforms,omitempty"`
	// Contexts maps each named context to its kind and source, an image
	// block's source being the key of that block's build.
	Contexts map[string]string `json:"contexts,omitempty"`
	Secrets  []Secret          `json:"secrets,omitempty"`
	SSH      []SSH             `json:"ssh,omitempty"`
	NoCache  bool              `json:"noCache,omitempty"`
	Pull     bool              `json:"pull,omitempty"`
	Network  string            `json:"network,omitempty"`
}

// contentKey returns the key of img's build inputs. keys holds the keys of
// the image blocks img's contexts name; they must be computed first. Paths
// enter the key relative to dir, the configuration's directory, so that a
// project has the same keys wherever it is checked out.
func contentKey(img *Image, dir string, keys map[string]digest.Digest) digest.Digest {
	in := keyInputs{
		Context:          RelPath(dir, img.Context),
		Dockerfile:       relIfSet(dir, img.Dockerfile),
		DockerfileInline: img.DockerfileInline,
		Target:           img.Target,
		Args:             img.Args,
		Labels:           img.Labels,
		Annotations:      img.Annotations,
		Platforms:        sortedCopy(img.Platforms),
		Secrets:          slices.Clone(img.Secrets),
		SSH:              slices.Clone(img.SSH),
		NoCache:          img.NoCache,
		Pull:             img.Pull,
		Network:          img.Network,
	}
	if in.Network == "default" {
		in.Network = ""
	}
	if len(img.Contexts) > 0 {
		in.Contexts = make(map[string]string, len(img.Contexts))
		for name, c := range img.Contexts {
			// A URL counts whole: its credentials, which String
			// redacts, can name what is fetched (?key=release-2).
			src := c.relativeTo(dir).String()
			switch c.Kind {
			case ContextImage:
				src = keys[c.Image].String()
			case ContextURL:
				src = c.Ref
			}
			in.Contexts[name] = string(c.Kind) + " " + src
		}
	}
	for i, s := range in.Secrets {
		in.Secrets[i].File = portablePath(dir, s.File)
	}
	for i, s := range in.SSH {
		in.SSH[i].Paths = make([]string, len(s.Paths))
		for j, p := range s.Paths {
			in.SSH[i].Paths[j] = portablePath(dir, p)
		}
	}
	slices.SortFunc(in.Secrets, func(a, b Secret) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(in.SSH, func(a, b SSH) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.Marshal(in)
	if err != nil {
		// keyInputs holds only strings, maps of strings and bools.
		panic(err)
	}
	return digest.FromBytes(data)
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// portablePath returns path as it reads on any machine: relative to dir
// when inside it, else as ~/PATH when in the home directory. Secret files
// and SSH keys often live outside the project, in the user's home.
func portablePath(dir, path string) string {
	if path == "" {
		return ""
	}
	if rel := RelPath(dir, path); rel != ".." && !strings.HasPrefix(rel, "../") {
		return rel
	}
	if home, err := os.UserHomeDir(); err == nil {
		if rel := RelPath(home, path); rel != ".." && !strings.HasPrefix(rel, "../") {
			return "~/" + rel
		}
	}
	return path
}

func relIfSet(dir, path string) string {
	if path == "" {
		return ""
	}
	return RelPath(dir, path)
}
