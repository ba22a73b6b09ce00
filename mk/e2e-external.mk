# e2e in external-server mode: the suite against a server installed the way
# the Helm chart installs it (scripts/e2e-external.sh). The GitHub kind job
# calls it with E2E_SERVER_URL (and E2E_OPS_URL, E2E_SECONDARY_URL,
# E2E_SECONDARY_OPS_URL, E2E_CERTS_DIR); without it, it runs the chart's
# Deployment as local processes on its own kwok cluster, then deletes the
# cluster unless KEEP_CLUSTER=1.

# The suite bursts 50 PUTs from one identity on purpose; the default
# per-identity write limit (10/s) is covered by unit and app tests. The kind
# job installs the chart with the same HELM_ARGS (.github/workflows/ci.yml).
E2E_HELM_ARGS ?= --set-json server.extraArgs=["--write-rate-limit=100000","--write-burst=100000"]

.PHONY: e2e-external
e2e-external: build ## e2e suite against the chart-installed server (E2E_SERVER_URL; else the chart run as local processes on kwok)
	E2E_HELM_ARGS='$(E2E_HELM_ARGS)' GINKGO_ARGS='$(GINKGO_ARGS)' GO='$(GO)' scripts/e2e-external.sh
