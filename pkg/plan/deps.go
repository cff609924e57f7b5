package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// imageDeps returns the image blocks img needs built first: those its named
// contexts use, by context name, then its depends_on entries.
func imageDeps(img *Image) []string {
	var deps []string
	for _, name := range sortedKeys(img.Contexts) {
		if c := img.Contexts[name]; c.Kind == ContextImage && !slices.Contains(deps, c.Image) {
			deps = append(deps, c.Image)
		}
	}
	for _, d := range img.DependsOn {
		if !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	return deps
}

// checkCycles reports every loop of image dependencies with its chain,
// pointing at the attribute that closes the loop.
func checkCycles(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, len(cfg.Images))
	for i, img := range cfg.Images {
		names[i] = img.Name
	}
	for _, chain := range findCycles(names, func(name string) []string {
		if img := cfg.Image(name); img != nil {
			return imageDeps(img)
		}
		return nil
	}) {
		from := chain[len(chain)-2]
		diags = append(diags, cycleDiagnostic(cfg.Image(from), chain[len(chain)-1], chain))
	}
	return diags
}

// checkServiceCycles reports every loop of services' depends_on: such
// services could never start.
func checkServiceCycles(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, len(cfg.Services))
	for i, svc := range cfg.Services {
		names[i] = svc.Name
	}
	for _, chain := range findCycles(names, func(name string) []string {
		if svc := cfg.Service(name); svc != nil {
			return svc.DependsOn
		}
		return nil
	}) {
		rng := cfg.Service(chain[len(chain)-2]).AttrRange("depends_on")
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle between services",
			Detail: fmt.Sprintf("The services wait for each other in a loop, so none could start: %s. "+
				"Break the loop by removing one of these references.",
				"service."+strings.Join(chain, " → service.")),
			Subject: &rng,
		})
	}
	return diags
}

// findCycles walks the graph of names and deps in order and returns the
// chain of each loop it finds, from the first name of the loop back to it.
func findCycles(names []string, deps func(string) []string) [][]string {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int, len(names))
	for _, name := range names {
		state[name] = 0
	}
	var stack []string
	var chains [][]string
	var visit func(name string)
	visit = func(name string) {
		state[name] = visiting
		stack = append(stack, name)
		for _, dep := range deps(name) {
			switch st, known := state[dep]; {
			case known && st == 0:
				visit(dep)
			case st == visiting:
				i := slices.Index(stack, dep)
				chains = append(chains, append(slices.Clone(stack[i:]), dep))
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, name := range names {
		if state[name] == 0 {
			visit(name)
		}
	}
	return chains
}

// checkContextPlatforms reports images built for a platform that an image
// they use as a named context, built for several platforms, is not built
// for: the build would have no result of it to use. A context built for
// one platform fits every platform. A context that names no platform is
// built for each platform of its user, and so are the images it uses in
// turn, which are checked against those platforms too.
func checkContextPlatforms(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, img := range cfg.Images {
		if len(img.Platforms) > 0 {
			diags = append(diags, contextPlatforms(cfg, img, img, map[string]bool{img.Name: true})...)
		}
	}
	return diags
}

// contextPlatforms checks the image contexts of user, built for the
// platforms of root, which is user itself or an image that uses it through
// contexts that name no platform.
func contextPlatforms(cfg *Config, root, user *Image, seen map[string]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(user.Contexts) {
		c := user.Contexts[name]
		dep := cfg.Image(c.Image)
		if c.Kind != ContextImage || dep == nil {
			continue
		}
		if len(dep.Platforms) == 0 && !seen[dep.Name] {
			seen[dep.Name] = true
			diags = append(diags, contextPlatforms(cfg, root, dep, seen)...)
		}
		if len(dep.Platforms) < 2 {
			continue
		}
		for _, p := range root.Platforms {
			if slices.Contains(dep.Platforms, p) {
				continue
			}
			built := fmt.Sprintf("Image %q is built for %s", user.Name, p)
			if user != root {
				built = fmt.Sprintf("Image %q names no platform, so it is built for %s, a platform of "+
					"image %q, which uses it", user.Name, p, root.Name)
			}
			rng := user.AttrRange("contexts")
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Named context not built for this platform",
				Detail: fmt.Sprintf("%s, but its context %q, image.%s, is built only for %s. "+
					"Add %s to the platforms of image %q, or remove it from those of image %q.",
					built, name, dep.Name, strings.Join(dep.Platforms, ", "), p, dep.Name, root.Name),
				Subject: &rng,
			})
		}
	}
	return diags
}

func cycleDiagnostic(img *Image, dep string, chain []string) *hcl.Diagnostic {
	attr := "contexts"
	if slices.Contains(img.DependsOn, dep) {
		attr = "depends_on"
	}
	rng := img.AttrRange(attr)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Dependency cycle between images",
		Detail: fmt.Sprintf("The images need each other in a loop: %s. "+
			"Break the loop by removing one of these references.",
			"image."+strings.Join(chain, " → image.")),
		Subject: &rng,
	}
}
