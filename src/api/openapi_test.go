package api

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/replicasd/replicasd/src/authz"
)

func TestGetOpenAPI(t *testing.T) {
	want, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Options)
	}{
		{name: "no policy"},
		// The document is for every verified client, like /health: a
		// policy that grants nothing still lets it through.
		{name: "policy that grants eve nothing", mutate: func(o *Options) {
			p, err := authz.Parse([]byte(apiTestPolicy))
			if err != nil {
				t.Fatal(err)
			}
			o.Authorizer = p
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*Options)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			f := newFixture(t, mutate...)
			rec, _ := f.requestAs(clientIdentity("eve"), http.MethodGet, PathOpenAPI, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %.200s", rec.Code, rec.Body.String())
			}
			if got := rec.Header().Get("Content-Type"); got != "application/yaml" {
				t.Errorf("Content-Type = %q, want application/yaml", got)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length = %q, want %d", got, len(want))
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("the body is not api/openapi.yaml (%d bytes, want %d)", rec.Body.Len(), len(want))
			}
		})
	}
}

// TestOpenAPIRequestInfo checks that the document is not recorded under a
// deployment verb: audit events must not show it as a read of deployments.
func TestOpenAPIRequestInfo(t *testing.T) {
	f := newFixture(t)
	_, info := f.requestAs(clientIdentity("eve"), http.MethodGet, PathOpenAPI, "")
	if info.Verb != "" || info.Name != "" {
		t.Errorf("info = verb %q name %q, want both empty", info.Verb, info.Name)
	}
}
