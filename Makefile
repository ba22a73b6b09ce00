# replicasd — see README.md. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN_DIR   := bin
CERTS_DIR ?= certs
PKG       := github.com/replicasd/replicasd
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X $(PKG)/src/version.Version=$(VERSION) -X $(PKG)/src/version.Revision=$(REVISION)
# Pinned tool versions, fetched through the Go module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Each area adds its own targets in mk/*.mk, and its checks to LINT_TARGETS
# (run by `make lint`).
LINT_TARGETS := lint-go
-include mk/*.mk

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/replicasd
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN_DIR)/replicasd ./src/cmd/replicasd

.PHONY: unit
unit: ## unit tests (src/, and the tests of the scripts' Go tools), with the race detector
	$(GO) test -race -count=1 ./src/... ./scripts/...

.PHONY: test
test: unit integration e2e e2e-external ## every suite: unit, integration, e2e (local cluster), e2e-external (chart-installed server)

.PHONY: controlplane
controlplane: ## build kube-apiserver, etcd, kwok... from Go modules into ~/.cache/replicasd (once)
	scripts/build-controlplane.sh >/dev/null

.PHONY: integration
# scripts/cleanup.sh, before and after: envtest's etcd and kube-apiserver
# that a suite killed by its timeout left running are stopped (by pid).
integration: ## envtest suite: real etcd + kube-apiserver, server in-process
	@scripts/cleanup.sh envtest
	@assets="$$(scripts/build-controlplane.sh --envtest-dir)"; rc=0; \
	  KUBEBUILDER_ASSETS="$$assets" $(GO) test -count=1 -timeout 20m ./integration/... $(GINKGO_ARGS) || rc=$$?; \
	  scripts/cleanup.sh envtest; exit $$rc

# e2e: the local kwok cluster, its own cluster E2E_CLUSTER_NAME, made afresh
# (a cluster a killed run left behind carries its state) and deleted
# afterwards, unless KEEP_CLUSTER=1 (then it is reused and stays up). Servers
# a killed suite left running are stopped (scripts/cleanup.sh, by pid: this
# checkout's bin/replicasd, orphaned, with its files in a Ginkgo temp dir
# /tmp/ginkgo*). The suite against a server installed elsewhere (kind, the
# GitHub workflow) is `make e2e-external`.
E2E_CLUSTER_NAME ?= replicasd-e2e
KEEP_CLUSTER ?=
.PHONY: e2e
e2e: build ## e2e suite against the local kwok cluster (deleted afterwards unless KEEP_CLUSTER=1)
	@export KWOK_CLUSTER_NAME=$(E2E_CLUSTER_NAME); \
	  stale() { scripts/cleanup.sh servers $(CURDIR)/$(BIN_DIR)/replicasd /ginkgo; }; \
	  stale; [ "$(KEEP_CLUSTER)" = 1 ] || scripts/cluster.sh down; \
	  trap 'rc=$$?; stale; if [ "$(KEEP_CLUSTER)" = 1 ]; then echo "KEEP_CLUSTER=1: cluster $(E2E_CLUSTER_NAME) stays up (make cluster-down KWOK_CLUSTER_NAME=$(E2E_CLUSTER_NAME))"; else scripts/cluster.sh down || rc=1; fi; exit $$rc' EXIT; \
	  trap 'exit 130' INT TERM; \
	  kubeconfig=$$(scripts/cluster.sh up | tail -n 1); \
	  KUBECONFIG=$$kubeconfig KUBECTL=$$(scripts/build-controlplane.sh --path kubectl) \
	    REPLICASD_BIN=$(CURDIR)/$(BIN_DIR)/replicasd \
	    $(GO) test -count=1 -timeout 30m ./e2e/... $(GINKGO_ARGS)

.PHONY: cluster-up cluster-down
cluster-up: ## start the local kwok cluster (prints its kubeconfig path)
	scripts/cluster.sh up
cluster-down: ## remove the local kwok cluster
	scripts/cluster.sh down

.PHONY: lint lint-go
lint: $(LINT_TARGETS) ## formatting, vet, static analysis, and every area's checks

lint-go:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

.PHONY: certs
certs: build ## development certificates under certs/
	$(BIN_DIR)/replicasd certs --out $(CERTS_DIR) --force --client admin:sre --client viewer:viewers

.PHONY: run
run: build ## build, make certificates and run the server against KUBECONFIG
	scripts/run.sh

.PHONY: clean
clean: ## remove build outputs
	rm -rf $(BIN_DIR)
