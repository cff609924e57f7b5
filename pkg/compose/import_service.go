package compose

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/forge-build/forge/pkg/plan"
)

// convertedServiceKeys are the service keys serviceBlock carries over or
// reports with its own message.
var convertedServiceKeys = setOf("name", "image", "build", "command", "entrypoint", "working_dir",
	"user", "environment", "env_file", "ports", "volumes", "depends_on", "extends", "profiles")

func (im *importer) serviceBlock(svc types.ServiceConfig) block {
	b := block{kind: "service", name: im.blocks[svc.Name]}
	b.add("image", traversalTokens("image", im.runs[svc.Name].name))
	b.add("command", im.command(svc.Name, "command", svc.Command))
	b.add("entrypoint", im.command(svc.Name, "entrypoint", svc.Entrypoint))
	b.addString("working_dir", im.literal(svc.Name, "working_dir", svc.WorkingDir))
	b.addString("user", im.literal(svc.Name, "user", svc.User))
	env, secret := im.environment(svc)
	b.add("env", env)
	b.add("secret_env", secret)
	b.add("env_file", im.envFiles(svc))
	b.add("ports", im.ports(svc))
	b.add("volumes", im.volumes(svc))
	b.add("depends_on", im.dependsOn(svc))
	if len(svc.Profiles) > 0 {
		im.report(svc.Name, "profiles", "only in profile(s) %s; forge has no profiles: "+
			"the service is always built and run", strings.Join(svc.Profiles, ", "))
	}
	im.reportUnconverted(svc.Name, "", reflect.ValueOf(svc), convertedServiceKeys)
	return b
}

func (im *importer) command(service, key string, cmd types.ShellCommand) hclwrite.Tokens {
	if cmd != nil && len(cmd) == 0 {
		im.report(service, key, "compose clears the image's %s; forge cannot: "+
			"the image's own applies", key)
	}
	return stringList(im.literals(service, key, cmd))
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// environment splits the service's environment into env, the variables with
// a value, and secret_env, those compose passes through from the host.
func (im *importer) environment(svc types.ServiceConfig) (env, secret hclwrite.Tokens) {
	var entries []objectEntry
	var names []string
	for _, name := range slices.Sorted(maps.Keys(svc.Environment)) {
		key, value := "environment."+name, svc.Environment[name]
		switch {
		case !envName.MatchString(name):
			im.report(svc.Name, key, "is not a variable name forge accepts "+
				"(letters, digits and underscores): left out")
		case value == nil:
			names = append(names, name)
			if !plan.LooksSecret(name) {
				im.report(svc.Name, key, "has no value: compose passes it through from the shell "+
					"environment; written in secret_env, so the runtime must supply it")
			}
		default:
			if plan.LooksSecret(name) {
				im.report(svc.Name, key, "looks like a secret but has a value, which forge writes "+
					"into forge.hcl and the manifest: move it to secret_env")
			}
			tokens := stringTokens(im.literal(svc.Name, key, *value))
			entries = append(entries, objectEntry{key: name, value: tokens})
		}
	}
	return objectTokens(entries, false), stringList(names)
}

func (im *importer) envFiles(svc types.ServiceConfig) hclwrite.Tokens {
	var paths []string
	for _, f := range svc.EnvFiles {
		path := im.path(f.Path, false)
		if f.Format != "" {
			im.report(svc.Name, "env_file", "%s: format %s is not carried over", path, f.Format)
		}
		info, err := os.Stat(f.Path)
		exists, required := err == nil && info.Mode().IsRegular(), bool(f.Required)
		switch {
		case !exists && !required:
			im.report(svc.Name, "env_file", "%s is optional and missing; forge requires its "+
				"env files to exist: left out", path)
			continue
		case !exists:
			im.report(svc.Name, "env_file", "%s is missing; forge requires its env files "+
				"to exist: left out", path)
			continue
		case !required:
			im.report(svc.Name, "env_file", "%s is optional in compose; forge requires it", path)
		}
		paths = append(paths, path)
	}
	return stringList(paths)
}

// ports writes ports in compose's short syntax.
func (im *importer) ports(svc types.ServiceConfig) hclwrite.Tokens {
	var specs []string
	for _, p := range svc.Ports {
		spec := portSpec(p)
		if p.Name != "" || p.AppProtocol != "" || p.Mode == "host" {
			im.report(svc.Name, "ports", "%s: name, app_protocol and mode are not carried over", spec)
		}
		specs = append(specs, spec)
	}
	return stringList(specs)
}

func portSpec(p types.ServicePortConfig) string {
	spec := strconv.FormatUint(uint64(p.Target), 10)
	if p.Protocol != "" && p.Protocol != "tcp" {
		spec += "/" + p.Protocol
	}
	ip := p.HostIP
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	switch {
	case ip != "":
		return ip + ":" + p.Published + ":" + spec
	case p.Published != "":
		return p.Published + ":" + spec
	}
	return spec
}

var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (im *importer) volumes(svc types.ServiceConfig) hclwrite.Tokens {
	var specs []string
	for _, v := range svc.Volumes {
		if spec, ok := im.volume(svc.Name, v); ok {
			specs = append(specs, spec)
		}
	}
	return stringList(specs)
}

// volume writes a bind mount or a named volume as SOURCE:TARGET[:OPTIONS].
func (im *importer) volume(service string, v types.ServiceVolumeConfig) (string, bool) {
	source := v.Source
	switch {
	case v.Type == types.VolumeTypeBind:
		source = im.path(v.Source, true)
		if source == "" || !strings.ContainsAny(source[:1], "./~") {
			source = "./" + source
		}
	case v.Type != types.VolumeTypeVolume:
		im.report(service, "volumes", "%s: %s mounts are not carried over", v.Target, v.Type)
		return "", false
	case v.Source == "":
		im.report(service, "volumes", "%s: anonymous volumes are not carried over: name it", v.Target)
		return "", false
	case !volumeName.MatchString(v.Source):
		im.report(service, "volumes", "%s: %q is not a volume name forge accepts: left out",
			v.Target, v.Source)
		return "", false
	}
	im.reportVolumeOptions(service, v)
	var opts []string
	if v.ReadOnly {
		opts = append(opts, "ro")
	}
	if v.Bind != nil && v.Bind.SELinux != "" {
		opts = append(opts, v.Bind.SELinux)
	}
	spec := source + ":" + v.Target
	if len(opts) > 0 {
		spec += ":" + strings.Join(opts, ",")
	}
	return spec, true
}

func (im *importer) reportVolumeOptions(service string, v types.ServiceVolumeConfig) {
	var keys []string
	if v.Consistency != "" {
		keys = append(keys, "consistency")
	}
	if v.Bind != nil {
		converted := setOf("selinux", "create_host_path")
		keys = append(keys, unconvertedKeys(reflect.ValueOf(*v.Bind), converted)...)
	}
	if v.Volume != nil {
		keys = append(keys, unconvertedKeys(reflect.ValueOf(*v.Volume), nil)...)
	}
	if len(keys) > 0 {
		im.report(service, "volumes", "%s: %s not carried over", v.Target, strings.Join(keys, ", "))
	}
}

func (im *importer) dependsOn(svc types.ServiceConfig) hclwrite.Tokens {
	var refs []hclwrite.Tokens
	for _, name := range slices.Sorted(maps.Keys(svc.DependsOn)) {
		dep, key := svc.DependsOn[name], "depends_on."+name
		if im.blocks[name] == "" {
			im.report(svc.Name, key, "%s is not imported: left out", name)
			continue
		}
		if dep.Condition != "" && dep.Condition != types.ServiceConditionStarted {
			im.report(svc.Name, key, "condition %s is not carried over: forge only starts %s first",
				dep.Condition, name)
		}
		if !dep.Required {
			im.report(svc.Name, key, "required: false is not carried over: forge always starts %s "+
				"first", name)
		}
		if dep.Restart {
			im.report(svc.Name, key, "restart: true is not carried over: forge does not restart %s "+
				"when %s restarts", svc.Name, name)
		}
		refs = append(refs, traversalTokens("service", im.blocks[name]))
	}
	if len(refs) == 0 {
		return nil
	}
	return hclwrite.TokensForTuple(refs)
}
