package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

const helpText = `replicactl reads and sets the replica counts of Kubernetes Deployments
through a replicasd server, over mutual TLS.

Usage:
  replicactl list  [-n NAMESPACE | -A] [-l SELECTOR] [-o json|yaml|name]
  replicactl get   NAME [-n NAMESPACE] [-o json|yaml|name]
  replicactl scale NAME --replicas N [-n NAMESPACE] [--if-match RV | --current-replicas N] [-o json|yaml|name]
  replicactl version [-o json|yaml]
  replicactl help [COMMAND]

Namespaces: list without -n (or with -A) shows every namespace the server
serves; get and scale without -n act on the server's default namespace
(its --default-namespace).

Connection settings, each from the first of: flag, environment, config file.
  --server  REPLICACTL_SERVER  server:  the API, https://HOST:PORT (required)
  --cert    REPLICACTL_CERT    cert:    client certificate, PEM (required)
  --key     REPLICACTL_KEY     key:     its private key, PEM (required)
  --ca      REPLICACTL_CA      ca:      CA bundle for the server's certificate
                                        (default: the system's trust store)
The config file is --config, else REPLICACTL_CONFIG, else
$XDG_CONFIG_HOME/replicactl/config.yaml (~/.config/replicactl/config.yaml).
Relative paths in it are relative to the file. For example:
  server: https://replicasd.example.com:8443
  cert: alice.crt
  key: alice.key
  ca: ca.crt

Exit codes:
  0  success
  1  the server refused the request (4xx: invalid, forbidden, not found,
     changed since read), --current-replicas did not match, or another error
  2  usage: bad flags or arguments, missing or unusable connection settings
  3  no answer: server unreachable or timed out, or a certificate refused
     (yours by the server, or the server's by you)
  4  the server failed (5xx), e.g. Kubernetes unreachable; retry later

Examples:
  replicactl list -A
  replicactl get web -n shop -o json
  replicactl scale web -n shop --replicas 5 --current-replicas 3

Flags:
`

// commandHelp describes each command for replicactl COMMAND --help.
var commandHelp = map[string]struct{ usage, text string }{
	"list": {
		usage: "replicactl list [-n NAMESPACE | -A] [-l SELECTOR] [-o json|yaml|name]",
		text: `Lists Deployments with their replica counts, sorted by namespace and name.
Without -n, or with -A, every namespace the server serves; with -n, one.
The table shows REPLICAS (desired), READY (ready/desired), UP-TO-DATE,
AVAILABLE and AGE; -o name prints deployment.apps/NAME lines, as kubectl.`,
	},
	"get": {
		usage: "replicactl get NAME [-n NAMESPACE] [-o json|yaml|name]",
		text: `Shows one Deployment. Without -n, the server's default namespace.
-o json and -o yaml include its resourceVersion, for scale --if-match.`,
	},
	"scale": {
		usage: "replicactl scale NAME --replicas N [-n NAMESPACE] [--if-match RV | --current-replicas N] [-o json|yaml|name]",
		text: `Sets the desired replica count. Without -n, in the server's default namespace.
--current-replicas N scales only if the Deployment has N replicas now, and
only if nothing changes them between that check and the write (as kubectl
scale --current-replicas; a change of its status alone is retried).
--if-match RV scales only if the Deployment still has resourceVersion RV.
Either way a mismatch writes nothing and exits 1.`,
	},
	"version": {
		usage: "replicactl version [-o json|yaml]",
		text:  `Prints replicactl's version.`,
	},
	"help": {
		usage: "replicactl help [COMMAND]",
		text:  `Shows help for replicactl or one of its commands.`,
	},
}

// printHelp prints the full help with every flag.
func printHelp(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, helpText, fs.FlagUsages())
}

// printCommandHelp prints one command's help: its own flags, then the
// global ones; "" or "help" without a topic prints the full help.
func printCommandHelp(w io.Writer, fs *pflag.FlagSet, cmd string) error {
	h, ok := commandHelp[cmd]
	if !ok {
		return usagef("unknown command %q; the commands are list, get, scale and version", cmd)
	}
	if cmd == "help" {
		printHelp(w, fs)
		return nil
	}
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n", h.text, h.usage)
	if own := subset(fs, commandFlags[cmd]); own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", own.FlagUsages())
	}
	fmt.Fprintf(w, "\nGlobal flags:\n%s", subset(fs, globalFlags).FlagUsages())
	fmt.Fprintln(w, "\nSee 'replicactl --help' for the connection settings and exit codes.")
	return nil
}

// subset returns a flag set holding the named flags of fs, for help.
func subset(fs *pflag.FlagSet, names []string) *pflag.FlagSet {
	out := pflag.NewFlagSet("", pflag.ContinueOnError)
	out.SortFlags = false
	for _, n := range names {
		if f := fs.Lookup(n); f != nil {
			out.AddFlag(f)
		}
	}
	return out
}
