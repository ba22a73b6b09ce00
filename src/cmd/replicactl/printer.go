package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/replicasd/replicasd/src/client"
)

// outputFormat is a value of -o.
type outputFormat string

const (
	formatTable outputFormat = ""
	formatJSON  outputFormat = "json"
	formatYAML  outputFormat = "yaml"
	formatName  outputFormat = "name"
)

// resourceName is kubectl's name for Deployments in -o name output.
const resourceName = "deployment.apps"

func parseOutput(s string) (outputFormat, error) {
	switch f := outputFormat(s); f {
	case formatTable, formatJSON, formatYAML, formatName:
		return f, nil
	}
	return "", usagef("unknown output format %q: use json, yaml or name, or omit -o for a table", s)
}

// newTabWriter aligns columns as kubectl does.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// printDeployments prints a list; the NAMESPACE column only when it spans
// namespaces, as kubectl -A.
func printDeployments(w io.Writer, format outputFormat, ds []client.Deployment, withNamespace bool, now time.Time) error {
	switch format {
	case formatTable:
		return printTable(w, ds, withNamespace, now)
	case formatName:
		for _, d := range ds {
			fmt.Fprintf(w, "%s/%s\n", resourceName, d.Name)
		}
		return nil
	}
	return printStructured(w, format, ds)
}

// printDeployment prints one Deployment; its table always names the
// namespace, which the server chooses when -n is omitted.
func printDeployment(w io.Writer, format outputFormat, d client.Deployment, now time.Time) error {
	if format == formatJSON || format == formatYAML {
		return printStructured(w, format, d)
	}
	return printDeployments(w, format, []client.Deployment{d}, true, now)
}

func printTable(w io.Writer, ds []client.Deployment, withNamespace bool, now time.Time) error {
	tw := newTabWriter(w)
	if withNamespace {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprintln(tw, "NAME\tREPLICAS\tREADY\tUP-TO-DATE\tAVAILABLE\tAGE")
	for _, d := range ds {
		if withNamespace {
			fmt.Fprintf(tw, "%s\t", d.Namespace)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%d\t%d\t%s\n", d.Name, d.ReplicaCount, d.ReadyReplicas, d.ReplicaCount,
			d.UpdatedReplicas, d.AvailableReplicas, age(d.CreationTimestamp, now))
	}
	return tw.Flush()
}

// age is kubectl's AGE column: 45s, 5m, 3h, 2d, 3y…; <unknown> when the
// server sent no creation time.
func age(created, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created))
}

// printScale prints the outcome of a PUT: one line by default, like
// kubectl scale's "deployment.apps/web scaled".
func printScale(w io.Writer, format outputFormat, res client.ScaleResponse) error {
	switch format {
	case formatTable:
		if res.Changed {
			fmt.Fprintf(w, "%s/%s scaled to %s in namespace %s\n", resourceName, res.Name, replicasWord(res.ReplicaCount), res.Namespace)
		} else {
			fmt.Fprintf(w, "%s/%s already has %s in namespace %s; nothing changed\n", resourceName, res.Name, replicasWord(res.ReplicaCount), res.Namespace)
		}
		return nil
	case formatName:
		fmt.Fprintf(w, "%s/%s\n", resourceName, res.Name)
		return nil
	}
	return printStructured(w, format, res)
}

// printStructured prints v as indented JSON or as YAML.
func printStructured(w io.Writer, format outputFormat, v any) error {
	var out []byte
	var err error
	if format == formatYAML {
		out, err = yaml.Marshal(v)
	} else {
		out, err = json.MarshalIndent(v, "", "    ")
		out = append(out, '\n')
	}
	if err != nil {
		return fmt.Errorf("formatting the output as %s: %w", format, err)
	}
	_, err = w.Write(out)
	return err
}

// formatDate is how messages print certificate dates.
func formatDate(t time.Time) string {
	return t.UTC().Format("2006-01-02") + " (" + t.UTC().Format(time.RFC3339) + ")"
}
