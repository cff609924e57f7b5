package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
)

// settable lists the image attributes --set can override. Map attributes
// take a key: NAME.args.KEY=VALUE.
var settable = []string{"context", "dockerfile", "target", "tags", "platforms", "cache_from",
	"cache_to", "no_cache", "pull", "network", "args", "labels", "annotations"}

// applySet applies the --set overrides in order. Each is
// NAME.ATTR[.KEY]=VALUE, where NAME is an image block or * for all of them;
// list attributes take comma-separated values and replace the list.
func (l *loader) applySet() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, spec := range l.opts.Set {
		if err := l.set(spec); err != nil {
			diags = append(diags, flagError("Invalid --set", fmt.Sprintf("--set %s: %s.", spec, err)))
		}
	}
	return diags
}

func (l *loader) set(spec string) error {
	path, value, ok := strings.Cut(spec, "=")
	if !ok {
		return fmt.Errorf("an override is NAME.ATTR=VALUE")
	}
	parts := strings.SplitN(path, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("an override is NAME.ATTR=VALUE")
	}
	images, err := l.setTargets(parts[0])
	if err != nil {
		return err
	}
	attr, key := parts[1], ""
	if len(parts) == 3 {
		key = parts[2]
	}
	if !slices.Contains(settable, attr) {
		return fmt.Errorf("%q cannot be set.%s Settable: %s", attr,
			didYouMean(attr, settable), strings.Join(settable, ", "))
	}
	for _, img := range images {
		if err := setAttr(img, attr, key, value, l.cfg.Dir); err != nil {
			return fmt.Errorf("image %s: %w", img.Name, err)
		}
	}
	return nil
}

func (l *loader) setTargets(name string) ([]*Image, error) {
	if name == "*" {
		return l.cfg.Images, nil
	}
	if img := l.cfg.Image(name); img != nil {
		return []*Image{img}, nil
	}
	names := make([]string, len(l.cfg.Images))
	for i, img := range l.cfg.Images {
		names[i] = img.Name
	}
	return nil, fmt.Errorf("no image named %q.%s", name, didYouMean(name, names))
}

func setAttr(img *Image, attr, key, value, dir string) error {
	isMap := attr == "args" || attr == "labels" || attr == "annotations"
	if isMap != (key != "") {
		if isMap {
			return fmt.Errorf("%s takes a key: %s.%s.KEY=VALUE", attr, img.Name, attr)
		}
		return fmt.Errorf("%s takes no key", attr)
	}
	switch attr {
	case "args":
		if strings.ContainsAny(key, "= \t\n") {
			return fmt.Errorf("%q cannot name a build argument: names hold no '=' or whitespace", key)
		}
		img.Args = setKey(img.Args, key, value)
	case "labels":
		img.Labels = setKey(img.Labels, key, value)
	case "annotations":
		img.Annotations = setKey(img.Annotations, key, value)
	case "target":
		img.Target = value
	case "network":
		if !slices.Contains([]string{"", "default", "none", "host"}, value) {
			return fmt.Errorf("network %q is not default, none or host", value)
		}
		img.Network = value
	case "no_cache", "pull":
		return setBool(img, attr, value)
	default:
		return setList(img, attr, value, dir)
	}
	return nil
}

func setKey(m map[string]string, key, value string) map[string]string {
	if m == nil {
		m = make(map[string]string)
	}
	m[key] = value
	return m
}

// setDockerfile points img at the Dockerfile spec names, resolved against
// its context as in forge.hcl.
func setDockerfile(img *Image, spec, dir string) error {
	img.dockerfileSpec = spec
	img.Dockerfile = resolvePath(img.Context, spec, "Dockerfile")
	if !fileExists(img.Dockerfile) {
		return fmt.Errorf("no Dockerfile at %s", img.Dockerfile)
	}
	if err := inside(img.Dockerfile, dir); err != nil {
		return fmt.Errorf("dockerfile: %w", err)
	}
	return nil
}

func setBool(img *Image, attr, value string) error {
	b, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("%s takes true or false, not %q", attr, value)
	}
	if attr == "no_cache" {
		img.NoCache = b
	} else {
		img.Pull = b
	}
	return nil
}

func setList(img *Image, attr, value, dir string) error {
	var values []string
	if value != "" {
		values = strings.Split(value, ",")
	}
	switch attr {
	case "context":
		img.Context = resolvePath(dir, value, ".")
		if !dirExists(img.Context) {
			return fmt.Errorf("context %s is not a directory", img.Context)
		}
		if err := inside(img.Context, dir); err != nil {
			return fmt.Errorf("context: %w", err)
		}
		if img.DockerfileInline == "" {
			return setDockerfile(img, img.dockerfileSpec, dir)
		}
	case "dockerfile":
		img.DockerfileInline = ""
		return setDockerfile(img, value, dir)
	case "tags":
		if len(values) == 0 {
			return fmt.Errorf("an image needs at least one tag")
		}
		for _, t := range values {
			if err := checkTag(t); err != nil {
				return fmt.Errorf("tag %q: %w", t, err)
			}
		}
		// The tags are no longer where forge.hcl writes its own.
		img.Tags, img.tagRanges = values, nil
	case "platforms":
		img.Platforms = nil
		for _, v := range values {
			p, err := platforms.Parse(v)
			if err != nil {
				return err
			}
			name := platforms.Format(platforms.Normalize(p))
			if slices.Contains(img.Platforms, name) {
				return fmt.Errorf("platform %q is listed twice", name)
			}
			img.Platforms = append(img.Platforms, name)
		}
	case "cache_from", "cache_to":
		return setCaches(img, attr, values)
	}
	return nil
}

// setCaches replaces cache_from or cache_to. Cache entries contain commas
// themselves, so the value is one entry.
func setCaches(img *Image, attr string, values []string) error {
	var caches []Cache
	if len(values) > 0 {
		c, err := ParseCache(strings.Join(values, ","))
		if err != nil {
			return err
		}
		caches = []Cache{c}
	}
	if attr == "cache_from" {
		img.CacheFrom = caches
	} else {
		img.CacheTo = caches
	}
	return nil
}
