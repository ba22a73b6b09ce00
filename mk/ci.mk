# CI: the checks of the GitHub workflow itself (actionlint with shellcheck,
# the Go version it installs), shellcheck on the scripts, and govulncheck,
# which the workflow runs and which needs the network. See
# .github/workflows/ci.yml: each of its steps is a make target.

# Pinned, fetched through the Go module proxy.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0

LINT_TARGETS += lint-goversions lint-workflows lint-shell lint-tests-run

# Where each package with Go tests has them run: a test package anywhere
# else would run nowhere. Keep in step with the targets named.
TESTS_RUN_BY := src/:unit scripts/:unit integration/:integration e2e/:e2e bench/:lint-bench

.PHONY: lint-goversions lint-workflows lint-shell lint-tests-run vulncheck
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

lint-tests-run: ## every Go test package of the repository is run by a target of make test or make lint
	@bad=""; for dir in $$(git ls-files '*_test.go' | xargs -r -n1 dirname | sort -u); do \
	  ok=""; for rule in $(TESTS_RUN_BY); do \
	    case "$$dir/" in "$${rule%%:*}"*) ok=$${rule#*:};; esac; \
	  done; \
	  case "$$dir/" in scripts/tools/*) ok="";; esac; \
	  [ -n "$$ok" ] || bad="$$bad $$dir"; \
	done; \
	if [ -n "$$bad" ]; then echo "Go tests that no target of make test or make lint runs (add them to one, and to TESTS_RUN_BY in mk/ci.mk):"; printf "  %s\n" $$bad; exit 1; fi

vulncheck: ## govulncheck on the server and the benchmark tool (needs the online vulnerability database: network)
	$(GO) run $(GOVULNCHECK) ./...
	cd bench && $(GO) run $(GOVULNCHECK) ./...
