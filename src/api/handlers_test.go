package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/deployments"
)

const (
	itemDefaultWeb   = `{"namespace":"default","name":"web","replicaCount":3,"resourceVersion":"100","readyReplicas":2,"availableReplicas":1,"updatedReplicas":3,"creationTimestamp":"2024-05-01T10:00:00Z"}`
	itemDefaultAPI   = `{"namespace":"default","name":"api","replicaCount":0,"resourceVersion":"101","readyReplicas":2,"availableReplicas":1,"updatedReplicas":3,"creationTimestamp":"2024-05-01T10:00:00Z"}`
	itemDefaultUnset = `{"namespace":"default","name":"unset","replicaCount":1,"resourceVersion":"12","readyReplicas":2,"availableReplicas":1,"updatedReplicas":3}`
	itemShopWeb      = `{"namespace":"shop","name":"web","replicaCount":5,"resourceVersion":"200","readyReplicas":2,"availableReplicas":1,"updatedReplicas":3,"creationTimestamp":"2024-05-01T10:00:00Z"}`
	itemAlphaDB      = `{"namespace":"alpha","name":"db","replicaCount":1,"resourceVersion":"300","readyReplicas":2,"availableReplicas":1,"updatedReplicas":3,"creationTimestamp":"2024-05-01T10:00:00Z"}`
)

func TestGetReplicas(t *testing.T) {
	tests := []struct {
		name     string
		opts     func(*Options)
		target   string
		wantBody string
		wantETag string
	}{
		{name: "default namespace", target: "/api/v1/deployments/web/replicas", wantBody: itemDefaultWeb, wantETag: `"100"`},
		{name: "query namespace", target: "/api/v1/deployments/web/replicas?namespace=shop", wantBody: itemShopWeb, wantETag: `"200"`},
		{name: "empty query namespace means default", target: "/api/v1/deployments/web/replicas?namespace=", wantBody: itemDefaultWeb, wantETag: `"100"`},
		{name: "configured default namespace", opts: func(o *Options) { o.DefaultNamespace = "shop" },
			target: "/api/v1/deployments/web/replicas", wantBody: itemShopWeb, wantETag: `"200"`},
		{name: "namespaced path", target: "/api/v1/namespaces/alpha/deployments/db/replicas", wantBody: itemAlphaDB, wantETag: `"300"`},
		{name: "namespaced path with agreeing query", target: "/api/v1/namespaces/shop/deployments/web/replicas?namespace=shop", wantBody: itemShopWeb, wantETag: `"200"`},
		{name: "zero replicas", target: "/api/v1/deployments/api/replicas", wantBody: itemDefaultAPI, wantETag: `"101"`},
		{name: "unset replicas mean 1, zero timestamp omitted", target: "/api/v1/deployments/unset/replicas", wantBody: itemDefaultUnset, wantETag: `"12"`},
		{name: "percent-encoded name", target: "/api/v1/deployments/w%65b/replicas", wantBody: itemDefaultWeb, wantETag: `"100"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*Options)
			if tt.opts != nil {
				opts = append(opts, tt.opts)
			}
			f := newFixture(t, opts...)
			rec := f.request(http.MethodGet, tt.target, "")
			checkBody(t, rec, http.StatusOK, tt.wantBody)
			if got := rec.Header().Get("ETag"); got != tt.wantETag {
				t.Errorf("ETag = %q, want %q", got, tt.wantETag)
			}
			if got, want := rec.Header().Get("Content-Length"), itoa(rec.Body.Len()); got != want {
				t.Errorf("Content-Length = %q, want %q", got, want)
			}
		})
	}
}

func TestListDeployments(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		store   *fakeStore
		want    string
		wantNS  string
		wantSel string
	}{
		{name: "all namespaces sorted", target: "/api/v1/deployments",
			want: "[" + itemAlphaDB + "," + itemDefaultAPI + "," + itemDefaultUnset + "," + itemDefaultWeb + "," + itemShopWeb + "]"},
		{name: "query namespace", target: "/api/v1/deployments?namespace=shop", want: "[" + itemShopWeb + "]", wantNS: "shop"},
		{name: "empty query namespace means all", target: "/api/v1/deployments?namespace=",
			want: "[" + itemAlphaDB + "," + itemDefaultAPI + "," + itemDefaultUnset + "," + itemDefaultWeb + "," + itemShopWeb + "]"},
		{name: "namespaced path", target: "/api/v1/namespaces/default/deployments",
			want: "[" + itemDefaultAPI + "," + itemDefaultUnset + "," + itemDefaultWeb + "]", wantNS: "default"},
		{name: "label selector equality", target: "/api/v1/deployments?labelSelector=app%3Dweb",
			want: "[" + itemDefaultWeb + "," + itemShopWeb + "]", wantSel: "app=web"},
		{name: "label selector set-based with namespace", target: "/api/v1/namespaces/default/deployments?labelSelector=tier+in+(front,back),app!=api",
			want: "[" + itemDefaultWeb + "]", wantNS: "default", wantSel: "app!=api,tier in (back,front)"},
		{name: "selector matching nothing", target: "/api/v1/deployments?labelSelector=app%3Dnone", want: "[]", wantSel: "app=none"},
		{name: "unwatched namespace filter is an empty list", target: "/api/v1/deployments?namespace=empty", want: "[]", wantNS: "empty"},
		{name: "empty cache", target: "/api/v1/deployments", store: newFakeStore(), want: "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*Options)
			if tt.store != nil {
				mutate = append(mutate, func(o *Options) { o.Store = tt.store })
			}
			f := newFixture(t, mutate...)
			if tt.store != nil {
				f.store = tt.store
			}
			rec := f.request(http.MethodGet, tt.target, "")
			checkBody(t, rec, http.StatusOK, tt.want)
			if !reflect.DeepEqual(f.store.listNS, []string{tt.wantNS}) {
				t.Errorf("Store.List namespaces = %q, want [%q]", f.store.listNS, tt.wantNS)
			}
			if !reflect.DeepEqual(f.store.listSels, []string{tt.wantSel}) {
				t.Errorf("Store.List selectors = %q, want [%q]", f.store.listSels, tt.wantSel)
			}
		})
	}
}

func TestPutReplicas(t *testing.T) {
	tests := []struct {
		name        string
		target      string
		body        string
		headers     []string
		contentType string
		noop        bool
		want        string
		wantCall    scaleCall
	}{
		{name: "default namespace", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 7}`,
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":7,"changed":true}`,
			wantCall: scaleCall{"default", "web", 7, deployments.IfMatch{}}},
		{name: "query namespace", target: "/api/v1/deployments/web/replicas?namespace=shop", body: `{"replicaCount":0}`,
			want:     `{"message":"Replica count updated successfully.","namespace":"shop","name":"web","replicaCount":0,"changed":true}`,
			wantCall: scaleCall{"shop", "web", 0, deployments.IfMatch{}}},
		{name: "namespaced path", target: "/api/v1/namespaces/shop/deployments/web/replicas", body: `{"replicaCount":100}`,
			want:     `{"message":"Replica count updated successfully.","namespace":"shop","name":"web","replicaCount":100,"changed":true}`,
			wantCall: scaleCall{"shop", "web", 100, deployments.IfMatch{}}},
		{name: "no-op", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":3}`, noop: true,
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":3,"changed":false}`,
			wantCall: scaleCall{"default", "web", 3, deployments.IfMatch{}}},
		{name: "If-Match quoted", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `"100"`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, strong("100")}},
		{name: "If-Match bare", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", ` 100 `},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, strong("100")}},
		{name: "If-Match star means exists", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `*`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, deployments.IfMatch{Any: true}}},
		{name: "If-Match list", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `"99", "100"`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, strong("99", "100")}},
		{name: "If-Match list over several header lines, empty elements", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`,
			headers:  []string{"If-Match", `,"99" ,`, "If-Match", "\t\"100\",,"},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, strong("99", "100")}},
		{name: "If-Match weak is passed on, to fail", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `W/"100"`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, deployments.IfMatch{Weak: []string{`W/"100"`}}}},
		{name: "If-Match weak and strong", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `W/"100", "101"`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, deployments.IfMatch{ResourceVersions: []string{"101"}, Weak: []string{`W/"100"`}}}},
		{name: "If-Match empty tag and a comma inside a tag", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":2}`, headers: []string{"If-Match", `"", "a,b"`},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":2,"changed":true}`,
			wantCall: scaleCall{"default", "web", 2, strong("", "a,b")}},
		{name: "charset and whitespace", target: "/api/v1/deployments/web/replicas", body: " \n{ \"replicaCount\" : 4 }\n\t",
			headers:  []string{"Content-Type", "Application/JSON; charset=UTF-8"},
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":4,"changed":true}`,
			wantCall: scaleCall{"default", "web", 4, deployments.IfMatch{}}},
		{name: "negative zero", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount":-0}`,
			want:     `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":0,"changed":true}`,
			wantCall: scaleCall{"default", "web", 0, deployments.IfMatch{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.scaler.noop = tt.noop
			contentType := tt.contentType
			if contentType == "" {
				contentType = "application/json"
			}
			rec := f.request(http.MethodPut, tt.target, tt.body, append([]string{"Content-Type", contentType}, tt.headers...)...)
			checkBody(t, rec, http.StatusOK, tt.want)
			if got := rec.Header().Get("ETag"); got != `"555"` {
				t.Errorf("ETag = %q, want %q", got, `"555"`)
			}
			if got := f.scaler.Calls(); !reflect.DeepEqual(got, []scaleCall{tt.wantCall}) {
				t.Errorf("Scale calls = %+v, want [%+v]", got, tt.wantCall)
			}
		})
	}
}

// strong is the If-Match condition of a list of strong entity tags.
func strong(rvs ...string) deployments.IfMatch { return deployments.IfMatch{ResourceVersions: rvs} }

func TestBadRequests(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		method  string // default PUT with a valid body
		target  string
		body    string
		headers []string
		want    []string
	}{
		// Names and namespaces.
		{name: "uppercase name GET", method: http.MethodGet, target: "/api/v1/deployments/Web/replicas", want: []string{`invalid name "Web"`, "RFC 1123 label"}},
		{name: "dotted name", method: http.MethodGet, target: "/api/v1/deployments/a.b/replicas", want: []string{`invalid name "a.b"`, "must not contain dots"}},
		{name: "name too long", method: http.MethodGet, target: "/api/v1/deployments/" + long + "/replicas", want: []string{"invalid name", "no more than 63 characters"}},
		{name: "name leading dash", method: http.MethodGet, target: "/api/v1/deployments/-web/replicas", want: []string{`invalid name "-web"`}},
		{name: "name trailing dash", method: http.MethodGet, target: "/api/v1/deployments/web-/replicas", want: []string{`invalid name "web-"`}},
		{name: "name underscore PUT", target: "/api/v1/deployments/my_app/replicas", want: []string{`invalid name "my_app"`}},
		{name: "query namespace invalid", method: http.MethodGet, target: "/api/v1/deployments/web/replicas?namespace=Kube_System", want: []string{`invalid namespace "Kube_System"`}},
		{name: "path namespace invalid", method: http.MethodGet, target: "/api/v1/namespaces/UPPER/deployments/web/replicas", want: []string{`invalid namespace "UPPER"`}},
		{name: "path namespace invalid PUT", target: "/api/v1/namespaces/a.b/deployments/web/replicas", want: []string{`invalid namespace "a.b"`}},
		{name: "list namespace invalid", method: http.MethodGet, target: "/api/v1/deployments?namespace=-x", want: []string{`invalid namespace "-x"`}},
		{name: "list path namespace invalid", method: http.MethodGet, target: "/api/v1/namespaces/x%20y/deployments", want: []string{`invalid namespace "x y"`}},
		{name: "namespace path and query disagree", method: http.MethodGet, target: "/api/v1/namespaces/a/deployments/web/replicas?namespace=b", want: []string{"disagree"}},
		{name: "list namespace path and query disagree", method: http.MethodGet, target: "/api/v1/namespaces/a/deployments?namespace=b", want: []string{"disagree"}},
		{name: "repeated namespace", method: http.MethodGet, target: "/api/v1/deployments?namespace=a&namespace=b", want: []string{"namespace is given 2 times"}},
		{name: "malformed query", method: http.MethodGet, target: "/api/v1/deployments?namespace=%zz", want: []string{"invalid query string"}},
		// Label selectors.
		{name: "bad selector", method: http.MethodGet, target: "/api/v1/deployments?labelSelector=app%3D%3D%3Dx", want: []string{"invalid labelSelector"}},
		{name: "bad selector operator", method: http.MethodGet, target: "/api/v1/deployments?labelSelector=app+notin", want: []string{"invalid labelSelector"}},
		{name: "bad selector value", method: http.MethodGet, target: "/api/v1/namespaces/default/deployments?labelSelector=app%3D%25bad", want: []string{"invalid labelSelector"}},
		// Bodies.
		{name: "empty body", body: " ", want: []string{"request body is empty"}},
		{name: "array body", body: `[{"replicaCount":1}]`, want: []string{"must be one JSON object"}},
		{name: "number body", body: `3`, want: []string{"must be one JSON object"}},
		{name: "string body", body: `"3"`, want: []string{"must be one JSON object"}},
		{name: "invalid JSON", body: `{"replicaCount":}`, want: []string{"not valid JSON"}},
		{name: "truncated JSON", body: `{"replicaCount":3`, want: []string{"not valid JSON"}},
		{name: "unknown field", body: `{"replicaCount":3,"replicas":4}`, want: []string{`unknown field "replicas"`}},
		{name: "only unknown field", body: `{"replicas":4}`, want: []string{`unknown field "replicas"`}},
		{name: "wrong case field", body: `{"ReplicaCount":3}`, want: []string{`unknown field "ReplicaCount"`}},
		{name: "duplicate field", body: `{"replicaCount":3,"replicaCount":4}`, want: []string{"duplicate field"}},
		{name: "trailing object", body: `{"replicaCount":3}{"replicaCount":4}`, want: []string{"more data after it"}},
		{name: "trailing garbage", body: `{"replicaCount":3} x`, want: []string{"more data after it"}},
		{name: "missing replicaCount", body: `{}`, want: []string{"replicaCount is missing"}},
		{name: "fraction", body: `{"replicaCount":1.5}`, want: []string{"must be an integer, not 1.5"}},
		{name: "integral fraction", body: `{"replicaCount":3.0}`, want: []string{"must be an integer, not 3.0"}},
		{name: "exponent", body: `{"replicaCount":1e1}`, want: []string{"must be an integer, not 1e1"}},
		{name: "string", body: `{"replicaCount":"3"}`, want: []string{`must be an integer, not the string "3"`}},
		{name: "boolean", body: `{"replicaCount":true}`, want: []string{"must be an integer, not the boolean true"}},
		{name: "null", body: `{"replicaCount":null}`, want: []string{"must be an integer, not null"}},
		{name: "object", body: `{"replicaCount":{"n":3}}`, want: []string{"must be an integer, not an object or array"}},
		{name: "array", body: `{"replicaCount":[3]}`, want: []string{"must be an integer, not an object or array"}},
		{name: "negative", body: `{"replicaCount":-1}`, want: []string{"must not be negative, got -1"}},
		{name: "hugely negative", body: `{"replicaCount":-99999999999999999999}`, want: []string{"must not be negative"}},
		{name: "above max", body: `{"replicaCount":101}`, want: []string{"replicaCount 101 is above the maximum of 100"}},
		{name: "above int32", body: `{"replicaCount":4294967296}`, want: []string{"above the maximum of 100"}},
		{name: "above int64", body: `{"replicaCount":99999999999999999999}`, want: []string{"above the maximum of 100"}},
		// If-Match.
		{name: "If-Match unterminated", body: `{"replicaCount":1}`, headers: []string{"If-Match", `"100`}, want: []string{"malformed If-Match", `"100`}},
		{name: "If-Match bare list", body: `{"replicaCount":1}`, headers: []string{"If-Match", `1,2`}, want: []string{"malformed If-Match"}},
		{name: "If-Match weak without quotes", body: `{"replicaCount":1}`, headers: []string{"If-Match", `W/100`}, want: []string{"malformed If-Match"}},
		{name: "If-Match missing comma", body: `{"replicaCount":1}`, headers: []string{"If-Match", `"1" "2"`}, want: []string{"malformed If-Match"}},
		{name: "If-Match text after a tag", body: `{"replicaCount":1}`, headers: []string{"If-Match", `"1"x`}, want: []string{"malformed If-Match"}},
		{name: "If-Match star in a list", body: `{"replicaCount":1}`, headers: []string{"If-Match", `*, "1"`}, want: []string{"malformed If-Match"}},
		{name: "If-Match control character", body: `{"replicaCount":1}`, headers: []string{"If-Match", "\"1\x7f\""}, want: []string{"malformed If-Match"}},
		{name: "If-Match blank", body: `{"replicaCount":1}`, headers: []string{"If-Match", ` `}, want: []string{"If-Match is empty"}},
		{name: "If-Match only commas", body: `{"replicaCount":1}`, headers: []string{"If-Match", ` , ,`}, want: []string{"If-Match is empty"}},
		// minResourceVersion.
		{name: "repeated minResourceVersion", method: http.MethodGet, target: "/api/v1/deployments?minResourceVersion=1&minResourceVersion=2", want: []string{"minResourceVersion is given 2 times"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			target := tt.target
			if target == "" {
				target = "/api/v1/deployments/web/replicas"
			}
			var rec = f.request(http.MethodGet, target, "")
			if tt.method == "" {
				rec = f.put(target, tt.body, tt.headers...)
			}
			checkError(t, rec, http.StatusBadRequest, tt.want...)
			if calls := f.scaler.Calls(); len(calls) != 0 {
				t.Errorf("Scale was called: %+v", calls)
			}
			if rec.Header().Get("ETag") != "" {
				t.Errorf("error response has an ETag")
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	valid := `{"replicaCount":3}`
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{name: "exactly 4 KiB", body: valid + strings.Repeat(" ", 4096-len(valid)), status: http.StatusOK},
		{name: "one byte over", body: valid + strings.Repeat(" ", 4097-len(valid)), status: http.StatusRequestEntityTooLarge},
		{name: "far over", body: `{"replicaCount":3,"x":"` + strings.Repeat("x", 1<<20) + `"}`, status: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.put("/api/v1/deployments/web/replicas", tt.body)
			if tt.status == http.StatusOK {
				checkBody(t, rec, http.StatusOK, `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":3,"changed":true}`)
				return
			}
			checkError(t, rec, tt.status, "larger than 4096 bytes")
			if calls := f.scaler.Calls(); len(calls) != 0 {
				t.Errorf("Scale was called: %+v", calls)
			}
		})
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	tests := []struct {
		name        string
		contentType []string
		want        string
	}{
		{name: "missing", want: "the request has none"},
		{name: "text/plain", contentType: []string{"Content-Type", "text/plain"}, want: "not text/plain"},
		{name: "form", contentType: []string{"Content-Type", "application/x-www-form-urlencoded"}, want: "not application/x-www-form-urlencoded"},
		{name: "json suffix type", contentType: []string{"Content-Type", "application/merge-patch+json"}, want: "not application/merge-patch+json"},
		{name: "latin1 charset", contentType: []string{"Content-Type", "application/json; charset=latin1"}, want: "not latin1"},
		{name: "malformed", contentType: []string{"Content-Type", "application/json; ="}, want: "must be application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.request(http.MethodPut, "/api/v1/deployments/web/replicas", `{"replicaCount":3}`, tt.contentType...)
			checkError(t, rec, http.StatusUnsupportedMediaType, tt.want)
			if calls := f.scaler.Calls(); len(calls) != 0 {
				t.Errorf("Scale was called: %+v", calls)
			}
		})
	}
}

func TestMinResourceVersion(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		waitFn   func(ctx context.Context, rv string) error
		status   int
		want     string // body on success, error substring otherwise
		wantRV   string
		wantRead bool
		// retryAfter is the Retry-After wanted; "" means none checked.
		retryAfter string
	}{
		{name: "get reached", target: "/api/v1/deployments/web/replicas?minResourceVersion=100",
			status: http.StatusOK, want: itemDefaultWeb, wantRV: "default/100", wantRead: true},
		{name: "quoted etag accepted", target: "/api/v1/deployments/web/replicas?minResourceVersion=%22100%22",
			status: http.StatusOK, want: itemDefaultWeb, wantRV: "default/100", wantRead: true},
		{name: "list reached", target: "/api/v1/namespaces/shop/deployments?minResourceVersion=200",
			status: http.StatusOK, want: "[" + itemShopWeb + "]", wantRV: "shop/200", wantRead: true},
		{name: "store reports timeout", target: "/api/v1/deployments/web/replicas?minResourceVersion=999",
			waitFn: func(context.Context, string) error {
				return &deployments.Error{Kind: deployments.ErrResourceVersionTimeout, Message: "cache at 500, wanted 999"}
			},
			status: http.StatusGatewayTimeout, want: "cache at 500, wanted 999", wantRV: "default/999"},
		{name: "deadline reached while waiting", target: "/api/v1/deployments?minResourceVersion=999",
			waitFn: func(ctx context.Context, _ string) error {
				if _, ok := ctx.Deadline(); !ok {
					return errors.New("no deadline on the wait")
				}
				<-ctx.Done()
				return ctx.Err()
			},
			status: http.StatusGatewayTimeout, want: `did not reach resourceVersion "999" within 20ms`, wantRV: "/999"},
		{name: "malformed resource version", target: "/api/v1/deployments/web/replicas?minResourceVersion=abc",
			waitFn: func(context.Context, string) error {
				return &deployments.Error{Kind: deployments.ErrInvalid, Message: `minResourceVersion "abc" is not a resourceVersion`}
			},
			status: http.StatusBadRequest, want: `minResourceVersion "abc" is not a resourceVersion`, wantRV: "default/abc"},
		{name: "cache not synced", target: "/api/v1/deployments?minResourceVersion=5",
			waitFn: func(context.Context, string) error { return deployments.NotSynced() },
			status: http.StatusServiceUnavailable, want: "has not synced", wantRV: "/5"},
		// As kube-apiserver answers a list whose resourceVersion is ahead of
		// its storage: 504 "Too large resource version" and Retry-After 1.
		{name: "ahead of the Kubernetes API", target: "/api/v1/deployments?minResourceVersion=99999999",
			waitFn: func(context.Context, string) error { return deployments.ResourceVersionTooLarge("99999999", 500) },
			status: http.StatusGatewayTimeout, want: "Too large resource version: 99999999, current: 500",
			wantRV: "/99999999", retryAfter: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.MinResourceVersionTimeout = 20 * time.Millisecond })
			f.store.waitFn = tt.waitFn
			rec := f.request(http.MethodGet, tt.target, "")
			if tt.status == http.StatusOK {
				checkBody(t, rec, http.StatusOK, tt.want)
			} else {
				checkError(t, rec, tt.status, tt.want)
			}
			if got := rec.Header().Get("Retry-After"); tt.retryAfter != "" && got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if !reflect.DeepEqual(f.store.waitRVs, []string{tt.wantRV}) {
				t.Errorf("WaitForResourceVersion calls = %q, want [%q]", f.store.waitRVs, tt.wantRV)
			}
			read := f.store.gets+len(f.store.listNS) > 0
			if read != tt.wantRead {
				t.Errorf("store read = %v, want %v", read, tt.wantRead)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{name: "healthy", status: http.StatusOK, want: `{"status":"healthy","kubernetes":"connected"}`},
		{name: "unhealthy", err: errors.New(`watch failed: dial tcp 10.0.0.1:443: connect: connection refused`),
			status: http.StatusServiceUnavailable,
			want:   `{"status":"unhealthy","kubernetes":"disconnected","error":"watch failed: dial tcp 10.0.0.1:443: connect: connection refused"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.health.err = tt.err
			checkBody(t, f.request(http.MethodGet, "/api/v1/health", ""), tt.status, tt.want)
		})
	}
}
