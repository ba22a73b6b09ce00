# Deploying replicasd: the container image, release binaries, the Helm chart.
# Helm is built once from the Go module proxy (scripts/helm.sh, pinned in
# scripts/tools/helm/go.mod) into ~/.cache/replicasd/bin/helm-<version>/.

CHART        := deploy/helm/replicasd
DOCKER       ?= docker
# The image `make image` builds and `make deploy` installs.
IMAGE        ?= ghcr.io/replicasd/replicasd
IMAGE_TAG    ?= $(subst +,-,$(VERSION))
DIST_DIR     ?= dist
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64
RELEASE_CMDS := replicasd replicactl
# Where scripts/helm-render.sh writes the rendered variants.
HELM_RENDER_DIR ?= bin/helm-render

LINT_TARGETS += helm-lint lint-image-context

.PHONY: image
image: ## the container image $(IMAGE):$(IMAGE_TAG), where a Docker engine exists
	@if ! command -v $(DOCKER) >/dev/null 2>&1; then \
	  echo "make image: '$(DOCKER)' is not installed; build the image where a Docker engine runs (the GitHub workflow does)." >&2; exit 1; fi
	@if ! $(DOCKER) info >/dev/null 2>&1; then \
	  echo "make image: no Docker engine answers ('$(DOCKER) info' failed); build the image where one runs (the GitHub workflow does)." >&2; exit 1; fi
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE):$(IMAGE_TAG) .

# The Dockerfile copies only go.mod, go.sum, src/ and api/ (.dockerignore
# agrees): every package of this module the server imports must live there.
.PHONY: lint-image-context
lint-image-context:
	@outside=$$($(GO) list -deps -f '{{if .Module}}{{if eq .Module.Path "$(PKG)"}}{{.Dir}}{{end}}{{end}}' ./src/cmd/replicasd \
	  | sed "s|^$(CURDIR)/||" | grep -vE '^(src|api)(/|$$)' || true); \
	if [ -n "$$outside" ]; then \
	  echo "the server imports packages the image build does not copy (add them to Dockerfile and .dockerignore):"; \
	  echo "$$outside"; exit 1; fi

.PHONY: release
release: ## static binaries for $(RELEASE_PLATFORMS) in dist/, with SHA256SUMS
	rm -rf $(DIST_DIR)
	mkdir -p $(DIST_DIR)
	@for platform in $(RELEASE_PLATFORMS); do \
	  os=$${platform%/*}; arch=$${platform#*/}; \
	  for cmd in $(RELEASE_CMDS); do \
	    out=$(DIST_DIR)/$$cmd-$(VERSION)-$$os-$$arch; \
	    echo "building $$out"; \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$out ./src/cmd/$$cmd; \
	  done; \
	done
	cd $(DIST_DIR) && sha256sum -- * > SHA256SUMS
	@scripts/release-check.sh $(DIST_DIR) $(VERSION)

.PHONY: helm
helm: ## build the pinned Helm into the cache and print its path
	@scripts/helm.sh

.PHONY: helm-lint
helm-lint: ## helm lint + helm template of the chart, default values and every optional part
	scripts/helm-lint.sh

.PHONY: helm-render
helm-render: ## render every chart variant into $(HELM_RENDER_DIR)/ (for kubectl apply --dry-run=server)
	scripts/helm-render.sh $(HELM_RENDER_DIR)

.PHONY: helm-sync-rules
helm-sync-rules: ## copy deploy/monitoring/prometheus-rules.yaml into the chart
	cp deploy/monitoring/prometheus-rules.yaml $(CHART)/files/prometheus-rules.yaml

.PHONY: deploy
deploy: build ## install or upgrade the Helm chart into the cluster KUBECONFIG points at
	IMAGE=$(IMAGE) IMAGE_TAG=$(IMAGE_TAG) scripts/deploy.sh

.PHONY: undeploy
undeploy: ## uninstall the Helm release make deploy installed
	scripts/deploy.sh --uninstall
