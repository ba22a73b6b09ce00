package identity_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/replicasd/replicasd/src/identity"
)

func TestFromCertificate(t *testing.T) {
	ca := mustCA(t, "team CA")
	tests := []struct {
		name       string
		orgs       []string
		wantGroups []string
	}{
		{name: "groups", orgs: []string{"sre", "dev"}, wantGroups: []string{"dev", "sre"}},
		{name: "no groups", wantGroups: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClient(t, ca, "bob", tt.orgs).Cert
			id := identity.FromCertificate(c)
			if id.User != "bob" || id.Issuer != "CN=team CA" || id.Serial != c.SerialNumber.Text(16) {
				t.Errorf("identity %+v, want user bob, issuer CN=team CA, serial %x", id, c.SerialNumber)
			}
			if id.Groups == nil || !slices.Equal(id.Groups, tt.wantGroups) {
				t.Errorf("groups %#v, want %#v", id.Groups, tt.wantGroups)
			}
		})
	}
}

func TestIdentityString(t *testing.T) {
	tests := []struct {
		name string
		id   identity.Identity
		want string
	}{
		{name: "user only", id: identity.Identity{User: "bob"}, want: "CN=bob"},
		{name: "groups", id: identity.Identity{User: "bob", Groups: []string{"sre", "system:masters"}}, want: "CN=bob,O=sre,O=system:masters"},
		{name: "special characters", id: identity.Identity{User: "a,O=admin", Groups: []string{"x+y", `q"\`}}, want: `CN=a\,O\=admin,O=x\+y,O=q\"\\`},
		{name: "leading hash and edge spaces", id: identity.Identity{User: "#1", Groups: []string{" pad "}}, want: `CN=\#1,O=\ pad\ `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIdentityContext(t *testing.T) {
	if _, ok := identity.From(context.Background()); ok {
		t.Error("From found an identity in an empty context")
	}
	want := identity.Identity{User: "bob", Groups: []string{"sre"}}
	got, ok := identity.From(identity.With(context.Background(), want))
	if !ok || got.User != want.User || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("From = %+v, %v; want %+v, true", got, ok, want)
	}
	if key, ok := identity.Key(identity.With(context.Background(), want)); !ok || key != "CN=bob,O=sre" {
		t.Errorf("Key = %q, %v; want CN=bob,O=sre, true", key, ok)
	}
	if key, ok := identity.Key(context.Background()); ok || key != "" {
		t.Errorf("Key of an empty context = %q, %v; want none", key, ok)
	}
}

func TestMiddleware(t *testing.T) {
	ca := mustCA(t, "team CA")
	cert := mustClient(t, ca, "bob", []string{"sre"}).Cert
	tests := []struct {
		name       string
		state      *tls.ConnectionState
		wantStatus int
		wantBody   string
		wantUser   string
	}{
		{name: "plain HTTP", wantStatus: http.StatusUnauthorized, wantBody: `{"error":"a verified client certificate is required"}` + "\n"},
		{name: "no certificate", state: &tls.ConnectionState{}, wantStatus: http.StatusUnauthorized, wantBody: `{"error":"a verified client certificate is required"}` + "\n"},
		{
			name:       "unverified certificate",
			state:      &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}},
			wantStatus: http.StatusUnauthorized,
			wantBody:   `{"error":"a verified client certificate is required"}` + "\n",
		},
		{
			name:       "verified certificate",
			state:      &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert, ca.Cert}}},
			wantStatus: http.StatusNoContent,
			wantUser:   "bob",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen *identity.Identity
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if id, ok := identity.From(r.Context()); ok {
					seen = &id
				}
				w.WriteHeader(http.StatusNoContent)
			})
			req := httptest.NewRequest(http.MethodGet, "/api/v1/deployments", nil)
			req.TLS = tt.state
			rec := httptest.NewRecorder()
			identity.Middleware(next).ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody != "" {
				if got := rec.Body.String(); got != tt.wantBody {
					t.Errorf("body %q, want %q", got, tt.wantBody)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
			}
			switch {
			case tt.wantUser == "" && seen != nil:
				t.Errorf("next ran with identity %+v", *seen)
			case tt.wantUser != "" && (seen == nil || seen.User != tt.wantUser || !slices.Equal(seen.Groups, []string{"sre"})):
				t.Errorf("next saw %+v, want user %s in group sre", seen, tt.wantUser)
			}
		})
	}
}
