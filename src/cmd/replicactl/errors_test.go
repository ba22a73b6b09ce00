package main

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fixture)
		args    []string
		want    result
		wantPut bool
	}{
		{name: "not found", args: []string{"get", "nope", "-n", "team-a"}, want: result{code: exitRefused,
			stderr: `error: not found: deployment "nope" not found in namespace "team-a"` + "\n"}},
		{name: "stale if-match", args: []string{"scale", "api", "-n", "team-a", "--replicas", "3", "--if-match", "7"},
			want: result{code: exitRefused, stderr: "error: conflict: the deployment changed since you read it, so nothing was written; " +
				"run again (with --if-match, first read the current resourceVersion with replicactl get -o json) " +
				`(server: deployment team-a/api has resourceVersion "12", not "7" as If-Match requires; nothing was written)` + "\n"}},
		{name: "bad request", args: []string{"list", "-l", "app in (web"}, want: result{code: exitRefused,
			stderr: `error: invalid request: invalid labelSelector "app in (web": unable to parse requirement: found '', expected: ',' or ')'` + "\n"}},
		{name: "service unavailable", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusServiceUnavailable, "the cache is not synced yet", http.Header{"Retry-After": {"5"}}))
		}, args: []string{"list"}, want: result{code: exitServerError,
			stderr: "error: the server is not ready: the cache is not synced yet; try again in 5s\n"}},
		{name: "too many requests", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusTooManyRequests, `too many requests from "alice"`, http.Header{"Retry-After": {"2"}}))
		}, args: []string{"get", "web"}, want: result{code: exitRefused,
			stderr: `error: too many requests from your identity: too many requests from "alice"; try again in 2s` + "\n"}},
		{name: "internal error", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusInternalServerError,
				`replicasd is not permitted by Kubernetes RBAC: cannot update deployments/scale`, nil))
		}, args: []string{"scale", "web", "--replicas", "2"}, want: result{code: exitServerError,
			stderr: "error: server error: replicasd is not permitted by Kubernetes RBAC: cannot update deployments/scale " +
				"(the server's operator can find details in its log)\n"}},
		{name: "bad gateway", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusBadGateway, "the Kubernetes API answered with a server error: etcd down", nil))
		}, args: []string{"scale", "web", "--replicas", "2"}, want: result{code: exitServerError,
			stderr: "error: the Kubernetes API failed behind the server: the Kubernetes API answered with a server error: etcd down\n"}},
		{name: "gateway timeout", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusGatewayTimeout, `this server's cache did not reach resourceVersion "9"`, nil))
		}, args: []string{"list"}, want: result{code: exitServerError,
			stderr: `error: timed out: this server's cache did not reach resourceVersion "9"` + "\n"}},
		{name: "unsupported media type", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusUnsupportedMediaType, "Content-Type must be application/json", nil))
		}, args: []string{"scale", "web", "--replicas", "2"}, want: result{code: exitRefused,
			stderr: "error: the server refused the request: Content-Type must be application/json (is --server a replicasd of a compatible version?)\n"}},
		{name: "other status", setup: func(f *fixture) {
			f.srv.SetHandler(clienttest.ErrorHandler(http.StatusTeapot, "short and stout", nil))
		}, args: []string{"list"}, want: result{code: exitRefused,
			stderr: "error: the server answered 418 I'm a teapot: short and stout\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			f.run(t, tt.args...).check(t, tt.want)
		})
	}
}

func TestForbidden(t *testing.T) {
	f := newFixture(t)
	f.srv.SetAuthorizer(func(user, verb, namespace string) error {
		if user == "bob" && verb == "scale" {
			return fmt.Errorf("user %q (groups [dev]) may not scale deployments in namespace %q", user, namespace)
		}
		return nil
	})
	bobCert, bobKey := f.pki.ClientFiles(t, f.pki.CA, "bob", []string{"dev"})
	args := []string{"--server", f.srv.URL, "--ca", f.pki.CAFile, "--cert", bobCert, "--key", bobKey}

	runWith(t, f.env, append([]string{"scale", "api", "-n", "team-a", "--replicas", "9"}, args...)...).check(t, result{
		code: exitRefused, stderr: `error: forbidden: user "bob" (groups [dev]) may not scale deployments in namespace "team-a"` + "\n"})
	if d, _ := f.srv.Deployment("team-a", "api"); d.ReplicaCount != 1 {
		t.Errorf("server has %d replicas after a 403, want 1", d.ReplicaCount)
	}
	// Reading is still allowed: the 403 is about the action, not the identity.
	if res := runWith(t, f.env, append([]string{"get", "api", "-n", "team-a", "-o", "name"}, args...)...); res.code != exitOK {
		t.Errorf("get as bob: exit %d, stderr %s", res.code, res.stderr)
	}
}

func TestConnectionErrors(t *testing.T) {
	f := newFixture(t)
	notAfter := now.Add(-36 * time.Hour)
	expiredCert, expiredKey := f.pki.ClientFiles(t, f.pki.CA, "old", nil, certs.WithValidity(notAfter.Add(-72*time.Hour), notAfter))
	otherCA, otherCAFile := f.pki.OtherCA(t, "other-ca")
	strangerCert, strangerKey := f.pki.ClientFiles(t, otherCA, "stranger", nil)
	serverUsageCert, serverUsageKey := f.pki.ClientFiles(t, f.pki.CA, "server-usage", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))
	closed := closedAddr(t)

	tests := []struct {
		name                  string
		server, cert, key, ca string
		want                  string
	}{
		{name: "expired client certificate", cert: expiredCert, key: expiredKey,
			want: fmt.Sprintf("error: your certificate %s expired on %s: the server refuses it; get a new one "+
				"(e.g. replicasd certs --out DIR --server=false --client old) and pass it with --cert and --key\n",
				expiredCert, notAfter.Format("2006-01-02")+" ("+notAfter.Format(time.RFC3339)+")")},
		{name: "client certificate from another CA", cert: strangerCert, key: strangerKey,
			want: `error: the server refused your certificate: it is not signed by the server's client CA (it is issued by "other-ca"); ` +
				"check --cert and the server's --client-ca-file\n"},
		{name: "certificate without clientAuth", cert: serverUsageCert, key: serverUsageKey,
			want: fmt.Sprintf("error: the server refused your certificate: your certificate %s lacks the clientAuth extended key usage; use a client certificate\n", serverUsageCert)},
		{name: "server certificate not trusted", ca: otherCAFile,
			want: fmt.Sprintf(`error: server certificate not trusted: it is not signed by the CA in %s (it is issued by "clienttest CA"); check --ca`+"\n", otherCAFile)},
		{name: "server unreachable", server: "https://" + closed,
			want: fmt.Sprintf("error: the server could not be reached at https://%s: dial tcp %s: connect: connection refused "+
				"(check --server, and that replicasd is running and listening there)\n", closed, closed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"list",
				"--server", or(tt.server, f.srv.URL), "--cert", or(tt.cert, f.pki.CertFile),
				"--key", or(tt.key, f.pki.KeyFile), "--ca", or(tt.ca, f.pki.CAFile)}
			runWith(t, f.env, args...).check(t, result{code: exitConnection, stderr: tt.want})
		})
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestUsageErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		args       []string
		noConn     bool // leave out the connection flags
		wantStderr string
	}{
		{name: "unknown command", args: []string{"delete"},
			wantStderr: "error: unknown command \"delete\"; the commands are list, get, scale and version\nSee 'replicactl --help'.\n"},
		{name: "unknown flag", args: []string{"list", "--colour"},
			wantStderr: "error: unknown flag: --colour\nSee 'replicactl --help'.\n"},
		{name: "flag of another command", args: []string{"list", "--replicas", "3"},
			wantStderr: "error: --replicas cannot be used with list\nSee 'replicactl list --help'.\n"},
		{name: "scale without --replicas", args: []string{"scale", "web"},
			wantStderr: "error: scale needs --replicas N\nSee 'replicactl scale --help'.\n"},
		{name: "negative replicas", args: []string{"scale", "web", "--replicas=-1"},
			wantStderr: "error: --replicas must be 0 or more, got -1\nSee 'replicactl scale --help'.\n"},
		{name: "replicas not a number", args: []string{"scale", "web", "--replicas", "many"},
			wantStderr: "error: invalid argument \"many\" for \"--replicas\" flag: must be an integer\nSee 'replicactl --help'.\n"},
		{name: "both preconditions", args: []string{"scale", "web", "--replicas", "2", "--if-match", "3", "--current-replicas", "1"},
			wantStderr: "error: --if-match and --current-replicas cannot be used together\nSee 'replicactl scale --help'.\n"},
		{name: "empty if-match", args: []string{"scale", "web", "--replicas", "2", "--if-match", `""`},
			wantStderr: "error: --if-match needs a resourceVersion\nSee 'replicactl scale --help'.\n"},
		{name: "scale without name", args: []string{"scale", "--replicas", "2"},
			wantStderr: "error: scale needs the name of a deployment\nSee 'replicactl scale --help'.\n"},
		{name: "get two names", args: []string{"get", "a", "b"},
			wantStderr: "error: get takes one deployment name, got 2: a b\nSee 'replicactl get --help'.\n"},
		{name: "list with a name", args: []string{"list", "web"},
			wantStderr: "error: list takes no arguments, got web; use -l to select by labels\nSee 'replicactl list --help'.\n"},
		{name: "namespace and all namespaces", args: []string{"list", "-n", "a", "-A"},
			wantStderr: "error: --namespace and --all-namespaces cannot be used together\nSee 'replicactl list --help'.\n"},
		{name: "unknown output", args: []string{"get", "web", "-o", "wide"},
			wantStderr: "error: unknown output format \"wide\": use json, yaml or name, or omit -o for a table\nSee 'replicactl get --help'.\n"},
		{name: "version -o name", args: []string{"version", "-o", "name"}, noConn: true,
			wantStderr: "error: version prints a table, json or yaml; not -o name\nSee 'replicactl version --help'.\n"},
		{name: "missing settings", args: []string{"get", "web"}, noConn: true,
			wantStderr: "error: missing connection settings:\n" +
				"  server URL: set --server, REPLICACTL_SERVER, or \"server:\" in " + f.env["HOME"] + "/.config/replicactl/config.yaml\n" +
				"  client certificate: set --cert, REPLICACTL_CERT, or \"cert:\" in " + f.env["HOME"] + "/.config/replicactl/config.yaml\n" +
				"  client key: set --key, REPLICACTL_KEY, or \"key:\" in " + f.env["HOME"] + "/.config/replicactl/config.yaml\n" +
				"See 'replicactl get --help'.\n"},
		{name: "server not https", args: []string{"list", "--server", "http://localhost:8443", "--cert", f.pki.CertFile, "--key", f.pki.KeyFile}, noConn: true,
			wantStderr: "error: invalid server URL \"http://localhost:8443\": the scheme must be https (the API only speaks mutual TLS)\n" +
				"  (server from --server, cert from --cert, key from --key, no ca: the system's trust store)\nSee 'replicactl list --help'.\n"},
		{name: "unreadable certificate", args: []string{"list", "--server", "https://localhost:8443", "--cert", "/nonexistent/a.crt", "--key", f.pki.KeyFile, "--ca", f.pki.CAFile}, noConn: true,
			wantStderr: "error: loading client certificate /nonexistent/a.crt and key " + f.pki.KeyFile + ": open /nonexistent/a.crt: no such file or directory\n" +
				"  (server from --server, cert from --cert, key from --key, ca from --ca)\nSee 'replicactl list --help'.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.srv.Requests())
			args := tt.args
			if !tt.noConn {
				args = append(args, f.conn()...)
			}
			runWith(t, f.env, args...).check(t, result{code: exitUsage, stderr: tt.wantStderr})
			if n := len(f.srv.Requests()) - before; n != 0 {
				t.Errorf("a usage error sent %d requests", n)
			}
		})
	}
}

func TestNoArguments(t *testing.T) {
	res := runWith(t, map[string]string{})
	if res.code != exitUsage || res.stdout != "" || !strings.HasPrefix(res.stderr, "replicactl reads and sets") {
		t.Errorf("exit %d, stdout %q, stderr starts %.40q; want exit 2 and the help on stderr", res.code, res.stdout, res.stderr)
	}
}
