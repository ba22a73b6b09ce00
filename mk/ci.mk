# CI: the checks of the GitHub workflow itself (actionlint with shellcheck,
# the Go version it installs), shellcheck on the scripts, and govulncheck,
# which the workflow runs and which needs the network. See
# .github/workflows/ci.yml: each of its steps is a make target.

# Pinned, fetched through the Go module proxy.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0

LINT_TARGETS += lint-goversions lint-workflows lint-shell

.PHONY: lint-goversions lint-workflows lint-shell vulncheck
lint-goversions: ## no go.mod in the repository needs a newer Go than the workflow installs (.go-version)
	$(GO) run ./scripts/goversions .

lint-workflows: ## actionlint, with shellcheck on every run: script, on .github/workflows
	scripts/actionlint.sh

# Every shell script of the repository (each sources its libraries, which -x
# follows). Debian's shellcheck, installed by scripts/lib/shellcheck.sh.
lint-shell: ## shellcheck on scripts/*.sh, scripts/lib and .ci/run
	@sc=$$(source scripts/lib/shellcheck.sh && ensure_shellcheck); \
	  echo "shellcheck scripts/*.sh scripts/lib/*.sh .ci/run"; \
	  "$$sc" -x scripts/*.sh scripts/lib/*.sh .ci/run

vulncheck: ## govulncheck on the server and the benchmark tool (needs the online vulnerability database: network)
	$(GO) run $(GOVULNCHECK) ./...
	cd bench && $(GO) run $(GOVULNCHECK) ./...
