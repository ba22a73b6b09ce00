# The side-by-side benchmark (docs/benchmarks.md): replicasd, kube-apiserver
# and a baseline net/http server, measured in the same run by scripts/bench.sh.
# The benchmark tool is its own Go module (bench/), so vegeta and gonum/plot
# stay out of the server's go.mod.

LINT_TARGETS += lint-bench

.PHONY: bench bench-quick bench-down bench-go lint-bench
bench: ## the side-by-side benchmark: writes bench/results.json, docs/benchmarks.png and the table in docs/benchmarks.md
	scripts/bench.sh full

bench-quick: ## a short 1k-Deployment benchmark (under 2 minutes once its cluster is up: KEEP_CLUSTER=1 keeps it), into bench/tmp/quick/
	scripts/bench.sh quick

bench-down: ## delete the benchmark's kwok cluster
	scripts/bench.sh down

bench-go: ## the go test benchmarks of the hot paths, with allocations
	$(GO) test -run '^$$' -bench . -benchmem ./src/app/ ./src/api/ ./src/deployments/

lint-bench: ## vet, static analysis and tests of the benchmark tool (its own module, which ./... at the root skips)
	cd bench && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./... && $(GO) test -count=1 ./...
