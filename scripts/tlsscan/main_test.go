package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanOf writes a testssl.sh JSON file: the base findings of a clean TLS 1.3
// scan, changed by overrides (id -> severity, finding).
func scanOf(t *testing.T, overrides map[string][2]string) string {
	t.Helper()
	base := map[string][2]string{
		"SSLv2": {"OK", "not offered"}, "SSLv3": {"OK", "not offered"}, "TLS1": {"INFO", "not offered"},
		"TLS1_1": {"INFO", "not offered"}, "TLS1_2": {"INFO", "not offered"}, "TLS1_3": {"OK", "offered with final"},
		"cipherlist_NULL": {"OK", "not offered"}, "cipherlist_AVERAGE": {"INFO", "not offered"}, "cipherlist_STRONG": {"OK", "offered"},
		"cipher_x1301": {"INFO", "x1301   TLS_AES_128_GCM_SHA256  ECDH 253  AESGCM  128  TLS_AES_128_GCM_SHA256"},
		"heartbleed":   {"OK", "not vulnerable"}, "cert_revocation": {"HIGH", "Neither CRL nor OCSP URI provided"},
	}
	for id, v := range overrides {
		base[id] = v
	}
	var findings []finding
	for id, v := range base {
		findings = append(findings, finding{ID: id, Severity: v[0], Finding: v[1]})
	}
	data, err := json.Marshal(findings)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "scan.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReport(t *testing.T) {
	tests := []struct {
		name       string
		min        string
		overrides  map[string][2]string
		wantOK     bool
		wantInText string
	}{
		{name: "clean TLS 1.3", min: "VersionTLS13", wantOK: true, wantInText: "| VersionTLS13 | TLS 1.3 | TLS_AES_128_GCM_SHA256 | none | 1 not vulnerable | none | pass |"},
		{name: "TLS 1.2 allowed", min: "VersionTLS12", overrides: map[string][2]string{"TLS1_2": {"OK", "offered"}}, wantOK: true},
		{name: "TLS 1.2 by default", min: "VersionTLS13", overrides: map[string][2]string{"TLS1_2": {"OK", "offered"}}, wantInText: "TLS 1.2 is offered"},
		{name: "TLS 1.1", min: "VersionTLS12", overrides: map[string][2]string{"TLS1_1": {"LOW", "offered (deprecated)"}}, wantInText: "TLS 1.1 is offered"},
		{name: "weak ciphers", min: "VersionTLS12", overrides: map[string][2]string{"cipherlist_AVERAGE": {"LOW", "offered"}}, wantInText: "weak ciphers offered: cipherlist_AVERAGE"},
		{name: "a MEDIUM finding", min: "VersionTLS13", overrides: map[string][2]string{"LUCKY13": {"MEDIUM", "potentially vulnerable"}}, wantInText: "MEDIUM finding LUCKY13"},
		{name: "incomplete scan", min: "VersionTLS13", overrides: map[string][2]string{"TLS1_3": {"WARN", "not offered"}}, wantInText: "TLS 1.3 is not offered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			ok := report(&out, "3.0.8", false, []string{scanOf(t, tt.overrides) + ":" + tt.min})
			if ok != tt.wantOK {
				t.Errorf("report = %v, want %v:\n%s", ok, tt.wantOK, out.String())
			}
			if !strings.Contains(out.String(), tt.wantInText) {
				t.Errorf("summary lacks %q:\n%s", tt.wantInText, out.String())
			}
			if !strings.Contains(out.String(), "`cert_revocation`: the development server certificate") {
				t.Errorf("summary does not list the accepted finding:\n%s", out.String())
			}
		})
	}
}
