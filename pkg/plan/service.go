package plan

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Service is a service block: a long-running container of an image built
// from an image block.
type Service struct {
	Name string
	// Image is the name of the image block the service runs.
	Image string
	// Command and Entrypoint replace the image's defaults when not empty.
	Command    []string
	Entrypoint []string
	WorkingDir string
	User       string
	// Env is the runtime environment. It is never passed to a build.
	Env map[string]string
	// SecretEnv names environment variables the service needs at run time
	// whose values forge never sees or stores.
	SecretEnv []string
	// EnvFiles are absolute paths of env files read by the runtime.
	EnvFiles []string
	Ports    []string
	Volumes  []Volume
	// DependsOn names services that must start first.
	DependsOn []string

	DeclRange hcl.Range
	// attrs holds the attributes set in the block; volumeRanges the range
	// of each volume.
	attrs        hcl.Attributes
	volumeRanges []hcl.Range
}

// AttrRange returns the range of the named attribute's value, or the block
// header's range when the attribute was not set.
func (svc *Service) AttrRange(name string) hcl.Range {
	if attr, ok := svc.attrs[name]; ok {
		return attr.Expr.Range()
	}
	return svc.DeclRange
}

// VolumeRange returns the range of the i-th volume in forge.hcl.
func (svc *Service) VolumeRange(i int) hcl.Range {
	if i < len(svc.volumeRanges) {
		return svc.volumeRanges[i]
	}
	return svc.AttrRange("volumes")
}

// Task is a task block: a one-off command run from an image at a point of
// the runtime's life, such as migrations at each release.
type Task struct {
	Name      string
	Image     string
	Command   []string
	Env       map[string]string
	SecretEnv []string
	// Volumes are mounted as for a service: a task that writes where a
	// service reads (collected static files, a database) shares its volume.
	Volumes []Volume
	// When is "release" (once per deployed release, before services
	// start; the default), "start" (before every start) or "manual".
	When string

	DeclRange hcl.Range
}

// Volume is a mount of a service.
type Volume struct {
	// Source is an absolute host path for a bind mount, or a volume name.
	Source   string
	Target   string
	Bind     bool
	ReadOnly bool
	// SELinux is "z" (shared label), "Z" (private label) or "".
	SELinux string
}

// String returns the volume in compose's SOURCE:TARGET[:OPTIONS] form.
func (v Volume) String() string {
	s := v.Source + ":" + v.Target
	var opts []string
	if v.ReadOnly {
		opts = append(opts, "ro")
	}
	if v.SELinux != "" {
		opts = append(opts, v.SELinux)
	}
	if len(opts) > 0 {
		s += ":" + strings.Join(opts, ",")
	}
	return s
}

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image", Required: true},
		{Name: "command"},
		{Name: "entrypoint"},
		{Name: "working_dir"},
		{Name: "user"},
		{Name: "env"},
		{Name: "secret_env"},
		{Name: "env_file"},
		{Name: "ports"},
		{Name: "volumes"},
		{Name: "depends_on"},
	},
}

var taskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image", Required: true},
		{Name: "command", Required: true},
		{Name: "env"},
		{Name: "secret_env"},
		{Name: "volumes"},
		{Name: "when"},
	},
}

// runDecoder decodes the attributes services and tasks share.
type runDecoder struct {
	attrs hcl.Attributes
	ctx   *hcl.EvalContext
	dir   string
	diags hcl.Diagnostics
}

func (d *runDecoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

func (d *runDecoder) string(name string) string {
	s, diags := decodeString(d.attrs[name], d.ctx)
	d.add(diags)
	return s
}

func (d *runDecoder) list(name string) []string {
	l, diags := decodeStringList(d.attrs[name], d.ctx)
	d.add(diags)
	return l
}

func (d *runDecoder) image() string {
	name, diags := decodeRef(d.attrs["image"], imageRefType, d.ctx)
	d.add(diags)
	return name
}

func (d *runDecoder) env() (map[string]string, []string) {
	env, diags := decodeStringMap(d.attrs["env"], d.ctx)
	d.add(diags)
	secret := d.list("secret_env")
	for _, name := range sortedKeys(env) {
		if !envName.MatchString(name) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid environment variable name",
				Detail: fmt.Sprintf("%q is not a variable name: letters, digits and underscores, "+
					"not starting with a digit.", name),
				Subject: mapKeyRange(d.attrs["env"], name),
			}})
		}
		if slices.Contains(secret, name) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Secret environment variable given a value",
				Detail:   fmt.Sprintf("%q is listed in secret_env, so its value must come from the runtime, not from env.", name),
				Subject:  mapKeyRange(d.attrs["env"], name),
			}})
		} else if LooksSecret(name) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagWarning,
				Summary:  "Environment variable looks like a secret",
				Detail: fmt.Sprintf("The value of %q is written in forge.hcl and in the manifest. "+
					"List it in secret_env instead, so that only its name is recorded.", name),
				Subject: mapKeyRange(d.attrs["env"], name),
			}})
		}
	}
	for i, name := range secret {
		if !envName.MatchString(name) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid environment variable name",
				Detail:   fmt.Sprintf("%q is not a variable name.", name),
				Subject:  elemRange(d.attrs["secret_env"], i),
			}})
		}
	}
	return env, secret
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func decodeService(block *hcl.Block, dir string, ctx *hcl.EvalContext) (*Service, hcl.Diagnostics) {
	content, diags := block.Body.Content(serviceSchema)
	d := &runDecoder{attrs: content.Attributes, ctx: ctx, dir: dir, diags: diags}
	svc := &Service{Name: block.Labels[0], DeclRange: block.DefRange, attrs: content.Attributes}
	svc.Image = d.image()
	svc.Command = d.list("command")
	svc.Entrypoint = d.list("entrypoint")
	svc.WorkingDir = d.string("working_dir")
	svc.User = d.string("user")
	svc.Env, svc.SecretEnv = d.env()
	svc.EnvFiles = d.envFiles()
	svc.Ports = d.ports()
	svc.Volumes = d.volumes()
	for i := range svc.Volumes {
		svc.volumeRanges = append(svc.volumeRanges, *elemRange(d.attrs["volumes"], i))
	}
	deps, diags := decodeRefList(d.attrs["depends_on"], serviceRefType, ctx)
	d.add(diags)
	svc.DependsOn = deps
	return svc, d.diags
}

func decodeTask(block *hcl.Block, dir string, ctx *hcl.EvalContext) (*Task, hcl.Diagnostics) {
	content, diags := block.Body.Content(taskSchema)
	d := &runDecoder{attrs: content.Attributes, ctx: ctx, dir: dir, diags: diags}
	task := &Task{Name: block.Labels[0], DeclRange: block.DefRange}
	task.Image = d.image()
	task.Command = d.list("command")
	task.Env, task.SecretEnv = d.env()
	task.Volumes = d.volumes()
	task.When = d.string("when")
	switch task.When {
	case "":
		task.When = "release"
	case "release", "start", "manual":
	default:
		d.add(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid task schedule",
			Detail:   fmt.Sprintf("when = %q: a task runs at \"release\", \"start\" or \"manual\".", task.When),
			Subject:  d.attrs["when"].Expr.Range().Ptr(),
		}})
	}
	return task, d.diags
}

func (d *runDecoder) envFiles() []string {
	var out []string
	for i, p := range d.list("env_file") {
		path := resolvePath(d.dir, p, "")
		if !fileExists(path) {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Missing env file",
				Detail:   fmt.Sprintf("No file at %s. Relative paths resolve against the directory holding forge.hcl.", path),
				Subject:  elemRange(d.attrs["env_file"], i),
			}})
			continue
		}
		out = append(out, path)
	}
	return out
}

// portSpec matches compose's short port syntax:
// [[IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL], ports possibly ranges.
var portSpec = regexp.MustCompile(`^(?:(?:(\[[0-9a-fA-F:]+\]|[0-9.]+):)?(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:/(tcp|udp|sctp))?$`)

func (d *runDecoder) ports() []string {
	ports := d.list("ports")
	for i, p := range ports {
		m := portSpec.FindStringSubmatch(p)
		if m != nil && validIP(m[1]) && validPorts(m[2]) && validPorts(m[3]) {
			continue
		}
		d.add(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid port",
			Detail:   fmt.Sprintf("%q is not [[IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL], as in \"127.0.0.1:8000:8000\".", p),
			Subject:  elemRange(d.attrs["ports"], i),
		}})
	}
	return ports
}

// validIP reports whether the IP of a port spec, if any, is an IPv4
// address or a bracketed IPv6 one.
func validIP(ip string) bool {
	if ip == "" {
		return true
	}
	if v6, ok := strings.CutPrefix(ip, "["); ok {
		addr, err := netip.ParseAddr(strings.TrimSuffix(v6, "]"))
		return err == nil && addr.Is6()
	}
	addr, err := netip.ParseAddr(ip)
	return err == nil && addr.Is4()
}

func validPorts(spec string) bool {
	if spec == "" {
		return true
	}
	for _, p := range strings.Split(spec, "-") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

var volumeType = cty.ObjectWithOptionalAttrs(map[string]cty.Type{
	"source":    cty.String,
	"target":    cty.String,
	"read_only": cty.Bool,
	"selinux":   cty.String,
}, []string{"read_only", "selinux"})

// volumes decodes compose-style strings ("./data:/data:ro,z") and objects
// ({ source = "./data", target = "/data", selinux = "shared" }).
func (d *runDecoder) volumes() []Volume {
	attr := d.attrs["volumes"]
	if attr == nil {
		return nil
	}
	val, diags := eval(attr.Expr, d.ctx)
	d.add(diags)
	if diags.HasErrors() || !val.IsWhollyKnown() || val.IsNull() {
		return nil
	}
	if ty := val.Type(); !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		d.add(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail: "volumes takes a list of \"SOURCE:TARGET[:OPTIONS]\" strings and " +
				"{ source, target } objects, as in [\"./data:/data:z\"].",
			Subject: attr.Expr.Range().Ptr(),
		}})
		return nil
	}
	var out []Volume
	for i, v := range val.AsValueSlice() {
		if v.IsNull() {
			d.add(hcl.Diagnostics{nullElementAt(attr, i)})
			continue
		}
		vol, err := d.volume(v)
		if err != nil {
			d.add(hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid volume",
				Detail:   err.Error(),
				Subject:  elemRange(attr, i),
			}})
			continue
		}
		out = append(out, vol)
	}
	return out
}

func (d *runDecoder) volume(v cty.Value) (Volume, error) {
	if v.Type() == cty.String {
		return d.volumeString(v.AsString())
	}
	obj, err := convertValue(v, volumeType)
	if err != nil {
		return Volume{}, fmt.Errorf("a volume is \"SOURCE:TARGET[:OPTIONS]\" or an object with source and target: %w", err)
	}
	vol := Volume{Source: ctyString(obj.GetAttr("source")), Target: ctyString(obj.GetAttr("target"))}
	if ro := obj.GetAttr("read_only"); !ro.IsNull() {
		vol.ReadOnly = ro.True()
	}
	switch label := ctyString(obj.GetAttr("selinux")); label {
	case "":
	case "shared", "z":
		vol.SELinux = "z"
	case "private", "Z":
		vol.SELinux = "Z"
	default:
		return Volume{}, fmt.Errorf("selinux = %q: use \"shared\" (:z) or \"private\" (:Z)", label)
	}
	return d.finishVolume(vol)
}

func (d *runDecoder) volumeString(s string) (Volume, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Volume{}, fmt.Errorf("%q is not SOURCE:TARGET[:OPTIONS]", s)
	}
	vol := Volume{Source: parts[0], Target: parts[1]}
	if len(parts) == 3 {
		for _, opt := range strings.Split(parts[2], ",") {
			switch opt {
			case "ro":
				vol.ReadOnly = true
			case "rw":
			case "z", "Z":
				vol.SELinux = opt
			default:
				return Volume{}, fmt.Errorf("%q: unknown option %q (ro, rw, z or Z)", s, opt)
			}
		}
	}
	return d.finishVolume(vol)
}

// finishVolume checks the paths and makes a bind mount's source absolute.
func (d *runDecoder) finishVolume(vol Volume) (Volume, error) {
	if vol.Source == "" || !strings.HasPrefix(vol.Target, "/") {
		return Volume{}, fmt.Errorf("a volume needs a source and an absolute target path, not %q", vol.String())
	}
	if strings.HasPrefix(vol.Source, ".") || strings.HasPrefix(vol.Source, "/") || strings.HasPrefix(vol.Source, "~") {
		vol.Bind = true
		vol.Source = resolvePath(d.dir, expandHome(vol.Source), "")
	} else if !volumeName.MatchString(vol.Source) {
		return Volume{}, fmt.Errorf("%q is neither a path (starting with ., / or ~) nor a volume name", vol.Source)
	}
	return vol, nil
}

var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
