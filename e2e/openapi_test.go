package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Every answer the suite gets from the API (server.do) is checked against
// api/openapi.yaml, successes and errors alike, so a change of the server's
// behaviour that the document does not describe fails the suite. Answers
// that never reach HTTP (refused handshakes) have nothing to check.
//
// server.do runs on many goroutines and outside specs (BeforeSuite), so it
// only records what does not match; the AfterEach below fails the spec that
// saw it.

// spec is the loaded document and its router, built once on first use.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu         sync.Mutex
	mismatches []string
	checked    int
	// operations counts the checked answers by operationId ("" for an
	// answer no operation describes: an unknown path or method).
	operations map[string]int
}

// loadSpec loads and validates api/openapi.yaml.
func loadSpec() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		path := filepath.Join("..", "api", "openapi.yaml") // go test runs in the package directory
		doc, err := loader.LoadFromFile(path)
		if err != nil {
			spec.err = fmt.Errorf("loading %s: %w", path, err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			spec.err = fmt.Errorf("%s is not a valid OpenAPI document: %w", path, err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("routing %s: %w", path, err)
			return
		}
		spec.doc, spec.router = doc, router
	})
	return spec.doc, spec.router, spec.err
}

// checkAgainstSpec records an answer that api/openapi.yaml does not allow.
func checkAgainstSpec(req *http.Request, status int, header http.Header, body []byte) {
	err := validateAgainstSpec(req, status, header, body)
	op := operationOf(req)
	spec.mu.Lock()
	defer spec.mu.Unlock()
	spec.checked++
	if spec.operations == nil {
		spec.operations = map[string]int{}
	}
	spec.operations[op]++
	if err != nil {
		spec.mismatches = append(spec.mismatches,
			fmt.Sprintf("%s %s → %d %s\n  body: %.300s\n  %v", req.Method, req.URL.RequestURI(), status, header.Get("Content-Type"), body, err))
	}
}

// operationOf returns the operationId the document gives req, or "".
func operationOf(req *http.Request) string {
	_, router, err := loadSpec()
	if err != nil {
		return ""
	}
	route, _, err := router.FindRoute(req)
	if err != nil || route.Operation == nil {
		return ""
	}
	return route.Operation.OperationID
}

// checkedSoFar returns how many answers were checked, by operationId.
func checkedSoFar() (int, map[string]int) {
	spec.mu.Lock()
	defer spec.mu.Unlock()
	ops := make(map[string]int, len(spec.operations))
	for k, v := range spec.operations {
		ops[k] = v
	}
	return spec.checked, ops
}

// validateAgainstSpec checks one answer: a documented operation's with
// openapi3filter.ValidateResponse (status, headers, body schema); the 404 of
// an unknown path and the 405 of a wrong method, which no operation
// describes, against the document's Error schema and MethodNotAllowed
// response.
func validateAgainstSpec(req *http.Request, status int, header http.Header, body []byte) error {
	doc, router, err := loadSpec()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		if status != http.StatusNotFound {
			return fmt.Errorf("an undocumented path answered %d, want 404", status)
		}
		return validateEnvelope(doc, header, body)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("an undocumented method answered %d, want 405", status)
		}
		if doc.Components.Responses["MethodNotAllowed"].Value.Headers["Allow"] != nil && header.Get("Allow") == "" {
			return errors.New("405 without the Allow header the document requires")
		}
		return validateEnvelope(doc, header, body)
	case err != nil:
		return fmt.Errorf("finding the operation: %w", err)
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
}

// validateEnvelope checks an error body against components.schemas.Error.
func validateEnvelope(doc *openapi3.T, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("the body is not JSON: %w", err)
	}
	return doc.Components.Schemas["Error"].Value.VisitJSON(v)
}

// takeMismatches returns and clears what was recorded so far.
func takeMismatches() []string {
	spec.mu.Lock()
	defer spec.mu.Unlock()
	out := spec.mismatches
	spec.mismatches = nil
	return out
}

// Every spec ends by checking the answers it got (and any from BeforeSuite
// or an earlier spec's stray goroutine, which the message names).
var _ = AfterEach(func() {
	_, _, err := loadSpec()
	Expect(err).NotTo(HaveOccurred())
	mismatches := takeMismatches()
	Expect(mismatches).To(BeEmpty(), "answers that api/openapi.yaml does not describe:\n%s", strings.Join(mismatches, "\n"))
})

var _ = Describe("the OpenAPI document", func() {
	It("is served at /openapi.yaml and is the document the answers are checked against", func() {
		resp := primary.get("/openapi.yaml")
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		Expect(resp.Header.Get("Content-Type")).To(Equal("application/yaml"))
		served, err := openapi3.NewLoader().LoadFromData([]byte(resp.Body))
		Expect(err).NotTo(HaveOccurred())
		doc, _, err := loadSpec()
		Expect(err).NotTo(HaveOccurred())
		Expect(served.Info.Version).To(Equal(doc.Info.Version))
		Expect(served.Paths.Len()).To(Equal(doc.Paths.Len()))
	})

	It("catches an answer it does not describe", func() {
		// The check itself must be able to fail: a list item without
		// replicaCount, and a 404 of an unknown path without the envelope.
		req, err := http.NewRequest(http.MethodGet, primary.base+"/deployments", nil)
		Expect(err).NotTo(HaveOccurred())
		jsonHeader := http.Header{"Content-Type": {"application/json"}}
		Expect(validateAgainstSpec(req, http.StatusOK, jsonHeader, []byte(`[{"namespace":"a","name":"b"}]`))).
			To(MatchError(ContainSubstring("replicaCount")))
		req, err = http.NewRequest(http.MethodGet, primary.base+"/nope", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(validateAgainstSpec(req, http.StatusNotFound, jsonHeader, []byte(`{"message":"no"}`))).
			To(MatchError(ContainSubstring("error")))
		Expect(validateAgainstSpec(req, http.StatusNotFound, jsonHeader, []byte(`{"error":"no such path: /api/v1/nope"}`))).
			To(Succeed())
	})

	It("checks an answer of every documented operation, and none of them breaks the document", func() {
		// Through server.do, like every spec: if the check were not wired
		// in, or an operation were not exercised, the counts would say so.
		ns := newNamespace("openapi")
		createDeployment(ns, "web", 1)
		one := "/namespaces/" + ns + "/deployments/web/replicas"
		waitServed(primary, one)
		checkedBefore, before := checkedSoFar()
		requests := []struct{ method, path, body string }{
			{http.MethodGet, "/deployments?namespace=" + ns, ""},
			{http.MethodGet, "/namespaces/" + ns + "/deployments", ""},
			{http.MethodGet, "/deployments/web/replicas?namespace=" + ns, ""},
			{http.MethodPut, "/deployments/web/replicas?namespace=" + ns, `{"replicaCount": 2}`},
			{http.MethodGet, one, ""},
			{http.MethodPut, one, `{"replicaCount": 3}`},
			{http.MethodPut, one, `{"replicaCount": "three"}`}, // a 400 is checked too
			{http.MethodGet, "/health", ""},
			{http.MethodGet, "/openapi.yaml", ""},
			// HEAD answers as GET without a body, on every GET path.
			{http.MethodHead, "/deployments?namespace=" + ns, ""},
			{http.MethodHead, "/namespaces/" + ns + "/deployments", ""},
			{http.MethodHead, "/deployments/web/replicas?namespace=" + ns, ""},
			{http.MethodHead, one, ""},
			{http.MethodHead, "/health", ""},
			{http.MethodHead, "/openapi.yaml", ""},
		}
		for _, r := range requests {
			_, err := primary.do(primary.client, r.method, r.path, r.body, nil)
			Expect(err).NotTo(HaveOccurred(), "%s %s", r.method, r.path)
		}
		checkedAfter, after := checkedSoFar()
		Expect(checkedAfter-checkedBefore).To(BeNumerically(">=", len(requests)), "answers checked against the document")
		doc, _, err := loadSpec()
		Expect(err).NotTo(HaveOccurred())
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				Expect(after[op.OperationID]).To(BeNumerically(">", before[op.OperationID]),
					"no answer of %s %s (%s) was checked", method, path, op.OperationID)
			}
		}
		mismatches := takeMismatches()
		Expect(mismatches).To(BeEmpty(), "answers that api/openapi.yaml does not describe:\n%s", strings.Join(mismatches, "\n"))
	})
})
