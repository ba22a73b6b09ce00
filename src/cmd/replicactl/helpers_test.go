package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

// now is the clock the tests give replicactl; AGE columns follow from it.
// It is the real time because the TLS handshakes judge expiry by it too.
var now = time.Now().UTC().Truncate(time.Second)

// fixtures: three Deployments, one without a creation time.
var (
	web = clienttest.Deployment{
		Deployment: client.Deployment{Namespace: "default", Name: "web", ReplicaCount: 3, ResourceVersion: "11",
			ReadyReplicas: 2, AvailableReplicas: 2, UpdatedReplicas: 3, CreationTimestamp: now.Add(-3 * time.Hour)},
		Labels: map[string]string{"app": "web"},
	}
	api = clienttest.Deployment{
		Deployment: client.Deployment{Namespace: "team-a", Name: "api", ReplicaCount: 1, ResourceVersion: "12",
			ReadyReplicas: 1, AvailableReplicas: 1, UpdatedReplicas: 1, CreationTimestamp: now.Add(-50 * time.Hour)},
		Labels: map[string]string{"app": "api"},
	}
	worker = clienttest.Deployment{
		Deployment: client.Deployment{Namespace: "team-a", Name: "worker", ReplicaCount: 0, ResourceVersion: "13"},
		Labels:     map[string]string{"app": "worker"},
	}
)

// fixture is a fake server with the three Deployments and a PKI.
type fixture struct {
	pki *clienttest.PKI
	srv *clienttest.Server
	// env is the environment replicactl sees: an empty HOME, so no real
	// config file is read.
	env map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pki := clienttest.NewPKI(t)
	return &fixture{
		pki: pki,
		srv: clienttest.NewServer(t, pki, web, api, worker),
		env: map[string]string{"HOME": t.TempDir()},
	}
}

// conn returns the connection flags for the fixture's server.
func (f *fixture) conn() []string {
	return []string{"--server", f.srv.URL, "--cert", f.pki.CertFile, "--key", f.pki.KeyFile, "--ca", f.pki.CAFile}
}

// result is what one replicactl run produced.
type result struct {
	stdout, stderr string
	code           int
}

// run runs replicactl with args in env.
func runWith(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := environment{
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		now:       func() time.Time { return now },
	}
	code := run(context.Background(), args, e, &stdout, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// run runs replicactl against the fixture's server: the connection flags
// are appended to args.
func (f *fixture) run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, f.env, append(args, f.conn()...)...)
}

// check compares a result with the expected one, in full.
func (r result) check(t *testing.T, want result) {
	t.Helper()
	if r.code != want.code {
		t.Errorf("exit code = %d, want %d\nstderr: %s", r.code, want.code, r.stderr)
	}
	if r.stdout != want.stdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want.stdout)
	}
	if r.stderr != want.stderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, want.stderr)
	}
}

// lines joins lines, each ended by a newline.
func lines(ls ...string) string {
	return strings.Join(ls, "\n") + "\n"
}
