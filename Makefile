# tether — see README.md. Everything here works on a fresh machine with Go 1.26 and git.
SHELL := /bin/bash
GO ?= go
CLUSTER_DIR ?= .cache/cluster
LOCALCLUSTER := $(GO) run ./e2e/cluster/cmd/localcluster
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
IMAGE ?= localhost/tether:dev
# The chart's tests: a module of their own, so helm's SDK stays out of go.mod.
CHART_TEST := charts/tether/test

.PHONY: all build image test test-chart unit e2e faults vet cluster-build cluster-up cluster-down demo bench clean

all: build

## build: the tether binary in bin/
# Static (CGO_ENABLED=0): kustomize imports Go's plugin package, and with cgo the
# linker then keeps every function and exports its symbols, which doubles the
# memory the binary's own pages take (about 60 MiB resident instead of 28).
build:
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)" -o bin/tether ./cmd/tether

## image: the container image ($(IMAGE)) from the Dockerfile, built offline with podman
# from local stand-ins of its base images; installs podman, buildah and runc when missing.
image:
	VERSION=$(VERSION) ./e2e/image/build.sh $(IMAGE)

## test: vet, unit tests, end-to-end tests against the local control plane, and the
## chart's tests (which run the image, so the image is built first)
# reconcile and e2e packages each start their own control plane; -p 1 runs the
# packages one at a time so two clusters never compete for this machine's two cores.
test: vet cluster-build image
	$(GO) test -count=1 -p 1 -timeout 30m ./...
	cd $(CHART_TEST) && TETHER_IMAGE=$(IMAGE) $(GO) test -count=1 -p 1 -timeout 20m ./...

## test-chart: the chart's tests only: renders, schema, install, least privilege, the image
test-chart: cluster-build image
	cd $(CHART_TEST) && TETHER_IMAGE=$(IMAGE) $(GO) test -count=1 -p 1 -timeout 20m ./...

vet:
	@unformatted=$$(gofmt -l cmd source render reconcile e2e $(CHART_TEST)); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags faults ./e2e/faults/
	cd $(CHART_TEST) && $(GO) vet ./...

## unit: the tests that need no cluster
unit:
	$(GO) test -count=1 ./cmd/... ./source/... ./render/... ./reconcile/notify/... ./e2e/slackrecv/...
	cd $(CHART_TEST) && $(GO) test -count=1 -skip TestInCluster ./...

## e2e: black-box tests of the built binary (and the cluster package itself)
e2e: cluster-build
	$(GO) test -count=1 -p 1 -timeout 30m ./e2e/...

## faults: the fault suite (docs/RELIABILITY.md), about 20 minutes, so not part of make test;
## it prints the table of its results and writes it to .cache/faults-table.md
# FAULTS_ARGS shortens it for a quick run, e.g. FAULTS_ARGS="-git-outage 1m -slack-outage 1m";
# FAULTS_RUN picks cases, e.g. FAULTS_RUN=TestEtcdStopped.
faults: cluster-build
	@mkdir -p .cache
	$(GO) test -tags faults -count=1 -p 1 -timeout 60m -v -run '$(or $(FAULTS_RUN),.)' ./e2e/faults/ \
	  -args -table $(CURDIR)/.cache/faults-table.md $(FAULTS_ARGS)

## cluster-build: build (or reuse) etcd, kube-apiserver, controller-manager, scheduler, kubectl, kwok
cluster-build:
	@$(LOCALCLUSTER) build >/dev/null

## cluster-up / cluster-down: a local control plane that outlives the command
cluster-up: cluster-build
	$(LOCALCLUSTER) up --dir $(CLUSTER_DIR)
	@echo "export KUBECONFIG=$(CURDIR)/$(CLUSTER_DIR)/kubeconfig"

cluster-down:
	$(LOCALCLUSTER) down --dir $(CLUSTER_DIR)

## demo: apply the example models, drift them out of band, watch tether revert it
demo: build cluster-build
	./examples/demo.sh

## bench: reconcile figures for docs/BENCHMARKS.md (MODELS=1000 STEADY=5m for the full run, FLUX=1 for Flux side by side)
bench: cluster-build
	$(GO) run ./e2e/bench -models $(or $(MODELS),100) -steady $(or $(STEADY),1m) $(if $(FLUX),-flux) $(BENCH_ARGS)

clean:
	rm -rf bin .cache
