package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// apiTestPolicy grants: viewers read everything; team-a may do anything in
// namespace default up to 10 replicas; ci-bot may scale shop/web up to 50.
const apiTestPolicy = `rules:
  - groups: [viewers]
    verbs: [get, list]
    namespaces: ["*"]
  - groups: [team-a]
    verbs: ["*"]
    namespaces: [default]
    maxReplicas: 10
  - users: [ci-bot]
    verbs: [get, list, scale]
    namespaces: [shop]
    deployments: [web]
    maxReplicas: 50
`

func withPolicy(t *testing.T, yaml string) func(*Options) {
	t.Helper()
	p, err := authz.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.Authorizer = p }
}

// requestAs serves one request as the client identity id (nil: none), with
// a requestinfo.Info in the context as the audit middleware puts there.
func (f *fixture) requestAs(id *identity.Identity, method, target, body string, headers ...string) (*httptest.ResponseRecorder, *requestinfo.Info) {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	ctx := r.Context()
	if id != nil {
		ctx = identity.With(ctx, *id)
	}
	info := &requestinfo.Info{}
	r = r.WithContext(requestinfo.With(ctx, info))
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	return rec, info
}

func clientIdentity(user string, groups ...string) *identity.Identity {
	return &identity.Identity{User: user, Groups: groups}
}

func TestAuthorization(t *testing.T) {
	viewer := clientIdentity("vera", "viewers")
	dev := clientIdentity("bob", "team-a")
	bot := clientIdentity("ci-bot")
	stranger := clientIdentity("eve")
	const json = "application/json"
	tests := []struct {
		name           string
		id             *identity.Identity
		method, target string
		body           string
		wantStatus     int
		wantBody       string // exact body of a 200, without the newline
		wantError      string // exact message of an error
		wantScale      bool
	}{
		{name: "read-only identity reads", id: viewer, method: "GET", target: "/api/v1/namespaces/shop/deployments/web/replicas",
			wantStatus: 200, wantBody: itemShopWeb},
		{name: "read-only identity PUTs", id: viewer, method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 2}`,
			wantStatus: 403, wantError: `CN=vera (groups: viewers) may not scale deployment "web" in namespace "default"`},
		{name: "other team's namespace", id: dev, method: "GET", target: "/api/v1/namespaces/shop/deployments/web/replicas",
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not get deployment "web" in namespace "shop"`},
		{name: "other team's namespace by query", id: dev, method: "PUT", target: "/api/v1/deployments/web/replicas?namespace=shop", body: `{"replicaCount": 2}`,
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not scale deployment "web" in namespace "shop"`},
		{name: "forbidden deployment that does not exist", id: dev, method: "GET", target: "/api/v1/namespaces/shop/deployments/nope/replicas",
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not get deployment "nope" in namespace "shop"`},
		{name: "allowed deployment that does not exist", id: dev, method: "GET", target: "/api/v1/deployments/nope/replicas",
			wantStatus: 404, wantError: `deployment "nope" not found in namespace "default"`},
		{name: "own namespace, within the rule's maxReplicas", id: dev, method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 10}`,
			wantStatus: 200, wantScale: true},
		{name: "own namespace, above the rule's maxReplicas", id: dev, method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 11}`,
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not scale deployment "web" in namespace "default" to 11 replicas: the policy allows at most 10 (maxReplicas of the rule at line 5)`},
		{name: "above --max-replicas is still a 400", id: dev, method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 101}`,
			wantStatus: 400, wantError: "replicaCount 101 is above the maximum of 100 (--max-replicas)"},
		{name: "another rule's maxReplicas", id: bot, method: "PUT", target: "/api/v1/namespaces/shop/deployments/web/replicas", body: `{"replicaCount": 50}`,
			wantStatus: 200, wantScale: true},
		{name: "deployment outside the rule", id: bot, method: "PUT", target: "/api/v1/namespaces/shop/deployments/cart/replicas", body: `{"replicaCount": 1}`,
			wantStatus: 403, wantError: `CN=ci-bot (no groups) may not scale deployment "cart" in namespace "shop"`},
		{name: "forbidden before the body is read", id: viewer, method: "PUT", target: "/api/v1/deployments/web/replicas", body: `not json`,
			wantStatus: 403, wantError: `CN=vera (groups: viewers) may not scale deployment "web" in namespace "default"`},
		{name: "invalid name is a 400 first", id: stranger, method: "GET", target: "/api/v1/deployments/Web/replicas",
			wantStatus: 400, wantError: `invalid name "Web"`},
		{name: "list filtered to the team's namespace", id: dev, method: "GET", target: "/api/v1/deployments",
			wantStatus: 200, wantBody: "[" + itemDefaultAPI + "," + itemDefaultUnset + "," + itemDefaultWeb + "]"},
		{name: "list filtered to one deployment", id: bot, method: "GET", target: "/api/v1/deployments",
			wantStatus: 200, wantBody: "[" + itemShopWeb + "]"},
		{name: "list of everything", id: viewer, method: "GET", target: "/api/v1/deployments?labelSelector=app%3Dweb",
			wantStatus: 200, wantBody: "[" + itemDefaultWeb + "," + itemShopWeb + "]"},
		{name: "namespaced list of a forbidden namespace", id: dev, method: "GET", target: "/api/v1/namespaces/shop/deployments",
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not list deployments in namespace "shop"`},
		{name: "list of a forbidden namespace by query", id: dev, method: "GET", target: "/api/v1/deployments?namespace=alpha",
			wantStatus: 403, wantError: `CN=bob (groups: team-a) may not list deployments in namespace "alpha"`},
		{name: "list without any list permission", id: stranger, method: "GET", target: "/api/v1/deployments",
			wantStatus: 403, wantError: `CN=eve (no groups) may not list deployments in any namespace`},
		{name: "health for everyone", id: stranger, method: "GET", target: "/api/v1/health",
			wantStatus: 200, wantBody: `{"status":"healthy","kubernetes":"connected"}`},
		{name: "405 passes through", id: stranger, method: "DELETE", target: "/api/v1/deployments/web/replicas",
			wantStatus: 405, wantError: "method DELETE is not allowed on this path; allowed: GET, HEAD, PUT"},
		{name: "no identity", id: nil, method: "GET", target: "/api/v1/deployments/web/replicas",
			wantStatus: 403, wantError: "the request carries no verified client identity, so the authorization policy cannot allow it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withPolicy(t, apiTestPolicy))
			rec, info := f.requestAs(tt.id, tt.method, tt.target, tt.body, "Content-Type", json)
			if tt.wantError != "" {
				msg := checkError(t, rec, tt.wantStatus)
				if msg != tt.wantError && !(tt.wantStatus == 400 && strings.HasPrefix(msg, tt.wantError)) {
					t.Errorf("message\n got %q\nwant %q", msg, tt.wantError)
				}
				if info.Status != tt.wantStatus || info.Reason != msg {
					t.Errorf("requestinfo Status/Reason = %d %q, want %d and the message", info.Status, info.Reason, tt.wantStatus)
				}
			} else if tt.wantBody != "" {
				checkBody(t, rec, tt.wantStatus, tt.wantBody)
			} else if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := len(f.scaler.Calls()) > 0; got != tt.wantScale {
				t.Errorf("Scale called: %v, want %v", got, tt.wantScale)
			}
			if rec.Code == http.StatusForbidden && f.store.gets > 0 {
				t.Errorf("the cache was consulted %d times for a forbidden request", f.store.gets)
			}
		})
	}
}

// TestForbiddenAnswersDoNotRevealExistence compares the whole answers for a
// deployment that exists and one that does not.
func TestForbiddenAnswersDoNotRevealExistence(t *testing.T) {
	f := newFixture(t, withPolicy(t, apiTestPolicy))
	dev := clientIdentity("bob", "team-a")
	for _, method := range []string{"GET", "PUT"} {
		exists, _ := f.requestAs(dev, method, "/api/v1/namespaces/shop/deployments/web/replicas", `{"replicaCount": 1}`, "Content-Type", "application/json")
		missing, _ := f.requestAs(dev, method, "/api/v1/namespaces/shop/deployments/wfb/replicas", `{"replicaCount": 1}`, "Content-Type", "application/json")
		got := strings.ReplaceAll(missing.Body.String(), "wfb", "web")
		if exists.Code != http.StatusForbidden || missing.Code != exists.Code || got != exists.Body.String() {
			t.Errorf("%s: existing %d %s, missing %d %s", method, exists.Code, exists.Body, missing.Code, missing.Body)
		}
	}
}

func TestNoPolicyAllowsEveryone(t *testing.T) {
	f := newFixture(t)
	rec, _ := f.requestAs(clientIdentity("eve"), "PUT", "/api/v1/namespaces/shop/deployments/web/replicas", `{"replicaCount": 99}`, "Content-Type", "application/json")
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT without a policy: %d %s", rec.Code, rec.Body)
	}
	// Nor is an identity needed.
	rec, _ = f.requestAs(nil, "GET", "/api/v1/deployments/web/replicas", "")
	checkBody(t, rec, http.StatusOK, itemDefaultWeb)
}

// Authorizer is a hook point: a wrapper sees every decision.
type recordingAuthorizer struct {
	Authorizer
	decisions []string
}

func (a *recordingAuthorizer) Authorize(id identity.Identity, verb, namespace, name string) error {
	err := a.Authorizer.Authorize(id, verb, namespace, name)
	a.decisions = append(a.decisions, verb+" "+namespace+"/"+name+" "+map[bool]string{true: "allowed", false: "denied"}[err == nil])
	return err
}

func TestAuthorizerCanBeWrapped(t *testing.T) {
	p, err := authz.Parse([]byte(apiTestPolicy))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingAuthorizer{Authorizer: p}
	f := newFixture(t, func(o *Options) { o.Authorizer = rec })
	f.requestAs(clientIdentity("bob", "team-a"), "GET", "/api/v1/deployments/web/replicas", "")
	f.requestAs(clientIdentity("bob", "team-a"), "GET", "/api/v1/namespaces/shop/deployments", "")
	want := []string{"get default/web allowed", "list shop/ denied"}
	if strings.Join(rec.decisions, ";") != strings.Join(want, ";") {
		t.Errorf("decisions %q, want %q", rec.decisions, want)
	}
}
