package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// TestPutReadYourWritesWarning: a PUT whose write landed but did not reach
// this server's cache in time still answers 200, and says so: a Warning
// header as kube-apiserver sends it, and the same text in "warnings".
func TestPutReadYourWritesWarning(t *testing.T) {
	tests := []struct {
		name    string
		lagging bool
	}{
		{name: "cache showed the write"},
		{name: "cache did not show the write in time", lagging: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.scaler.lagging = tt.lagging
			rec := f.put("/api/v1/deployments/web/replicas", `{"replicaCount":7}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			var body struct {
				ReplicaCount int32     `json:"replicaCount"`
				Warnings     *[]string `json:"warnings"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			raw := rec.Header().Values("Warning")
			if !tt.lagging {
				if len(raw) != 0 || body.Warnings != nil {
					t.Errorf("Warning %q, warnings %v; want neither", raw, body.Warnings)
				}
				return
			}
			if len(raw) != 1 || !strings.HasPrefix(raw[0], `299 - "`) {
				t.Fatalf("Warning = %q, want one `299 - \"...\"`", raw)
			}
			parsed, errs := utilnet.ParseWarningHeaders(raw)
			if len(errs) != 0 || len(parsed) != 1 || parsed[0].Code != 299 || parsed[0].Agent != "-" {
				t.Fatalf("Warning %q parses as %+v, %v", raw, parsed, errs)
			}
			text := parsed[0].Text
			for _, want := range []string{"replica count is set", "did not show it within 5s", "old count"} {
				if !strings.Contains(text, want) {
					t.Errorf("warning %q does not contain %q", text, want)
				}
			}
			if body.Warnings == nil || len(*body.Warnings) != 1 || (*body.Warnings)[0] != text {
				t.Errorf("body warnings = %v, want [%q]", body.Warnings, text)
			}
			if body.ReplicaCount != 7 {
				t.Errorf("replicaCount = %d, want 7", body.ReplicaCount)
			}
		})
	}
}
