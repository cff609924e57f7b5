# forge's build, test and demo entry points. Every tool is pinned here or in
# go.mod and built from source or installed by Debian package name.

GO           ?= go
BIN          := $(CURDIR)/bin
# buildkitd is built from the moby/buildkit module go.mod pins for the
# client library, so the daemon and the client are always the same version.
BUILDKITD    := $(BIN)/buildkitd
RUNC_VERSION := 1.1.5+ds1-1+deb12u1

export FORGE_BUILDKITD := $(BUILDKITD)

.PHONY: all build tools runc buildkitd test unit demo image lint clean

all: build

build:
	$(GO) build -o $(BIN)/forge ./cmd/forge

## tools: the local builder's pinned dependencies (runc, buildkitd)
tools: runc buildkitd

runc:
	@if [ "$$(dpkg-query -W -f='$${Version}' runc 2>/dev/null)" != "$(RUNC_VERSION)" ]; then \
		echo "installing runc $(RUNC_VERSION)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends runc=$(RUNC_VERSION); \
	fi

buildkitd: $(BUILDKITD)

$(BUILDKITD): go.mod go.sum
	$(GO) build -o $@ github.com/moby/buildkit/cmd/buildkitd

## test: every test, end-to-end tests against a real buildkitd included
test: tools
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## unit: the tests that need no daemon
unit:
	$(GO) test -count=1 ./pkg/...

## demo: build examples/hello (three services, one image) on the local builder
demo: tools build
	$(BIN)/forge builder start
	$(BIN)/forge build -f examples/hello/forge.hcl
	@echo
	@echo "runtime manifest (examples/hello/forge.manifest.json):"
	@cat examples/hello/forge.manifest.json

## image: forge builds its own container image from forge.hcl
image: tools build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/image/forge ./cmd/forge
	$(BIN)/forge build -f forge.hcl

lint:
	@test -z "$$(gofmt -l cmd pkg)" || { gofmt -l cmd pkg; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
