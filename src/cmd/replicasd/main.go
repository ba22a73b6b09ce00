// Command replicasd serves the replica counts of Kubernetes Deployments over
// an mTLS HTTPS API, reading from an informer cache.
//
// main only wires: options → validate → complete → run.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/replicasd/replicasd/src/app"
	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/options"
	"github.com/replicasd/replicasd/src/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "certs" {
		if err := certs.Command(args[1:], stdout, stderr); err != nil {
			if errors.Is(err, pflag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "replicasd certs: %v\n", err)
			return 1
		}
		return 0
	}

	o := options.New()
	fs := pflag.NewFlagSet("replicasd", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  replicasd [flags]\n  replicasd certs --out DIR [--server-name NAME ...] [--client NAME[:ORG] ...]\n\n"+
			"Every flag can also be set as %s<FLAG_IN_UPPER_SNAKE_CASE>.\n\nFlags:\n%s", options.EnvPrefix, fs.FlagUsages())
	}
	o.AddFlags(fs)
	if err := o.Parse(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "replicasd: %v\n", err)
		return 2
	}
	if o.Version {
		fmt.Fprintln(stdout, version.Get())
		return 0
	}
	if errs := o.Validate(); len(errs) > 0 {
		fmt.Fprintf(stderr, "replicasd: invalid configuration (%d problems):\n", len(errs))
		for _, err := range errs {
			fmt.Fprintf(stderr, "  - %v\n", err)
		}
		return 2
	}
	cfg, err := o.Complete(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "replicasd: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg.Logger.Info("starting replicasd", "version", version.Get().Version, "revision", version.Get().Revision)
	server, err := app.New(cfg)
	if err == nil {
		err = server.Run(ctx)
	}
	if err != nil {
		cfg.Logger.Error("replicasd stopped", "error", err)
		return 1
	}
	return 0
}
