// Package genconfig generates large forge.hcl files for benchmarks and
// tests, so that every measurement of planning reads the same shape of
// configuration.
package genconfig

import (
	"fmt"
	"strings"
)

// Services returns a forge.hcl that declares one variable, images image
// blocks and services service blocks. Service i runs image i%images, and
// every tenth image declares the same inputs as the one before it, so a
// plan merges them into images - images/10 build nodes. The images build
// from a Dockerfile next to the file.
func Services(images, services int) string {
	var b strings.Builder
	b.WriteString("variable \"release\" {\n  default = \"1.0\"\n}\n")
	for i := range images {
		release := i
		if i%10 == 9 {
			release = i - 1
		}
		fmt.Fprintf(&b, "image \"img%d\" {\n  args = { RELEASE = \"%d\", VERSION = var.release }\n"+
			"  tags = [\"registry.example.com/team/img%d:${var.release}\"]\n}\n", i, release, i)
	}
	for i := range services {
		fmt.Fprintf(&b, "service \"svc%d\" {\n  image   = image.img%d\n  command = [\"run\", \"%d\"]\n"+
			"  env     = { INDEX = \"%d\", DEBUG = \"false\" }\n}\n", i, i%images, i, i)
	}
	return b.String()
}
