# replicactl, the CLI (src/cmd/replicactl): built like the server.

.PHONY: replicactl
replicactl: ## build bin/replicactl, the command-line client
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN_DIR)/replicactl ./src/cmd/replicactl
