# Security: gosec in `make lint`, fuzzing, and the TLS scan. See
# docs/security.md.

# Pinned, fetched through the Go module proxy.
GOSEC := github.com/securego/gosec/v2/cmd/gosec@v2.30.0
# How long `make fuzz` explores each fuzz target.
FUZZTIME ?= 30s

LINT_TARGETS += lint-gosec

# Each finding gosec reports is either fixed or suppressed where it occurs
# with `#nosec <rule> -- <why>`. bench/ is left out: it is its own Go module
# (go vet and staticcheck do not enter it either), a developer tool that
# starts processes and reads the files its operator names, never shipped.
.PHONY: lint-gosec
lint-gosec:
	$(GO) run $(GOSEC) -quiet -exclude-dir=bench ./...

# Every func Fuzz* in src/, each for FUZZTIME; `make unit` already runs their
# seed corpora (testdata/fuzz/<target>). A failing input is saved there.
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 30s) each
	@for file in $$(grep -rl --include='*_test.go' '^func Fuzz' src); do \
	  pkg=./$$(dirname "$$file"); \
	  for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
	    echo ">> $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	  done; \
	done

.PHONY: tls-scan
tls-scan: build ## start a server and scan it with testssl.sh; fails on findings
	scripts/tls-scan.sh

.PHONY: mtls-demo
mtls-demo: build ## curl and openssl against each refused client certificate, with what the server logged (no cluster needed)
	scripts/mtls-demo.sh
