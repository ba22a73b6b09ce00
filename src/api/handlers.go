package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// listDeployments serves GET /deployments (?namespace= filters, "" = all)
// and GET /namespaces/{namespace}/deployments.
func (s *server) listDeployments(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	namespace, err := namespaceFor(r, q, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	selector, err := labelSelector(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(r, requestinfo.VerbList, namespace, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.waitForMinResourceVersion(r, q, namespace); err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.store.List(namespace, selector)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds = s.visible(r, namespace, ds)
	buf := getBuffer()
	body := appendDeploymentList(*buf, ds)
	writeBody(w, http.StatusOK, body)
	putBuffer(buf, body)
}

// getReplicas serves GET /deployments/{name}/replicas and its namespaced
// variant, with the resourceVersion as a strong ETag.
func (s *server) getReplicas(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	namespace, name, err := s.target(r, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Before the cache lookup: a forbidden deployment is 403 whether or not
	// it exists.
	if err := s.authorize(r, requestinfo.VerbGet, namespace, name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.waitForMinResourceVersion(r, q, namespace); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.store.Get(namespace, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buf := getBuffer()
	body := appendDeployment(*buf, d)
	body = append(body, '\n')
	setETag(w, d.ResourceVersion)
	writeBody(w, http.StatusOK, body)
	putBuffer(buf, body)
}

// putReplicas serves PUT /deployments/{name}/replicas and its namespaced
// variant: validate everything first, then one Scale call.
func (s *server) putReplicas(w http.ResponseWriter, r *http.Request) {
	q, err := query(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	namespace, name, err := s.target(r, q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorize(r, requestinfo.VerbScale, namespace, name); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkContentType(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	ifMatch, err := parseIfMatch(r.Header)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	replicas, err := decodeReplicaCount(body, s.maxReplicas)
	recordRequested(r, replicas, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.authorizeReplicas(r, namespace, name, replicas); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.scaler.Scale(r.Context(), namespace, name, replicas, ifMatch)
	recordScale(r, namespace, name, res, err)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Debug("scaled deployment", "namespace", namespace, "name", name, "replicas", res.Replicas,
		"changed", res.Changed, "conflicts", res.Conflicts, "readYourWritesWait", res.ReadYourWritesWait.String())
	setETag(w, res.ResourceVersion)
	var warnings []string
	if res.ReadYourWritesTimedOut {
		warnings = append(warnings, fmt.Sprintf("the replica count is set, but this server's cache did not show it within %s;"+
			" a read from this server may briefly return the old count", res.ReadYourWritesWait.Round(100*time.Millisecond)))
	}
	addWarnings(w, warnings)
	writeJSON(w, http.StatusOK, putResponse{
		Message:      putMessage,
		Namespace:    namespace,
		Name:         name,
		ReplicaCount: res.Replicas,
		Changed:      res.Changed,
		Warnings:     warnings,
	})
}

// getHealth serves GET /health from the Health's cached state.
func (s *server) getHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.health.Check(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, healthResponse{
			Status: "unhealthy", Kubernetes: "disconnected", Error: err.Error(),
		})
		return
	}
	writeJSON(w, http.StatusOK, healthResponse{Status: "healthy", Kubernetes: "connected"})
}

// waitForMinResourceVersion blocks until the cache has caught up with
// ?minResourceVersion=, bounded by minRVTimeout. A wait that runs out of
// time is ErrResourceVersionTimeout (504) even when the Store reports only
// the context's deadline, which errors.go would otherwise read as the
// Kubernetes API being unreachable.
func (s *server) waitForMinResourceVersion(r *http.Request, q url.Values, namespace string) error {
	rv, err := minResourceVersion(q)
	if err != nil || rv == "" {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.minRVTimeout)
	defer cancel()
	err = s.store.WaitForNamespaceResourceVersion(ctx, namespace, rv)
	if err != nil && r.Context().Err() == nil && errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, deployments.ErrResourceVersionTimeout) {
		return &deployments.Error{
			Kind:    deployments.ErrResourceVersionTimeout,
			Message: fmt.Sprintf("this server's cache did not reach resourceVersion %q within %s", rv, s.minRVTimeout),
		}
	}
	return err
}
