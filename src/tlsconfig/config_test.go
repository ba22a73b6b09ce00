package tlsconfig_test

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

func TestParseMinVersion(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint16
		wantErr bool
	}{
		{name: "TLS 1.3", in: "VersionTLS13", want: tls.VersionTLS13},
		{name: "TLS 1.2", in: "VersionTLS12", want: tls.VersionTLS12},
		{name: "TLS 1.1", in: "VersionTLS11", wantErr: true},
		{name: "TLS 1.0", in: "VersionTLS10", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "other case", in: "versiontls13", wantErr: true},
		{name: "short form", in: "1.3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlsconfig.ParseMinVersion(tt.in)
			if tt.wantErr {
				want := `unsupported TLS minimum version "` + tt.in + `": must be VersionTLS13 or VersionTLS12`
				if err == nil || err.Error() != want {
					t.Errorf("ParseMinVersion(%q) = %v, %v; want error %q", tt.in, got, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseMinVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewRefusesBadFiles(t *testing.T) {
	other := mustCA(t, "other")
	tests := []struct {
		name     string
		setup    func(t *testing.T, f *fixture)
		wantErrs []string
		wantIs   error
	}{
		{
			name:     "nothing set",
			setup:    func(t *testing.T, f *fixture) { f.cfg = tlsconfig.Config{} },
			wantErrs: []string{"certificate file not set", "private key file not set", "client CA file not set"},
		},
		{
			name:     "unsupported minimum version",
			setup:    func(t *testing.T, f *fixture) { f.cfg.MinVersion = tls.VersionTLS11 },
			wantErrs: []string{"unsupported TLS minimum version 0x0302"},
		},
		{
			name:   "missing certificate",
			setup:  func(t *testing.T, f *fixture) { mustRemove(t, f.cfg.CertFile) },
			wantIs: fs.ErrNotExist,
		},
		{
			name:   "missing client CA file",
			setup:  func(t *testing.T, f *fixture) { mustRemove(t, f.cfg.ClientCAFile) },
			wantIs: fs.ErrNotExist,
		},
		{
			name:     "garbage certificate",
			setup:    func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.CertFile, []byte("not PEM")) },
			wantErrs: []string{"loading certificate {CERT} and key {KEY}"},
		},
		{
			name:     "key of another certificate",
			setup:    func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.KeyFile, other.KeyPEM) },
			wantErrs: []string{"private key does not match public key"},
		},
		{
			name:     "empty client CA file",
			setup:    func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.ClientCAFile, nil) },
			wantErrs: []string{"loading client CA file {CA}: no PEM certificates found"},
		},
		{
			name: "key in the client CA file",
			setup: func(t *testing.T, f *fixture) {
				writeRaw(t, f.cfg.ClientCAFile, append(other.CertPEM, other.KeyPEM...))
			},
			wantErrs: []string{`unexpected PEM block "PRIVATE KEY"`},
		},
		{
			name: "damaged certificate in the client CA file",
			setup: func(t *testing.T, f *fixture) {
				writeRaw(t, f.cfg.ClientCAFile, append(other.CertPEM, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")...))
			},
			wantErrs: []string{"parsing certificate 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			r, err := tlsconfig.New(f.cfg, testkit.TestLogger(t))
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if r != nil {
				t.Error("New returned a Reloader along with an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want one wrapping %v", err, tt.wantIs)
			}
			for _, want := range tt.wantErrs {
				want = strings.NewReplacer("{CERT}", f.cfg.CertFile, "{KEY}", f.cfg.KeyFile, "{CA}", f.cfg.ClientCAFile).Replace(want)
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	f := newFixture(t)
	soon := mustCA(t, "expires soon", certs.WithValidity(f.clientCA.Cert.NotBefore, f.clientCA.Cert.NotAfter.Add(-24*time.Hour)))
	f.writeFiles(t, f.server, certs.Bundle(f.clientCA, soon))
	r := newReloader(t, f.cfg)
	if !r.ServerCertificate().Equal(f.server.Cert) {
		t.Error("ServerCertificate is not the certificate in CertFile")
	}
	if cas := r.ClientCAs(); len(cas) != 2 || !cas[0].Equal(f.clientCA.Cert) || !cas[1].Equal(soon.Cert) {
		t.Errorf("ClientCAs returned %d certificates, want the two of the bundle", len(cas))
	}
	if got, want := r.ClientCAExpiry(), soon.Cert.NotAfter; !got.Equal(want) {
		t.Errorf("ClientCAExpiry %v, want the earliest %v", got, want)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
