package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestOverTLS drives the handler through a real TLS listener and client,
// where net/http (not the recorder) frames the responses.
func TestOverTLS(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewTLSServer(f.handler)
	defer srv.Close()
	client := srv.Client()

	do := func(t *testing.T, method, path, body, contentType string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TLS == nil {
			t.Error("response did not come over TLS")
		}
		return resp, b
	}

	t.Run("get one", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, "/api/v1/namespaces/shop/deployments/web/replicas", "", "")
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != itemShopWeb {
			t.Errorf("got %d %s, want 200 %s", resp.StatusCode, body, itemShopWeb)
		}
		if got := resp.Header.Get("ETag"); got != `"200"` {
			t.Errorf("ETag = %q", got)
		}
		checkJSONHeaders(t, resp.Header)
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("Content-Length = %d, body has %d bytes", resp.ContentLength, len(body))
		}
	})
	t.Run("list", func(t *testing.T) {
		resp, body := do(t, http.MethodGet, "/api/v1/deployments?labelSelector=app%3Dweb", "", "")
		want := "[" + itemDefaultWeb + "," + itemShopWeb + "]"
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Errorf("got %d %s, want 200 %s", resp.StatusCode, body, want)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
			t.Errorf("Content-Length = %q, body has %d bytes", got, len(body))
		}
	})
	t.Run("head", func(t *testing.T) {
		get, getBody := do(t, http.MethodGet, "/api/v1/namespaces/shop/deployments/web/replicas", "", "")
		head, headBody := do(t, http.MethodHead, "/api/v1/namespaces/shop/deployments/web/replicas", "", "")
		if head.StatusCode != http.StatusOK || len(headBody) != 0 {
			t.Errorf("HEAD: %d with %d body bytes, want 200 and none", head.StatusCode, len(headBody))
		}
		if got := head.Header.Get("Content-Length"); got != strconv.Itoa(len(getBody)) {
			t.Errorf("HEAD Content-Length = %q, the GET's body has %d bytes", got, len(getBody))
		}
		if head.Header.Get("ETag") != get.Header.Get("ETag") {
			t.Errorf("HEAD ETag %q, GET %q", head.Header.Get("ETag"), get.Header.Get("ETag"))
		}
		// The connection is still in step: the next request on it works.
		if again, _ := do(t, http.MethodGet, "/api/v1/health", "", ""); again.StatusCode != http.StatusOK {
			t.Errorf("GET after HEAD: %d", again.StatusCode)
		}
	})
	t.Run("put", func(t *testing.T) {
		resp, body := do(t, http.MethodPut, "/api/v1/deployments/web/replicas", `{"replicaCount":4}`, "application/json")
		want := `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":4,"changed":true}`
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Errorf("got %d %s, want 200 %s", resp.StatusCode, body, want)
		}
		if got := resp.Header.Get("ETag"); got != `"555"` {
			t.Errorf("ETag = %q", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name, method, path, body, contentType string
			status                                int
			allow                                 string
		}{
			{name: "405", method: http.MethodDelete, path: "/api/v1/deployments/web/replicas", status: http.StatusMethodNotAllowed, allow: "GET, HEAD, PUT"},
			{name: "404 encoded slash", method: http.MethodGet, path: "/api/v1/deployments/a%2Fb/replicas", status: http.StatusNotFound},
			{name: "404 deployment", method: http.MethodGet, path: "/api/v1/deployments/nope/replicas", status: http.StatusNotFound},
			{name: "413", method: http.MethodPut, path: "/api/v1/deployments/web/replicas", body: strings.Repeat(" ", 5000), contentType: "application/json", status: http.StatusRequestEntityTooLarge},
			{name: "415", method: http.MethodPut, path: "/api/v1/deployments/web/replicas", body: `{"replicaCount":1}`, contentType: "text/plain", status: http.StatusUnsupportedMediaType},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := do(t, tt.method, tt.path, tt.body, tt.contentType)
				checkErrorResponse(t, resp.StatusCode, resp.Header, body, tt.status)
				if got := resp.Header.Get("Allow"); got != tt.allow {
					t.Errorf("Allow = %q, want %q", got, tt.allow)
				}
			})
		}
	})
}
