// Package audit writes replicasd's audit events: one JSON line per write,
// per refused request (401, 403, 429), per failed TLS handshake and, with
// --audit-reads, per read, on a stream of their own (--audit-log-path).
// docs/audit.md documents the event schema, and
// docs/audit-event.schema.json holds it as a JSON Schema.
package audit

import (
	"time"

	"github.com/replicasd/replicasd/src/identity"
)

// Kinds of event.
const (
	// KindRequest is an HTTP request on the API port.
	KindRequest = "request"
	// KindTLSHandshake is a connection whose TLS handshake failed: it never
	// became a request.
	KindTLSHandshake = "tlsHandshake"
)

// Event is one audit event, one JSON object per line.
type Event struct {
	// Time is when the request arrived or the handshake failed, in UTC.
	Time time.Time `json:"time"`
	// Kind is KindRequest or KindTLSHandshake.
	Kind string `json:"kind"`
	// RequestID is the request's X-Request-ID, as echoed in the response:
	// the client's own when it sent a usable one, else generated. Failed
	// handshakes get a generated one.
	RequestID string `json:"requestID"`
	// Client is the identity of the client certificate: CN as user, O as
	// groups, its serial number (hex) and its issuer. Absent when unknown
	// (a failed handshake, unless the certificate was parsed and refused).
	Client *identity.Identity `json:"client,omitempty"`
	// RemoteAddr is the client's address, host:port.
	RemoteAddr string `json:"remoteAddr"`

	// Method and Path are the HTTP method and URL path (without the query).
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	// Verb is get, list, scale or health; absent for a path that matched
	// no route.
	Verb      string `json:"verb,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`

	// Replicas and ResourceVersion are the Deployment's desired count and
	// resourceVersion before and after a scale; "after" is absent when
	// nothing was written or the write failed, "before" when the
	// Deployment was never read.
	Replicas        *ReplicasChange `json:"replicas,omitempty"`
	ResourceVersion *VersionChange  `json:"resourceVersion,omitempty"`

	// Outcome is the answer.
	Outcome Outcome `json:"outcome"`
	// LatencySeconds is how long the request took to answer; absent for
	// failed handshakes.
	LatencySeconds float64 `json:"latencySeconds,omitempty"`
}

// ReplicasChange is a replica count before and after a scale, and the
// count the client asked for.
type ReplicasChange struct {
	// Requested is the replicaCount of the PUT's body, whenever it was an
	// integer: also on refused and failed PUTs, so the event says what was
	// attempted.
	Requested *int64 `json:"requested,omitempty"`
	Before    *int32 `json:"before,omitempty"`
	After     *int32 `json:"after,omitempty"`
}

// VersionChange is a resourceVersion before and after a scale.
type VersionChange struct {
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Outcome is how a request or a handshake ended.
type Outcome struct {
	// Status is the HTTP status code; 0 for a failed handshake.
	Status int `json:"status"`
	// Reason is the status text ("OK", "Forbidden", "Too Many Requests")
	// for a request, and one of the handshakes package's reasons
	// (no_certificate, unknown_authority, expired, bad_usage, protocol,
	// other) for a failed handshake.
	Reason string `json:"reason"`
	// Message is the error envelope's message of a refused or failed
	// request, or the TLS error of a failed handshake.
	Message string `json:"message,omitempty"`
}
