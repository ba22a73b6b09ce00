package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--tls-min-version=VersionTLS10", "--max-replicas=-3", "--log-format=xml"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code = %d, want 2; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"invalid configuration", "--tls-cert-file is required", "--client-ca-file is required",
		"--tls-min-version", "--max-replicas", "--log-format"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d, stderr: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "replicasd ") || !strings.Contains(stdout.String(), "go1.") {
		t.Errorf("--version printed %q", stdout.String())
	}
}

func TestUnknownFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--no-such-flag"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit code = %d, want 2", code)
	}
}

func TestCertsSubcommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"certs", "--out", dir, "--client", "bob:dev"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d, stderr: %s", code, stderr.String())
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key", "bob.crt", "bob.key"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("certs output does not mention %s:\n%s", f, stdout.String())
		}
	}
}
