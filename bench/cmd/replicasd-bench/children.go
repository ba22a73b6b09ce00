package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/replicasd/replicasd/bench/internal/baseline"
	"github.com/replicasd/replicasd/bench/internal/heap"
	"github.com/replicasd/replicasd/src/fakeapiserver"
	"github.com/replicasd/replicasd/src/tlsconfig"

	"github.com/replicasd/replicasd/bench/internal/kube"
)

// baselineCommand serves the baseline until it is signalled.
func baselineCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	cert := fs.String("tls-cert-file", "", "server certificate")
	key := fs.String("tls-private-key-file", "", "server key")
	ca := fs.String("client-ca-file", "", "CA that client certificates must chain to")
	bodyFile := fs.String("body-file", "", "the constant body to answer with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	return baseline.Serve(ctx, *listen, tlsconfig.Config{CertFile: *cert, KeyFile: *key, ClientCAFile: *ca}, body)
}

// heapCommand measures the cache's heap once and prints the result as JSON.
// --source fake serves --deployments realistic Deployments from an
// in-process fake API server (so no cluster needs to hold 50k of them);
// --source kwok lists the cluster of --kubeconfig.
func heapCommand(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("heap", flag.ContinueOnError)
	source := fs.String("source", "fake", "fake or kwok")
	n := fs.Int("deployments", 1000, "with --source fake: how many Deployments to serve")
	kubeconfig := fs.String("kubeconfig", "", "with --source kwok: the cluster")
	transform := fs.Bool("transform", true, "strip the cached objects (replicasd's default)")
	profile := fs.String("heap-profile", "", "also write the heap profile with the cache synced to this file")
	contentType := fs.String("content-type", "", "with --source kwok: the wire format the client asks for (default: client-go's, JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var res heap.Result
	var err error
	switch *source {
	case "fake":
		t := &cleanups{}
		defer t.run()
		srv := fakeapiserver.New(t, heap.Realistic(*n, time.Now())...)
		res, err = heap.Measure(ctx, "fake", srv.RESTConfig(), *transform, *profile)
	case "kwok":
		cfg, cerr := kube.RESTConfig(*kubeconfig)
		if cerr != nil {
			return cerr
		}
		cfg.ContentType = *contentType
		res, err = heap.Measure(ctx, "kwok", cfg, *transform, *profile)
	default:
		return fmt.Errorf("--source %q: want fake or kwok", *source)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// cleanups stands in for the testing.T that fakeapiserver.New wants.
type cleanups struct{ fns []func() }

func (c *cleanups) Cleanup(f func()) { c.fns = append(c.fns, f) }

func (c *cleanups) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}
