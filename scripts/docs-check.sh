#!/usr/bin/env bash
# docs-check.sh: `make docs-check`. Runs every command the docs show (the
# fenced blocks tagged docs-check in README.md, CONTRIBUTING.md and
# docs/*.md; scripts/docscheck has the convention) against a live server,
# started the way `make run` starts it: the local kwok cluster with the demo
# Deployments of fixtures/demo.yaml, development certificates in certs/,
# scripts/run.sh.
# Fails when a command exits otherwise than the docs show, or gets an HTTP
# status the docs do not show.
#
# It always uses the local kwok cluster (never the one KUBECONFIG points
# at): the docs' commands scale the demo Deployments. The server listens on
# the documented ports 8443 and 9090 when they are free, else on free ones,
# and the commands are rewritten to match.
#
# Environment: DOCS_CHECK_FILES (default: README.md CONTRIBUTING.md docs/*.md),
# DOCS_CHECK_TIMEOUT (per file, default 5m).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[docs-check] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v curl >/dev/null 2>&1 || die "the docs' commands need curl (apt-get install curl)"
[ -x bin/replicasd ] || die "bin/replicasd is missing: run 'make docs-check', which builds it"
unset REPLICACTL_SERVER REPLICACTL_CERT REPLICACTL_KEY REPLICACTL_CA REPLICACTL_CONFIG

# listening reports whether something accepts connections on a local port.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port prints $1 when it is free, else a free port.
free_port() {
  local port=$1
  while listening "$port"; do port=$((20000 + RANDOM % 20000)); done
  echo "$port"
}

log "the checker's own tests"
go test -count=1 ./scripts/docscheck/ >&2
go build -o bin/docscheck ./scripts/docscheck

log "starting the local kwok cluster"
KUBECONFIG=$(scripts/cluster.sh up | tail -n 1)
export KUBECONFIG
KUBECTL=$(scripts/build-controlplane.sh --path kubectl)
export KUBECTL

PORT=$(free_port 8443)
OPS_PORT=$(free_port 9090)
while [ "$OPS_PORT" = "$PORT" ]; do OPS_PORT=$(free_port $((20000 + RANDOM % 20000))); done
server_log=$(mktemp -t docs-check-server.XXXXXX)
log "starting the server as make run does (scripts/run.sh) on :$PORT and :$OPS_PORT; its log: $server_log"
REPLICASD_PORT=$PORT REPLICASD_OPS_PORT=$OPS_PORT scripts/run.sh >"$server_log" 2>&1 &
server_pid=$!
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

# shellcheck source=scripts/lib/wait.sh
source scripts/lib/wait.sh
wait_for 120 1 "$server_pid" "the server's /readyz" "$server_log" -- curl -sf "http://localhost:$OPS_PORT/readyz" ||
  die "the server did not become ready"

# shellcheck disable=SC2206 # word splitting of the file list is wanted
files=(${DOCS_CHECK_FILES:-README.md CONTRIBUTING.md docs/*.md})
failed=0
for f in "${files[@]}"; do
  # Each file starts from the demo Deployments as make run seeds them.
  "$KUBECTL" apply -f fixtures/demo.yaml >/dev/null
  log "$f"
  bin/docscheck -timeout "${DOCS_CHECK_TIMEOUT:-5m}" -port "8443=$PORT" -port "9090=$OPS_PORT" "$f" || failed=1
done
# Leave the demo as make run would find it.
"$KUBECTL" apply -f fixtures/demo.yaml >/dev/null
[ "$failed" = 0 ] || die "some commands in the docs do not do what the docs show (above)"
rm -f "$server_log"
log "every command in the docs did what the docs show"
