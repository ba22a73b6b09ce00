// Command replicasd-bench measures replicasd side by side with
// kube-apiserver and with a baseline net/http server over the same TLS
// configuration, and writes the results (see docs/benchmarks.md).
// scripts/bench.sh prepares what it needs; `make bench` runs both.
//
// Subcommands:
//
//	run       the whole benchmark
//	baseline  serve the baseline (started by run as a child process)
//	heap      measure the cache's heap once (started by run, one process each)
//	render    rewrite the Markdown table, the docs and the chart from a results file
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: replicasd-bench run|baseline|heap|render [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "run":
		err = runCommand(ctx, args, log)
	case "baseline":
		err = baselineCommand(ctx, args)
	case "heap":
		err = heapCommand(ctx, args)
	case "render":
		err = renderCommand(args)
	default:
		err = fmt.Errorf("unknown subcommand %q: want run, baseline, heap or render", cmd)
	}
	if err != nil {
		log.Error("replicasd-bench failed", "error", err.Error())
		os.Exit(1)
	}
}
