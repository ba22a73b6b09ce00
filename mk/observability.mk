# Observability: the Grafana dashboard and the PrometheusRule in
# deploy/monitoring/, checked by promtool (built once by scripts/promtool.sh
# into ~/.cache/replicasd/bin/promtool-<version>/). See docs/observability.md.

LINT_TARGETS += lint-monitoring

# Where livecheck keeps the logs, audit events and /metrics scrape of its run.
LIVECHECK_DIR ?= bin/livecheck

.PHONY: lint-monitoring livecheck
lint-monitoring: build ## promtool check rules on deploy/monitoring, promtool check metrics on a live /metrics scrape
	@promtool=$$(scripts/promtool.sh); \
	  tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(GO) run ./scripts/monitoring/promrules deploy/monitoring/prometheus-rules.yaml > "$$tmp/rules.yaml"; \
	  echo "promtool check rules deploy/monitoring/prometheus-rules.yaml"; \
	  "$$promtool" check rules "$$tmp/rules.yaml"; \
	  $(GO) run ./scripts/monitoring/livecheck -replicasd $(BIN_DIR)/replicasd -out "$$tmp/live"; \
	  echo "promtool check metrics < (a live /metrics scrape)"; \
	  "$$promtool" check metrics < "$$tmp/live/metrics.txt"

livecheck: build ## run the server against a fake Kubernetes API, keep its logs, audit events and /metrics in bin/livecheck/
	$(GO) run ./scripts/monitoring/livecheck -replicasd $(BIN_DIR)/replicasd -out $(LIVECHECK_DIR)
