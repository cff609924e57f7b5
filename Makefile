# forge's build, test and demo entry points. Every tool is pinned here or in
# go.mod and built from source or installed by Debian package name.

GO           ?= go
BIN          := $(CURDIR)/bin
# buildkitd is built from the moby/buildkit module go.mod pins for the
# client library, so the daemon and the client are always the same version.
BUILDKITD    := $(BIN)/buildkitd
# The registry the end-to-end tests push to, built from the
# distribution/distribution module pinned in tools/go.mod.
REGISTRY     := $(BIN)/registry
# docker buildx, for the benchmark's bake comparison only.
BUILDX       := $(BIN)/buildx
# Debian packages, pinned: runc runs build steps; busybox-static gives the
# end-to-end tests a shell image without a registry; podman and
# podman-compose run what forge built.
RUNC_VERSION           := 1.1.5+ds1-1+deb12u1
BUSYBOX_VERSION        := 1:1.35.0-4+deb12u1+b1
PODMAN_VERSION         := 4.3.1+ds1-8+deb12u1+b3
PODMAN_COMPOSE_VERSION := 1.0.3-3
DEBOOTSTRAP_VERSION    := 1.0.128+nmu2+deb12u2
# Service-name DNS between compose containers on podman's CNI networks.
DNSNAME_VERSION        := 1.3.1+ds1-2+b6

export FORGE_BUILDKITD := $(BUILDKITD)
export FORGE_TEST_REGISTRY := $(REGISTRY)

.PHONY: all build tools debs buildkitd registry buildx test unit fuzz bench example-base demo image lint clean

all: build

build:
	$(GO) build -o $(BIN)/forge ./cmd/forge

## tools: the pinned dependencies of the local builder and the tests
tools: debs buildkitd registry

DEBS := runc=$(RUNC_VERSION) busybox-static=$(BUSYBOX_VERSION) \
	podman=$(PODMAN_VERSION) podman-compose=$(PODMAN_COMPOSE_VERSION) \
	debootstrap=$(DEBOOTSTRAP_VERSION) \
	golang-github-containernetworking-plugin-dnsname=$(DNSNAME_VERSION)

debs:
	@missing=""; for pkg in $(DEBS); do \
		name=$${pkg%%=*}; version=$${pkg#*=}; \
		[ "$$(dpkg-query -W -f='$${Version}' $$name 2>/dev/null)" = "$$version" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi

buildkitd: $(BUILDKITD)

$(BUILDKITD): go.mod go.sum
	$(GO) build -o $@ github.com/moby/buildkit/cmd/buildkitd

registry: $(REGISTRY)

$(REGISTRY): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $@ github.com/distribution/distribution/v3/cmd/registry

## test: every test, end-to-end tests against a real buildkitd included
test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) fuzz FUZZTIME=20s

## unit: the tests that need no daemon
unit:
	$(GO) test -count=1 ./pkg/...

## fuzz: fuzz parse and plan, and parsing in pieces against a whole parse
## (FUZZTIME=10m for a long run)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParsePlan -fuzztime $(FUZZTIME) ./pkg/plan/
	$(GO) test -run '^$$' -fuzz FuzzParsePieces -fuzztime $(FUZZTIME) ./pkg/plan/

## buildx: docker buildx, pinned in tools/buildx/go.mod, for the bake comparison
buildx: $(BUILDX)

$(BUILDX): tools/buildx/go.mod tools/buildx/go.sum
	cd tools/buildx && $(GO) build -o $@ github.com/docker/buildx/cmd/buildx

## bench: the Go benchmarks, then the table of forge against the alternatives
##        (RUNS=N runs per scenario; ONLY=REGEXP picks scenarios)
RUNS ?= 3
ONLY ?=
bench: tools build example-base buildx
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...
	$(GO) run ./bench -forge $(BIN)/forge -registry $(REGISTRY) -buildx $(BUILDX) -runs $(RUNS) -only "$(ONLY)" \
		-base $$(FORGE=$(BIN)/forge examples/django/base/make-base.sh)

## example-base: the offline stand-in for debian:bookworm-slim (cached)
example-base: tools build
	@FORGE=$(BIN)/forge examples/django/base/make-base.sh >/dev/null

## demo: build examples/django (three services on one image, plus Redis)
demo: example-base
	$(BIN)/forge builder start
	FORGE_VAR_base_layout=$$(FORGE=$(BIN)/forge examples/django/base/make-base.sh) \
		$(BIN)/forge build -f examples/django/forge.hcl
	@echo
	$(BIN)/forge manifest show -f examples/django/forge.hcl

## image: forge builds its own container image from forge.hcl
image: tools build
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/image/forge ./cmd/forge
	$(BIN)/forge build -f forge.hcl

lint:
	@test -z "$$(gofmt -l cmd pkg)" || { gofmt -l cmd pkg; exit 1; }
	$(GO) vet ./...

clean:
	rm -rf $(BIN)
