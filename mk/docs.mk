# The docs' commands are run, so the docs cannot drift: `make docs-check`
# starts the local cluster and a server as `make run` does and runs every
# command tagged docs-check in README.md and docs/*.md (scripts/docs-check.sh,
# scripts/docscheck). Not part of `make test`: it needs the whole stack.

.PHONY: docs-check
docs-check: build replicactl ## run every command the docs show against a live local server
	scripts/docs-check.sh
