// Command promrules prints the rule groups of a PrometheusRule manifest as a
// plain Prometheus rules file, so that `promtool check rules` can check
// them: promtool does not read the Prometheus Operator's CRD.
//
//	go run ./scripts/monitoring/promrules deploy/monitoring/prometheus-rules.yaml > rules.yaml
package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Groups []any `json:"groups"`
	} `json:"spec"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: promrules PROMETHEUSRULE.yaml")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "promrules: %v\n", err)
		os.Exit(1)
	}
}

func run(path string) error {
	data, err := os.ReadFile(path) // #nosec G304 G703 -- the file the developer named
	if err != nil {
		return err
	}
	var pr prometheusRule
	if err := yaml.Unmarshal(data, &pr); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if pr.Kind != "PrometheusRule" || pr.APIVersion != "monitoring.coreos.com/v1" {
		return fmt.Errorf("%s: kind %q apiVersion %q, want a monitoring.coreos.com/v1 PrometheusRule", path, pr.Kind, pr.APIVersion)
	}
	if len(pr.Spec.Groups) == 0 {
		return fmt.Errorf("%s: no rule groups", path)
	}
	out, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
