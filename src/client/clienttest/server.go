package clienttest

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/client"
)

// Deployment is a Deployment held by the fake server.
type Deployment struct {
	client.Deployment
	Labels map[string]string
}

// Request is what the fake server received, for assertions.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
	// User is the common name of the client certificate.
	User string
}

// Authorizer decides whether user may do verb ("list", "get" or "scale")
// in namespace ("" for a list of every namespace); a non-nil error becomes
// a 403 with its message.
type Authorizer func(user, verb, namespace string) error

// Server is a fake replicasd API over mutual TLS, requiring client
// certificates signed by its PKI's CA.
type Server struct {
	*httptest.Server
	PKI *PKI

	mu          sync.Mutex
	deployments map[string]*Deployment // by namespace/name
	nextRV      int
	requests    []Request
	authorize   Authorizer
	override    http.Handler
	defaultNS   string
}

// NewServer starts a fake server holding ds, stopped when the test ends.
// Deployments without a resourceVersion get one.
func NewServer(t testing.TB, pki *PKI, ds ...Deployment) *Server {
	t.Helper()
	s := &Server{PKI: pki, deployments: map[string]*Deployment{}, nextRV: 100, defaultNS: "default"}
	for _, d := range ds {
		s.Put(d)
	}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	ts.TLS = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pki.Server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.CA.CertPool(),
	}
	// Refused handshakes are what many tests provoke; keep them out of the
	// test log.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	s.Server = ts
	t.Cleanup(ts.Close)
	return s
}

// Put adds or replaces a Deployment, giving it a new resourceVersion when
// it has none or the same as the one it replaces (someone else's write).
func (s *Server) Put(d Deployment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := d.Namespace + "/" + d.Name
	if old, ok := s.deployments[k]; d.ResourceVersion == "" || (ok && old.ResourceVersion == d.ResourceVersion) {
		d.ResourceVersion = s.newRV()
	}
	s.deployments[k] = &d
}

// Deployment returns the current state of a Deployment.
func (s *Server) Deployment(namespace, name string) (client.Deployment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deployments[namespace+"/"+name]
	if !ok {
		return client.Deployment{}, false
	}
	return d.Deployment, true
}

// Requests returns every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// SetAuthorizer installs a policy; nil allows everything.
func (s *Server) SetAuthorizer(a Authorizer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorize = a
}

// SetHandler makes h answer every request instead of the fake API (after
// recording it), e.g. to send a 503; nil restores the fake API.
func (s *Server) SetHandler(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override = h
}

// SetDefaultNamespace sets the namespace of the un-namespaced paths.
func (s *Server) SetDefaultNamespace(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaultNS = ns
}

// ErrorHandler answers every request with status and the error envelope,
// plus the given headers (e.g. Retry-After).
func ErrorHandler(status int, msg string, header http.Header) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		writeError(w, status, msg)
	})
}

func (s *Server) newRV() string {
	s.nextRV++
	return strconv.Itoa(s.nextRV)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20)) // the fake only records what it gets
	user := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		user = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: string(body), User: user,
	})
	override := s.override
	s.mu.Unlock()
	if override != nil {
		override.ServeHTTP(w, r.WithContext(withBody(r.Context(), body)))
		return
	}
	s.serveAPI(w, r, user, body)
}

// ServeAPI answers r with the fake API, for a handler installed with
// SetHandler that changes state first (e.g. a concurrent write) and then
// lets the fake answer.
func (s *Server) ServeAPI(w http.ResponseWriter, r *http.Request) {
	user := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		user = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	body, ok := r.Context().Value(bodyKey{}).([]byte)
	if !ok {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20)) // a fake: what it got is what it has
	}
	s.serveAPI(w, r, user, body)
}

// bodyKey carries the already read request body to ServeAPI.
type bodyKey struct{}

func withBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, bodyKey{}, body)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, user string, body []byte) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	q := r.URL.Query()
	namespace := q.Get("namespace")
	if len(parts) >= 3 && parts[0] == "namespaces" {
		namespace, parts = parts[1], parts[2:]
	}
	switch {
	case len(parts) == 1 && parts[0] == "deployments":
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on this path; allowed: GET")
			return
		}
		s.list(w, user, namespace, q.Get("labelSelector"))
	case len(parts) == 3 && parts[0] == "deployments" && parts[2] == "replicas":
		switch r.Method {
		case http.MethodGet:
			s.get(w, user, namespace, parts[1])
		case http.MethodPut:
			s.scale(w, r, user, namespace, parts[1], body)
		default:
			w.Header().Set("Allow", "GET, PUT")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on this path; allowed: GET, PUT")
		}
	default:
		writeError(w, http.StatusNotFound, "no such path: "+r.URL.Path)
	}
}

func (s *Server) list(w http.ResponseWriter, user, namespace, selector string) {
	sel, err := labels.Parse(selector)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid labelSelector %q: %v", selector, err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(w, user, "list", namespace) {
		return
	}
	out := []client.Deployment{}
	for _, d := range s.deployments {
		if (namespace == "" || d.Namespace == namespace) && sel.Matches(labels.Set(d.Labels)) {
			out = append(out, d.Deployment)
		}
	}
	slices.SortFunc(out, func(a, b client.Deployment) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, user, namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if namespace == "" {
		namespace = s.defaultNS
	}
	if !s.allowed(w, user, "get", namespace) {
		return
	}
	d, ok := s.deployments[namespace+"/"+name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("deployment %q not found in namespace %q", name, namespace))
		return
	}
	w.Header().Set("ETag", `"`+d.ResourceVersion+`"`)
	writeJSON(w, http.StatusOK, d.Deployment)
}

func (s *Server) scale(w http.ResponseWriter, r *http.Request, user, namespace, name string, body []byte) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, not "+ct)
		return
	}
	var req struct {
		ReplicaCount *int32 `json:"replicaCount"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.ReplicaCount == nil || *req.ReplicaCount < 0 {
		writeError(w, http.StatusBadRequest, `request body must be one JSON object like {"replicaCount": 3}, with a count of 0 or more`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if namespace == "" {
		namespace = s.defaultNS
	}
	if !s.allowed(w, user, "scale", namespace) {
		return
	}
	d, ok := s.deployments[namespace+"/"+name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("deployment %q not found in namespace %q", name, namespace))
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && im != "*" && client.ResourceVersion(im) != d.ResourceVersion {
		writeError(w, http.StatusPreconditionFailed, fmt.Sprintf(
			"deployment %s/%s has resourceVersion %q, not %q as If-Match requires; nothing was written",
			namespace, name, d.ResourceVersion, client.ResourceVersion(im)))
		return
	}
	changed := d.ReplicaCount != *req.ReplicaCount
	if changed {
		d.ReplicaCount = *req.ReplicaCount
		d.ResourceVersion = s.newRV()
	}
	w.Header().Set("ETag", `"`+d.ResourceVersion+`"`)
	writeJSON(w, http.StatusOK, client.ScaleResponse{
		Message: "Replica count updated successfully.", Namespace: namespace, Name: name,
		ReplicaCount: d.ReplicaCount, Changed: changed,
	})
}

// allowed applies the authorizer, answering 403 when it refuses; s.mu is
// held.
func (s *Server) allowed(w http.ResponseWriter, user, verb, namespace string) bool {
	if s.authorize == nil {
		return true
	}
	if err := s.authorize(user, verb, namespace); err != nil {
		writeError(w, http.StatusForbidden, err.Error())
		return false
	}
	return true
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the test's client went away; nothing to do
}

// Created is a fixed-age creation time for fixtures: now minus age,
// truncated to seconds as the API sends it.
func Created(age time.Duration) time.Time {
	return time.Now().Add(-age).UTC().Truncate(time.Second)
}
