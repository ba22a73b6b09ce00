package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/version"
)

// command runs one subcommand with the parsed options.
type command struct {
	opts           *options
	env            environment
	stdout, stderr io.Writer
	// target is set once the connection settings are resolved, for error
	// messages.
	target target
}

// resourcePrefixes are the kubectl spellings of a deployment reference, so
// `list -o name` output can be fed back (deployment.apps/web).
var resourcePrefixes = []string{"deployment.apps/", "deployments.apps/", "deployment/", "deployments/", "deploy/"}

// parseName takes exactly one NAME operand.
func parseName(cmd string, operands []string) (string, error) {
	switch len(operands) {
	case 0:
		return "", usagef("%s needs the name of a deployment", cmd)
	case 1:
	default:
		return "", usagef("%s takes one deployment name, got %d: %s", cmd, len(operands), strings.Join(operands, " "))
	}
	name := operands[0]
	for _, p := range resourcePrefixes {
		name = strings.TrimPrefix(name, p)
	}
	if name == "" {
		return "", usagef("%s needs the name of a deployment", cmd)
	}
	return name, nil
}

func (c *command) list(ctx context.Context, operands []string) error {
	if len(operands) > 0 {
		return usagef("list takes no arguments, got %s; use -l to select by labels", strings.Join(operands, " "))
	}
	if c.opts.allNamespaces && c.opts.namespace != "" {
		return usagef("--namespace and --all-namespaces cannot be used together")
	}
	format, err := parseOutput(c.opts.output)
	if err != nil {
		return err
	}
	cl, err := c.newClient()
	if err != nil {
		return err
	}
	defer cl.CloseIdleConnections()
	ds, err := cl.List(ctx, c.opts.namespace, c.opts.selector)
	if err != nil {
		return err
	}
	if len(ds) == 0 && format == formatTable {
		// As kubectl: the note goes to stderr, so stdout stays parseable.
		if c.opts.namespace != "" {
			fmt.Fprintf(c.stderr, "No deployments found in namespace %s.\n", c.opts.namespace)
		} else {
			fmt.Fprintln(c.stderr, "No deployments found.")
		}
		return nil
	}
	return printDeployments(c.stdout, format, ds, c.opts.namespace == "", c.env.now())
}

func (c *command) get(ctx context.Context, operands []string) error {
	name, err := parseName("get", operands)
	if err != nil {
		return err
	}
	format, err := parseOutput(c.opts.output)
	if err != nil {
		return err
	}
	cl, err := c.newClient()
	if err != nil {
		return err
	}
	defer cl.CloseIdleConnections()
	d, _, err := cl.Get(ctx, c.opts.namespace, name)
	if err != nil {
		return err
	}
	return printDeployment(c.stdout, format, d, c.env.now())
}

func (c *command) scale(ctx context.Context, operands []string) error {
	name, err := parseName("scale", operands)
	if err != nil {
		return err
	}
	o := c.opts
	switch {
	case !o.changed["replicas"]:
		return usagef("scale needs --replicas N")
	case o.replicas < 0:
		return usagef("--replicas must be 0 or more, got %d", o.replicas)
	case o.changed["if-match"] && o.changed["current-replicas"]:
		return usagef("--if-match and --current-replicas cannot be used together")
	case o.changed["if-match"] && strings.Trim(o.ifMatch, `" `) == "":
		return usagef("--if-match needs a resourceVersion")
	case o.changed["current-replicas"] && o.currentReplicas < 0:
		return usagef("--current-replicas must be 0 or more, got %d", o.currentReplicas)
	}
	format, err := parseOutput(o.output)
	if err != nil {
		return err
	}
	cl, err := c.newClient()
	if err != nil {
		return err
	}
	defer cl.CloseIdleConnections()

	var res client.ScaleResponse
	if o.changed["current-replicas"] {
		res, err = scaleIfCurrent(ctx, cl, o.namespace, name, o.replicas, o.currentReplicas)
	} else {
		res, _, err = cl.Scale(ctx, o.namespace, name, o.replicas, o.ifMatch)
	}
	if err != nil {
		return err
	}
	// As kubectl prints kube-apiserver's warnings: on stderr, so the
	// output stays parseable.
	for _, w := range res.Warnings {
		fmt.Fprintf(c.stderr, "Warning: %s\n", w)
	}
	return printScale(c.stdout, format, res)
}

// currentReplicasAttempts bounds scaleIfCurrent's reads and writes.
const currentReplicasAttempts = 5

// scaleIfCurrent is scale --current-replicas, as kubectl scale
// --current-replicas: read, compare, and make the write conditional on what
// was read, so a change in between is a 412 rather than a lost update. A
// Deployment's resourceVersion also moves when only its status changes (the
// controller counting ready pods during a rollout), so a 412 is retried
// while the count still matches; a changed count refuses.
func scaleIfCurrent(ctx context.Context, cl *client.Client, namespace, name string, replicas, current int32) (client.ScaleResponse, error) {
	var err error
	for range currentReplicasAttempts {
		d, etag, getErr := cl.Get(ctx, namespace, name)
		if getErr != nil {
			return client.ScaleResponse{}, getErr
		}
		if d.ReplicaCount != current {
			return client.ScaleResponse{}, &currentReplicasError{namespace: d.Namespace, name: d.Name, want: current, got: d.ReplicaCount}
		}
		// The namespace the server resolved, so both requests act on the
		// same deployment.
		if d.Namespace != "" {
			namespace = d.Namespace
		}
		ifMatch := cmp.Or(etag, d.ResourceVersion)
		if ifMatch == "" {
			return client.ScaleResponse{}, fmt.Errorf("the server sent no ETag or resourceVersion for deployment %s/%s; cannot apply --current-replicas safely", d.Namespace, d.Name)
		}
		var res client.ScaleResponse
		res, _, err = cl.Scale(ctx, namespace, name, replicas, ifMatch)
		if client.StatusCode(err) != http.StatusPreconditionFailed {
			return res, err
		}
	}
	return client.ScaleResponse{}, err
}

func (c *command) version(operands []string) error {
	if len(operands) > 0 {
		return usagef("version takes no arguments, got %s", strings.Join(operands, " "))
	}
	format, err := parseOutput(c.opts.output)
	if err != nil {
		return err
	}
	if format == formatName {
		return usagef("version prints a table, json or yaml; not -o name")
	}
	info := version.Get()
	if format == formatTable {
		fmt.Fprintf(c.stdout, "replicactl %s (revision %s, %s)\n", info.Version, info.Revision, info.GoVersion)
		return nil
	}
	return printStructured(c.stdout, format, info)
}

// versionString is the version for the User-Agent.
func versionString() string { return version.Get().Version }

// currentReplicasError is a --current-replicas that did not match: nothing
// was written.
type currentReplicasError struct {
	namespace, name string
	want, got       int32
}

func (e *currentReplicasError) Error() string {
	return fmt.Sprintf("deployment.apps/%s in namespace %s has %s, not %d as --current-replicas requires; nothing was changed",
		e.name, e.namespace, replicasWord(e.got), e.want)
}

// replicasWord is "1 replica" or "N replicas".
func replicasWord(n int32) string {
	if n == 1 {
		return "1 replica"
	}
	return fmt.Sprintf("%d replicas", n)
}
