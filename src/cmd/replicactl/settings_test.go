package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
)

// writeConfig writes a config file at path, creating its directory.
func writeConfig(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSettingsPrecedence checks flags > environment > config file: in each
// case the winning source holds the working value and the losing ones a
// value that would fail, so the wrong choice cannot pass.
func TestSettingsPrecedence(t *testing.T) {
	f := newFixture(t)
	dead := "https://" + closedAddr(t)
	notAfter := now.Add(-time.Hour)
	expiredCert, expiredKey := f.pki.ClientFiles(t, f.pki.CA, "expired", nil, certs.WithValidity(notAfter.Add(-time.Hour), notAfter))
	// The PKI directory holds alice.crt, alice.key and ca.crt: a config
	// file there can name them relatively.
	relative := "server: " + f.srv.URL + "\ncert: alice.crt\nkey: alice.key\nca: ca.crt\n"

	tests := []struct {
		name  string
		env   func(home string) map[string]string
		files func(home string) // writes config files
		args  []string
	}{
		{name: "config file in ~/.config with relative paths",
			files: func(home string) {
				copyPKI(t, f, filepath.Join(home, ".config/replicactl/certs"))
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"),
					"server: "+f.srv.URL+"\ncert: certs/alice.crt\nkey: certs/alice.key\nca: certs/ca.crt\n")
			}},
		{name: "config file in XDG_CONFIG_HOME",
			env: func(home string) map[string]string {
				return map[string]string{"XDG_CONFIG_HOME": filepath.Join(home, "xdg")}
			},
			files: func(home string) {
				copyPKI(t, f, filepath.Join(home, "xdg/replicactl"))
				writeConfig(t, filepath.Join(home, "xdg/replicactl/config.yaml"), relative)
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"), "server: "+dead+"\n")
			}},
		{name: "REPLICACTL_CONFIG",
			env: func(home string) map[string]string {
				return map[string]string{envConfig: filepath.Join(f.pki.Dir, "cfg.yaml")}
			},
			files: func(home string) {
				writeConfig(t, filepath.Join(f.pki.Dir, "cfg.yaml"), relative)
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"), "server: "+dead+"\n")
			}},
		{name: "--config beats REPLICACTL_CONFIG",
			env: func(home string) map[string]string {
				return map[string]string{envConfig: filepath.Join(home, "bad.yaml")}
			},
			files: func(home string) {
				writeConfig(t, filepath.Join(f.pki.Dir, "good.yaml"), relative)
				writeConfig(t, filepath.Join(home, "bad.yaml"), "server: "+dead+"\n")
			},
			args: []string{"--config", filepath.Join(f.pki.Dir, "good.yaml")}},
		{name: "environment beats the config file",
			env: func(home string) map[string]string {
				return map[string]string{envServer: f.srv.URL, envCert: f.pki.CertFile, envKey: f.pki.KeyFile, envCA: f.pki.CAFile}
			},
			files: func(home string) {
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"),
					"server: "+dead+"\ncert: "+expiredCert+"\nkey: "+expiredKey+"\nca: /nonexistent/ca.crt\n")
			}},
		{name: "flags beat the environment",
			env: func(home string) map[string]string {
				return map[string]string{envServer: dead, envCert: expiredCert, envKey: expiredKey, envCA: "/nonexistent/ca.crt"}
			},
			args: f.conn()},
		{name: "sources mix: server from a flag, cert from the environment, the rest from the file",
			env: func(home string) map[string]string { return map[string]string{envCert: f.pki.CertFile} },
			files: func(home string) {
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"),
					"server: "+dead+"\ncert: "+expiredCert+"\nkey: "+f.pki.KeyFile+"\nca: "+f.pki.CAFile+"\n")
			},
			args: []string{"--server", f.srv.URL}},
		{name: "~ in the config file",
			files: func(home string) {
				copyPKI(t, f, filepath.Join(home, "certs"))
				writeConfig(t, filepath.Join(home, ".config/replicactl/config.yaml"),
					"server: "+f.srv.URL+"\ncert: ~/certs/alice.crt\nkey: ~/certs/alice.key\nca: ~/certs/ca.crt\n")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			env := map[string]string{"HOME": home}
			if tt.env != nil {
				for k, v := range tt.env(home) {
					env[k] = v
				}
			}
			if tt.files != nil {
				tt.files(home)
			}
			args := append([]string{"get", "web", "-o", "name"}, tt.args...)
			runWith(t, env, args...).check(t, result{stdout: "deployment.apps/web\n"})
		})
	}
}

// copyPKI copies the client certificate, key and CA into dir, so a config
// file there can name them relatively.
func copyPKI(t *testing.T, f *fixture, dir string) {
	t.Helper()
	for _, name := range []string{"alice.crt", "alice.key", "ca.crt"} {
		data, err := os.ReadFile(filepath.Join(f.pki.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		writeConfig(t, filepath.Join(dir, name), string(data))
	}
}

func TestConfigFileErrors(t *testing.T) {
	f := newFixture(t)
	home := f.env["HOME"]
	unknownKey := writeConfig(t, filepath.Join(home, "unknown.yaml"), "server: https://x:1\ncertificate: a.crt\n")
	notYAML := writeConfig(t, filepath.Join(home, "broken.yaml"), "server: [\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{name: "--config that does not exist", args: []string{"--config", filepath.Join(home, "nope.yaml")},
			want: "error: reading the config file: open " + filepath.Join(home, "nope.yaml") + ": no such file or directory\n"},
		{name: "REPLICACTL_CONFIG that does not exist", env: map[string]string{envConfig: filepath.Join(home, "nope.yaml")},
			want: "error: reading the config file: open " + filepath.Join(home, "nope.yaml") + ": no such file or directory\n"},
		{name: "unknown key", args: []string{"--config", unknownKey},
			want: "error: config file " + unknownKey + `: error unmarshaling JSON: while decoding JSON: json: unknown field "certificate" (the keys are server, cert, key and ca)` + "\n"},
		{name: "not YAML", args: []string{"--config", notYAML},
			want: "error: config file " + notYAML + ": error converting YAML to JSON: yaml: line 1: did not find expected node content (the keys are server, cert, key and ca)\n"},
		{name: "an unusable value names its source", env: map[string]string{envCert: "/nonexistent/env.crt"},
			args: []string{"--server", f.srv.URL, "--key", f.pki.KeyFile},
			want: "error: loading client certificate /nonexistent/env.crt and key " + f.pki.KeyFile + ": open /nonexistent/env.crt: no such file or directory\n" +
				"  (server from --server, cert from REPLICACTL_CERT, key from --key, no ca: the system's trust store)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range tt.env {
				env[k] = v
			}
			args := append([]string{"list"}, tt.args...)
			runWith(t, env, args...).check(t, result{code: exitUsage, stderr: tt.want + "See 'replicactl list --help'.\n"})
		})
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("configuration errors sent %d requests", n)
	}
}

func TestResolvePath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "empty", in: "", want: ""},
		{name: "relative", in: "certs/a.crt", want: "/etc/replicactl/certs/a.crt"},
		{name: "dot dot", in: "../a.crt", want: "/etc/a.crt"},
		{name: "absolute", in: "/srv/a.crt", want: "/srv/a.crt"},
		{name: "home", in: "~/a.crt", want: "/home/u/a.crt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolvePath(tt.in, "/etc/replicactl", "/home/u"); got != tt.want {
				t.Errorf("resolvePath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
