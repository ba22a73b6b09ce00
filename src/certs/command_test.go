package certs_test

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
)

// runCommand runs the certs command and returns its output.
func runCommand(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = certs.Command(args, &out, &errOut)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCommand(t, args...)
	if err != nil {
		t.Fatalf("certs %q: %v", args, err)
	}
	return out
}

func load(t *testing.T, dir, base string) *certs.Pair {
	t.Helper()
	p, err := certs.Load(filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key"))
	if err != nil {
		t.Fatalf("loading %s: %v", base, err)
	}
	return p
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func verifyClient(t *testing.T, ca, client *certs.Pair) {
	t.Helper()
	_, err := client.Cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Errorf("client %q does not verify against the CA: %v", client.Cert.Subject, err)
	}
}

func TestCommandDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	out := mustRun(t, "--out", dir)

	files := []string{"ca.key", "ca.crt", "server.crt", "server.key", "admin.crt", "admin.key"}
	for _, name := range files {
		path := filepath.Join(dir, name)
		if !strings.Contains(out, "wrote "+path) {
			t.Errorf("output does not mention %s:\n%s", path, out)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		want := certs.CertFileMode
		if strings.HasSuffix(name, ".key") {
			want = certs.KeyFileMode
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, info.Mode().Perm(), want)
		}
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("output directory: %v, mode %v, want 0700", err, info.Mode().Perm())
	}

	ca := load(t, dir, "ca")
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != certs.DevCAName {
		t.Errorf("ca.crt: IsCA=%v CN=%q, want a CA named %q", ca.Cert.IsCA, ca.Cert.Subject.CommonName, certs.DevCAName)
	}
	if left := time.Until(ca.Cert.NotAfter); left < certs.DefaultCAValidity-time.Hour {
		t.Errorf("CA expires in %v, want about a year", left)
	}
	server := load(t, dir, "server")
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := server.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.CertPool()}); err != nil {
			t.Errorf("server certificate for %q: %v", name, err)
		}
	}
	if left := time.Until(server.Cert.NotAfter); left > certs.DefaultLeafValidity || left < certs.DefaultLeafValidity-time.Hour {
		t.Errorf("server certificate expires in %v, want about 90 days", left)
	}
	admin := load(t, dir, "admin")
	if admin.Cert.Subject.CommonName != "admin" || !slices.Equal(admin.Cert.Subject.Organization, []string{"sre"}) {
		t.Errorf("admin subject %q, want CN=admin O=sre", admin.Cert.Subject)
	}
	verifyClient(t, ca, admin)
}

func TestCommandNamesAndClients(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--out", dir,
		"--server-name", "replicasd.ops.svc",
		"--server-name", "10.1.2.3,*.example.com",
		"--client", "bob:sre,dev",
		"--client", "root:system:masters",
		"--client", "carol")

	ca := load(t, dir, "ca")
	server := load(t, dir, "server")
	if server.Cert.Subject.CommonName != "replicasd.ops.svc" {
		t.Errorf("server CN %q, want the first --server-name", server.Cert.Subject.CommonName)
	}
	for _, name := range []string{"replicasd.ops.svc", "10.1.2.3", "api.example.com", "localhost", "127.0.0.1", "::1"} {
		if _, err := server.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.CertPool()}); err != nil {
			t.Errorf("server certificate for %q: %v", name, err)
		}
	}
	tests := []struct {
		name     string
		wantOrgs []string
	}{
		// DER sorts the values of one SET, so groups come back sorted.
		{name: "bob", wantOrgs: []string{"dev", "sre"}},
		{name: "root", wantOrgs: []string{"system:masters"}},
		{name: "carol", wantOrgs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := load(t, dir, tt.name)
			if client.Cert.Subject.CommonName != tt.name || !slices.Equal(client.Cert.Subject.Organization, tt.wantOrgs) {
				t.Errorf("subject %q, want CN=%s O=%q", client.Cert.Subject, tt.name, tt.wantOrgs)
			}
			verifyClient(t, ca, client)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.crt")); err == nil {
		t.Error("admin.crt written although --client was given")
	}
}

func TestCommandInvalidArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErrs []string
	}{
		{name: "no out", args: nil, wantErrs: []string{"--out is required"}},
		{name: "unknown flag", args: []string{"--out", "x", "--bogus"}, wantErrs: []string{"unknown flag: --bogus"}},
		{name: "positional argument", args: []string{"--out", "x", "extra"}, wantErrs: []string{`unexpected arguments ["extra"]`}},
		{
			name: "every problem at once",
			args: []string{"--server-name", "Bad_Name", "--client", "../evil", "--client", "ca", "--client", "Server:x",
				"--client", "x:", "--client", "x:a,,b", "--client", ".hidden", "--client", "bob", "--client", "BOB:dev",
				"--client", strings.Repeat("a", 65)},
			wantErrs: []string{
				"--out is required",
				`--server-name "Bad_Name"`,
				`--client "../evil": NAME must be`,
				`--client "ca": NAME "ca" is reserved`,
				`--client "Server:x": NAME "Server" is reserved`,
				`--client "x:": empty ORG`,
				`--client "x:a,,b": empty ORG`,
				`--client ".hidden": NAME must be`,
				`--client "BOB:dev": client "BOB" given more than once`,
				`--client "` + strings.Repeat("a", 65) + `": NAME must be`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			_, err := runCommand(t, tt.args...)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("wrote %d entries despite the error", len(entries))
			}
		})
	}
}

func TestCommandRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--out", dir)
	before := map[string][]byte{}
	for _, name := range []string{"ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key"} {
		before[name] = readFile(t, filepath.Join(dir, name))
	}

	_, err := runCommand(t, "--out", dir)
	if err == nil {
		t.Fatal("second run without --force: want an error")
	}
	want := "refusing to overwrite existing files (use --force to replace them): " + strings.Join([]string{
		filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"),
		filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key"),
	}, ", ")
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for name, data := range before {
		if !bytes.Equal(readFile(t, filepath.Join(dir, name)), data) {
			t.Errorf("%s changed although the run was refused", name)
		}
	}
}

func TestCommandForceKeepsCA(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--out", dir)
	caBefore := readFile(t, filepath.Join(dir, "ca.crt"))
	serverBefore := readFile(t, filepath.Join(dir, "server.crt"))

	out := mustRun(t, "--out", dir, "--force")
	if !strings.Contains(out, "using the existing CA") {
		t.Errorf("output does not say the CA is reused:\n%s", out)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "ca.crt")), caBefore) {
		t.Error("ca.crt replaced; the existing CA must be reused")
	}
	if bytes.Equal(readFile(t, filepath.Join(dir, "server.crt")), serverBefore) {
		t.Error("server.crt not replaced despite --force")
	}
	ca := load(t, dir, "ca")
	if _, err := load(t, dir, "server").Cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: ca.CertPool()}); err != nil {
		t.Errorf("new server certificate does not chain to the kept CA: %v", err)
	}
	verifyClient(t, ca, load(t, dir, "admin"))
}

func TestCommandIssuesMoreClientsLater(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--out", dir)
	serverBefore := readFile(t, filepath.Join(dir, "server.crt"))

	out := mustRun(t, "--out", dir, "--server=false", "--client", "bob:dev")
	if strings.Contains(out, "server.crt") {
		t.Errorf("output mentions server.crt with --server=false:\n%s", out)
	}
	if !bytes.Equal(readFile(t, filepath.Join(dir, "server.crt")), serverBefore) {
		t.Error("server.crt changed with --server=false")
	}
	verifyClient(t, load(t, dir, "ca"), load(t, dir, "bob"))
}

func TestCommandBrokenCA(t *testing.T) {
	expired, err := certs.NewCA("old CA", certs.WithValidity(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := mustCA(t).IssueClient("notaca", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name: "certificate without key",
			setup: func(t *testing.T, dir string) {
				mustRun(t, "--out", dir)
				if err := os.Remove(filepath.Join(dir, "ca.key")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "ca.crt exists but " + "DIR/ca.key does not",
		},
		{
			name: "expired CA",
			setup: func(t *testing.T, dir string) {
				if err := expired.WriteFiles(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "ca.crt expired on",
		},
		{
			name: "not a CA",
			setup: func(t *testing.T, dir string) {
				if err := leaf.WriteFiles(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "ca.crt is not a CA certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := runCommand(t, "--out", dir, "--force", "--client", "newcomer")
			want := strings.ReplaceAll(tt.wantErr, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one containing %q", err, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "newcomer.crt")); err == nil {
				t.Error("newcomer.crt written despite the error")
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	out, err := runCommand(t, "--help")
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"Usage: replicasd certs --out DIR", "Keep ca.key", "--force", "--server-name", "--client"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not contain %q:\n%s", want, out)
		}
	}
}
