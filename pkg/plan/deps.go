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
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int)
	var stack []string
	var diags hcl.Diagnostics
	var visit func(img *Image)
	visit = func(img *Image) {
		state[img.Name] = visiting
		stack = append(stack, img.Name)
		for _, dep := range imageDeps(img) {
			switch state[dep] {
			case 0:
				if next := cfg.Image(dep); next != nil {
					visit(next)
				}
			case visiting:
				i := slices.Index(stack, dep)
				chain := append(slices.Clone(stack[i:]), dep)
				diags = append(diags, cycleDiagnostic(img, dep, chain))
			}
		}
		stack = stack[:len(stack)-1]
		state[img.Name] = done
	}
	for _, img := range cfg.Images {
		if state[img.Name] == 0 {
			visit(img)
		}
	}
	return diags
}

// checkContextPlatforms reports images built for a platform that an image
// they use as a named context, built for several platforms, is not built
// for: the build would have no result of it to use. A context built for
// one platform, or for none (built for each platform of its user), fits
// every platform.
func checkContextPlatforms(cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, img := range cfg.Images {
		for _, name := range sortedKeys(img.Contexts) {
			c := img.Contexts[name]
			dep := cfg.Image(c.Image)
			if c.Kind != ContextImage || dep == nil || len(dep.Platforms) < 2 {
				continue
			}
			for _, p := range img.Platforms {
				if slices.Contains(dep.Platforms, p) {
					continue
				}
				rng := img.AttrRange("contexts")
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Named context not built for this platform",
					Detail: fmt.Sprintf("Image %q is built for %s, but its context %q, image.%s, is built only for %s. "+
						"Add %s to the platforms of image %q, or remove it from those of image %q.",
						img.Name, p, name, dep.Name, strings.Join(dep.Platforms, ", "), p, dep.Name, img.Name),
					Subject: &rng,
				})
			}
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
