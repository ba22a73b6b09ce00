#!/usr/bin/env bash
# `make run`: a working replicasd in one command. Uses the cluster KUBECONFIG
# points at, or starts the local kwok cluster (built from Go modules) and
# seeds demo Deployments. Makes dev certificates, prints curl commands that
# work as printed, and runs the server in the foreground (Ctrl-C stops it;
# `make cluster-down` removes the local cluster).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/replicasd
CERTS=${CERTS_DIR:-certs}
PORT=${REPLICASD_PORT:-8443}
OPS_PORT=${REPLICASD_OPS_PORT:-9090}
KUBECTL=${KUBECTL:-}

if [ -n "${KUBECONFIG:-}" ]; then
  echo ">> using the cluster in KUBECONFIG=$KUBECONFIG" >&2
  [ -n "$KUBECTL" ] || KUBECTL=$(command -v kubectl || true)
else
  echo ">> KUBECONFIG is not set: starting the local kwok cluster (first time: builds the control plane, ~6 min)" >&2
  KUBECONFIG=$(scripts/cluster.sh up | tail -n 1)
  export KUBECONFIG
  [ -n "$KUBECTL" ] || KUBECTL=$(scripts/build-controlplane.sh --path kubectl)
  echo ">> seeding demo Deployments (namespaces demo-a, demo-b, default)" >&2
  "$KUBECTL" apply -f fixtures/demo.yaml >&2
fi

if [ ! -f "$CERTS/ca.crt" ] || [ ! -f "$CERTS/admin.crt" ]; then
  "$BIN" certs --out "$CERTS" --force --client admin:sre --client viewer:viewers >&2
fi

base="https://localhost:$PORT/api/v1"
c="curl -sS --cacert $CERTS/ca.crt --cert $CERTS/admin.crt --key $CERTS/admin.key"
cat <<TXT

replicasd is starting on https://localhost:$PORT (probes and metrics on http://localhost:$OPS_PORT).
Try, from another terminal in $(pwd):

  $c $base/health
  $c $base/deployments
  $c '$base/deployments?labelSelector=tier=backend'
  $c $base/namespaces/demo-a/deployments
  $c -i $base/namespaces/demo-a/deployments/web/replicas
  $c -X PUT -H 'Content-Type: application/json' -d '{"replicaCount": 4}' $base/namespaces/demo-a/deployments/web/replicas
  $c '$base/deployments/worker/replicas?namespace=demo-b'
  curl -s http://localhost:$OPS_PORT/readyz
  curl -s http://localhost:$OPS_PORT/metrics | grep ^replicasd_

Ctrl-C stops the server; \`make cluster-down\` removes the local cluster.

TXT

exec "$BIN" \
  --listen-address ":$PORT" --ops-address ":$OPS_PORT" \
  --tls-cert-file "$CERTS/server.crt" --tls-private-key-file "$CERTS/server.key" \
  --client-ca-file "$CERTS/ca.crt" --kubeconfig "$KUBECONFIG" \
  --log-format "${REPLICASD_LOG_FORMAT:-text}"
