package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	serverapi "github.com/replicasd/replicasd/src/api"
)

// specPath is the API's OpenAPI document, relative to this package.
const specPath = "../../api/openapi.yaml"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("loading %s: %v", specPath, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specPath, err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	scheme := doc.Components.SecuritySchemes["mutualTLS"]
	if scheme == nil || scheme.Value.Type != "mutualTLS" {
		t.Errorf("security scheme mutualTLS missing or of the wrong type")
	}
	if len(doc.Security) != 1 || doc.Security[0]["mutualTLS"] == nil {
		t.Errorf("the document does not require mutualTLS globally: %v", doc.Security)
	}
}

// TestOpenAPIOperations pins each operation's documented statuses to the
// contract's status table.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadSpec(t)
	read := []string{"200", "400", "403", "404", "429", "500", "503", "504", "default"}
	write := []string{"200", "400", "403", "404", "412", "413", "415", "429", "500", "502", "503", "default"}
	tests := []struct {
		name, method, path, operationID string
		statuses                        []string
	}{
		{name: "list", method: http.MethodGet, path: "/deployments", operationID: "listDeployments", statuses: read},
		{name: "namespaced list", method: http.MethodGet, path: "/namespaces/{namespace}/deployments", operationID: "listNamespacedDeployments", statuses: read},
		{name: "get", method: http.MethodGet, path: "/deployments/{name}/replicas", operationID: "getReplicas", statuses: read},
		{name: "namespaced get", method: http.MethodGet, path: "/namespaces/{namespace}/deployments/{name}/replicas", operationID: "getNamespacedReplicas", statuses: read},
		{name: "put", method: http.MethodPut, path: "/deployments/{name}/replicas", operationID: "putReplicas", statuses: write},
		{name: "namespaced put", method: http.MethodPut, path: "/namespaces/{namespace}/deployments/{name}/replicas", operationID: "putNamespacedReplicas", statuses: write},
		{name: "health", method: http.MethodGet, path: "/health", operationID: "getHealth", statuses: []string{"200", "429", "503", "default"}},
		{name: "openapi", method: http.MethodGet, path: "/openapi.yaml", operationID: "getOpenAPI", statuses: []string{"200", "default"}},
		{name: "head list", method: http.MethodHead, path: "/deployments", operationID: "headDeployments", statuses: read},
		{name: "head namespaced list", method: http.MethodHead, path: "/namespaces/{namespace}/deployments", operationID: "headNamespacedDeployments", statuses: read},
		{name: "head get", method: http.MethodHead, path: "/deployments/{name}/replicas", operationID: "headReplicas", statuses: read},
		{name: "head namespaced get", method: http.MethodHead, path: "/namespaces/{namespace}/deployments/{name}/replicas", operationID: "headNamespacedReplicas", statuses: read},
		{name: "head health", method: http.MethodHead, path: "/health", operationID: "headHealth", statuses: []string{"200", "503", "default"}},
		{name: "head openapi", method: http.MethodHead, path: "/openapi.yaml", operationID: "headOpenAPI", statuses: []string{"200", "default"}},
	}
	documented := 0
	for _, item := range doc.Paths.Map() {
		documented += len(item.Operations())
	}
	if documented != len(tests) {
		t.Errorf("the document has %d operations, the test knows %d", documented, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := doc.Paths.Value(tt.path)
			if item == nil {
				t.Fatalf("path %s missing", tt.path)
			}
			op := item.GetOperation(tt.method)
			if op == nil {
				t.Fatalf("%s %s missing", tt.method, tt.path)
			}
			if op.OperationID != tt.operationID {
				t.Errorf("operationId = %q, want %q", op.OperationID, tt.operationID)
			}
			var got []string
			for status := range op.Responses.Map() {
				got = append(got, status)
			}
			slices.Sort(got)
			want := slices.Clone(tt.statuses)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("statuses = %v, want %v", got, want)
			}
		})
	}
	// 405 is a property of a path, not of an operation: it is a reusable
	// response with its Allow header.
	if r := doc.Components.Responses["MethodNotAllowed"]; r == nil || r.Value.Headers["Allow"] == nil {
		t.Error("components.responses.MethodNotAllowed with an Allow header is missing")
	}
}

// TestOpenAPICoversTheRouter keeps the document in step with the server:
// every route the api package registers is documented.
func TestOpenAPICoversTheRouter(t *testing.T) {
	doc := loadSpec(t)
	for _, rt := range serverapi.Routes() {
		path := strings.TrimPrefix(rt.Path, "/api/v1")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("route %s %s (%s) is not in the OpenAPI document", rt.Method, rt.Path, rt.Name)
		}
		// Every GET path answers HEAD too.
		if item != nil && rt.Method == http.MethodGet && item.GetOperation(http.MethodHead) == nil {
			t.Errorf("HEAD %s (%s) is not in the OpenAPI document", rt.Path, rt.Name)
		}
	}
}

func TestOpenAPIAdditionalProperties(t *testing.T) {
	doc := loadSpec(t)
	schemas := doc.Components.Schemas
	if has := schemas["ReplicaCountRequest"].Value.AdditionalProperties.Has; has == nil || *has {
		t.Error("ReplicaCountRequest must set additionalProperties: false")
	}
	for _, name := range []string{"Replicas", "UpdateResponse", "Error", "HealthHealthy", "HealthUnhealthy"} {
		if has := schemas[name].Value.AdditionalProperties.Has; has != nil && !*has {
			t.Errorf("%s must allow additional properties (the contract lets the server add fields)", name)
		}
	}
}

// route finds the documented operation for a request.
func route(t *testing.T, router routers.Router, req *http.Request) (*routers.Route, map[string]string) {
	t.Helper()
	r, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("no documented operation for %s %s: %v", req.Method, req.URL, err)
	}
	return r, params
}

func TestOpenAPIResponses(t *testing.T) {
	doc := loadSpec(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://localhost:8443/api/v1"
	etag := http.Header{"Etag": {`"12345"`}}
	retry := http.Header{"Retry-After": {"5"}}
	tests := []struct {
		name, method, url string
		status            int
		header            http.Header
		body              string
		wantErr           string // "" = valid
	}{
		{name: "list", method: http.MethodGet, url: base + "/deployments?labelSelector=app%3Dweb", status: 200,
			body: `[{"namespace":"default","name":"web","replicaCount":3,"resourceVersion":"12345","readyReplicas":3,` +
				`"availableReplicas":3,"updatedReplicas":3,"creationTimestamp":"2026-01-02T03:04:05Z"},` +
				`{"namespace":"team-a","name":"api","replicaCount":1}]`},
		{name: "list with a field added later", method: http.MethodGet, url: base + "/namespaces/team-a/deployments", status: 200,
			body: `[{"namespace":"team-a","name":"api","replicaCount":1,"paused":true}]`},
		{name: "empty list", method: http.MethodGet, url: base + "/deployments", status: 200, body: `[]`},
		{name: "get", method: http.MethodGet, url: base + "/namespaces/default/deployments/web/replicas", status: 200, header: etag,
			body: `{"namespace":"default","name":"web","replicaCount":3,"resourceVersion":"12345"}`},
		{name: "put", method: http.MethodPut, url: base + "/deployments/web/replicas?namespace=default", status: 200, header: etag,
			body: `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":5,"changed":true}`},
		{name: "not found", method: http.MethodGet, url: base + "/deployments/web/replicas", status: 404,
			body: `{"error":"deployment \"web\" not found in namespace \"default\""}`},
		{name: "stale if-match", method: http.MethodPut, url: base + "/namespaces/default/deployments/web/replicas", status: 412,
			body: `{"error":"deployment default/web has resourceVersion \"2\", not \"1\" as If-Match requires"}`},
		{name: "not synced", method: http.MethodGet, url: base + "/deployments", status: 503, header: retry,
			body: `{"error":"the deployment cache is not synced yet"}`},
		{name: "health", method: http.MethodGet, url: base + "/health", status: 200, body: `{"status":"healthy","kubernetes":"connected"}`},
		{name: "unhealthy", method: http.MethodGet, url: base + "/health", status: 503,
			body: `{"status":"unhealthy","kubernetes":"disconnected","error":"watch failed"}`},
		{name: "undocumented status takes the envelope", method: http.MethodGet, url: base + "/deployments", status: 418,
			body: `{"error":"teapot"}`},

		{name: "get without ETag", method: http.MethodGet, url: base + "/namespaces/default/deployments/web/replicas", status: 200,
			body: `{"namespace":"default","name":"web","replicaCount":3}`, wantErr: `response header "ETag"`},
		{name: "item without replicaCount", method: http.MethodGet, url: base + "/deployments", status: 200,
			body: `[{"namespace":"default","name":"web"}]`, wantErr: "replicaCount"},
		{name: "negative count", method: http.MethodGet, url: base + "/deployments", status: 200,
			body: `[{"namespace":"default","name":"web","replicaCount":-1}]`, wantErr: "minimum"},
		{name: "wrong message", method: http.MethodPut, url: base + "/deployments/web/replicas", status: 200, header: etag,
			body: `{"message":"ok","namespace":"default","name":"web","replicaCount":5}`, wantErr: "const"},
		{name: "error without envelope", method: http.MethodGet, url: base + "/deployments/web/replicas", status: 404,
			body: `{"message":"not found"}`, wantErr: "error"},
		{name: "429 without Retry-After", method: http.MethodGet, url: base + "/deployments", status: 429,
			body: `{"error":"slow down"}`, wantErr: `response header "Retry-After"`},
		{name: "unhealthy without a reason", method: http.MethodGet, url: base + "/health", status: 503,
			body: `{"status":"unhealthy","kubernetes":"disconnected"}`, wantErr: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.url, nil)
			rt, params := route(t, router, req)
			header := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tt.header {
				header[k] = v
			}
			input := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: rt},
				Status:                 tt.status,
				Header:                 header,
				Body:                   io.NopCloser(strings.NewReader(tt.body)),
				Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
			}
			err := openapi3filter.ValidateResponse(context.Background(), input)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("valid response refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("invalid response accepted, want an error about %s", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error = %v, want one about %s", err, tt.wantErr)
			}
		})
	}
}

func TestOpenAPIRequests(t *testing.T) {
	doc := loadSpec(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, body, ifMatch string
		wantErr                  string
	}{
		{name: "scale", url: "/namespaces/team-a/deployments/api/replicas", body: `{"replicaCount":3}`, ifMatch: `"12"`},
		{name: "scale to zero", url: "/deployments/api/replicas?namespace=team-a", body: `{"replicaCount":0}`},
		{name: "unknown field", url: "/deployments/api/replicas", body: `{"replicaCount":3,"replicas":3}`, wantErr: "replicas"},
		{name: "missing count", url: "/deployments/api/replicas", body: `{}`, wantErr: "replicaCount"},
		{name: "negative", url: "/deployments/api/replicas", body: `{"replicaCount":-1}`, wantErr: "minimum"},
		{name: "not an integer", url: "/deployments/api/replicas", body: `{"replicaCount":1.5}`, wantErr: "integer"},
		{name: "name not a DNS label", url: "/namespaces/team-a/deployments/Web_1/replicas", body: `{"replicaCount":1}`, wantErr: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPut, "https://localhost:8443/api/v1"+tt.url, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.ifMatch != "" {
				req.Header.Set("If-Match", tt.ifMatch)
			}
			rt, params := route(t, router, req)
			err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: rt,
				// The TLS handshake authenticates; there is nothing to check per request.
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("valid request refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("invalid request accepted, want an error about %s", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error = %v, want one about %s", err, tt.wantErr)
			}
		})
	}
}
