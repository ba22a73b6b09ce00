package baseline

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

func TestHandler(t *testing.T) {
	body := []byte(`{"namespace":"default","name":"web","replicaCount":3}` + "\n")
	for _, method := range []string{http.MethodGet, http.MethodPut} {
		t.Run(method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler(body).ServeHTTP(rec, httptest.NewRequest(method, "/anything", nil))
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != http.StatusOK || string(got) != string(body) {
				t.Errorf("%d %q, want 200 %q", rec.Code, got, body)
			}
			if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Length") != "54" {
				t.Errorf("headers %v", rec.Header())
			}
		})
	}
}

func TestServeRequiresAClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, err := certs.NewCA("bench CA")
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("bench", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsconfig.Config{
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"), ClientCAFile: filepath.Join(dir, "ca.crt"),
	}
	if err := server.WriteFiles(cfg.CertFile, cfg.KeyFile); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFile(cfg.ClientCAFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, cfg, []byte("{}\n")) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	tests := []struct {
		name    string
		certs   []tls.Certificate
		wantErr bool
	}{
		{name: "with a client certificate", certs: []tls.Certificate{client.TLSCertificate()}},
		{name: "without one", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: ca.CertPool(), Certificates: tt.certs}}}
			var resp *http.Response
			var err error
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				resp, err = c.Get("https://" + addr + "/")
				if err == nil || !strings.Contains(err.Error(), "connection refused") || time.Now().After(deadline) {
					break
				}
			}
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatal("the baseline served a client without a certificate")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || string(b) != "{}\n" {
				t.Errorf("%d %q", resp.StatusCode, b)
			}
		})
	}
}
