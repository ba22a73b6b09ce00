package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// environment is what run reads from the process besides its arguments,
// so tests can set it.
type environment struct {
	lookupEnv func(string) (string, bool)
	now       func() time.Time
}

// getenv returns a variable's value, "" when unset.
func (e environment) getenv(key string) string {
	v, _ := e.lookupEnv(key)
	return v
}

// options holds every flag of every command; cli.go checks that each
// command gets only its own.
type options struct {
	// Connection, for every command that talks to the server.
	server, cert, key, ca, config string
	timeout                       time.Duration
	help                          bool

	namespace       string
	allNamespaces   bool
	selector        string
	output          string
	replicas        int32
	ifMatch         string
	currentReplicas int32

	// changed records which flags were given, by long name.
	changed map[string]bool
}

// globalFlags apply to every command.
var globalFlags = []string{"server", "cert", "key", "ca", "config", "request-timeout", "help"}

// commandFlags lists each command's own flags.
var commandFlags = map[string][]string{
	"list":    {"namespace", "all-namespaces", "selector", "output"},
	"get":     {"namespace", "output"},
	"scale":   {"replicas", "namespace", "if-match", "current-replicas", "output"},
	"version": {"output"},
	"help":    {},
}

// newFlagSet defines every flag on one set, so flags may come before or
// after the command name, as with kubectl.
func newFlagSet(o *options) *pflag.FlagSet {
	fs := pflag.NewFlagSet("replicactl", pflag.ContinueOnError)
	// Parse errors are returned and printed once by run.
	fs.SetOutput(io.Discard)
	fs.SortFlags = false

	fs.StringVar(&o.server, "server", "", "`URL` of the replicasd API, https://HOST:PORT (env "+envServer+")")
	fs.StringVar(&o.cert, "cert", "", "`FILE` with the client certificate, PEM (env "+envCert+")")
	fs.StringVar(&o.key, "key", "", "`FILE` with the client's private key, PEM (env "+envKey+")")
	fs.StringVar(&o.ca, "ca", "", "`FILE` with the CA bundle that signed the server's certificate, PEM (env "+envCA+"; default: the system's trust store)")
	fs.StringVar(&o.config, "config", "", "config `FILE` (env "+envConfig+"; default $XDG_CONFIG_HOME/replicactl/config.yaml)")
	fs.DurationVar(&o.timeout, "request-timeout", defaultTimeout, "give up on a request after this long; 0 waits forever")
	fs.BoolVarP(&o.help, "help", "h", false, "show help")

	fs.StringVarP(&o.namespace, "namespace", "n", "", "the `NAMESPACE` (default: list shows every namespace, get and scale use the server's default namespace)")
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list every namespace the server serves (the default without -n)")
	fs.StringVarP(&o.selector, "selector", "l", "", "label `SELECTOR`, Kubernetes syntax (e.g. app=web,tier!=cache)")
	fs.StringVarP(&o.output, "output", "o", "", "output `FORMAT`: json, yaml or name (default: a table, or a line for scale)")
	fs.Int32Var(&o.replicas, "replicas", 0, "set the desired replica count to `N` (required)")
	fs.StringVar(&o.ifMatch, "if-match", "", "scale only if the deployment's resourceVersion is still `RV` (see get -o json); else exit 1")
	fs.Int32Var(&o.currentReplicas, "current-replicas", 0, "scale only if the deployment has `N` replicas now, and nothing changes it meanwhile")
	return fs
}

// defaultTimeout bounds a request; a PUT waits for the server's cache.
const defaultTimeout = 30 * time.Second

// usageError is a problem with the command line or the settings: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, env environment, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet(&o)
	if err := fs.Parse(args); err != nil {
		return fail(stderr, usagef("%v", err), "", target{}, env.now())
	}
	o.changed = map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { o.changed[f.Name] = true })

	positional := fs.Args()
	if len(positional) == 0 {
		if o.help {
			printHelp(stdout, fs)
			return exitOK
		}
		printHelp(stderr, fs)
		return exitUsage
	}
	cmd, operands := positional[0], positional[1:]
	if _, ok := commandFlags[cmd]; !ok {
		return fail(stderr, usagef("unknown command %q; the commands are list, get, scale and version", cmd), "", target{}, env.now())
	}
	if cmd == "help" || o.help {
		topic := cmd
		if cmd == "help" && len(operands) > 0 {
			topic = operands[0]
		}
		if err := printCommandHelp(stdout, fs, topic); err != nil {
			return fail(stderr, err, "", target{}, env.now())
		}
		return exitOK
	}
	if err := checkFlags(cmd, o.changed); err != nil {
		return fail(stderr, err, cmd, target{}, env.now())
	}

	c := &command{opts: &o, env: env, stdout: stdout, stderr: stderr}
	var err error
	switch cmd {
	case "version":
		err = c.version(operands)
	case "list":
		err = c.list(ctx, operands)
	case "get":
		err = c.get(ctx, operands)
	case "scale":
		err = c.scale(ctx, operands)
	}
	if err != nil {
		return fail(stderr, err, cmd, c.target, env.now())
	}
	return exitOK
}

// checkFlags refuses flags that belong to another command.
func checkFlags(cmd string, changed map[string]bool) error {
	var foreign []string
	for name := range changed {
		if !slices.Contains(globalFlags, name) && !slices.Contains(commandFlags[cmd], name) {
			foreign = append(foreign, "--"+name)
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	slices.Sort(foreign)
	return usagef("%s cannot be used with %s", strings.Join(foreign, ", "), cmd)
}

// fail prints err explained for people and returns its exit code.
func fail(stderr io.Writer, err error, cmd string, t target, now time.Time) int {
	msg, code := explain(err, t, now)
	fmt.Fprintf(stderr, "error: %s\n", msg)
	if code == exitUsage {
		if cmd == "" {
			fmt.Fprintln(stderr, "See 'replicactl --help'.")
		} else {
			fmt.Fprintf(stderr, "See 'replicactl %s --help'.\n", cmd)
		}
	}
	return code
}
