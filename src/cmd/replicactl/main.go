// Command replicactl reads and sets the replica counts of Kubernetes
// Deployments through a replicasd server, over mutual TLS.
//
// main only wires the process to run (cli.go), which tests call directly.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], environment{lookupEnv: os.LookupEnv, now: time.Now}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
