package api

import (
	"net/http"
	"strconv"

	apispec "github.com/replicasd/replicasd/api"
)

// headerYAML is the media type of the OpenAPI document (RFC 9512).
var headerYAML = []string{"application/yaml"}

// getOpenAPI serves GET /openapi.yaml: the OpenAPI document of this API,
// embedded at build time so it always describes the running version. Every
// verified client may read it: it says nothing about the cluster.
func (s *server) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = headerYAML
	h["X-Content-Type-Options"] = headerNosniff
	h["Content-Length"] = []string{strconv.Itoa(len(apispec.OpenAPI))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(apispec.OpenAPI) // a failed write means the client is gone
}
