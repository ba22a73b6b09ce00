// Package requestinfo carries what a handler learned about one API request
// (its verb, target, before/after state and outcome) back out to the
// middleware that records it: metrics, audit events, logs. The middleware
// puts an *Info in the request context before the handler runs; the handler
// fills it in. Its [Recorder] is the one ResponseWriter wrapper those
// middleware record the answer's status through. It has no dependencies, so
// every part can use it.
package requestinfo

import (
	"context"
	"net/http"
)

// Verbs, as used in audit events and authorization rules.
const (
	VerbGet    = "get"
	VerbList   = "list"
	VerbScale  = "scale"
	VerbHealth = "health"
)

// Info describes one request. Fields the handler does not know stay zero.
// It is only touched by the goroutine serving the request.
type Info struct {
	// RequestID identifies the request in audit events and logs: the
	// client's X-Request-ID when it sent a usable one, else a generated one.
	RequestID string
	// Route is the mux path template of the matched route ("" when no
	// route matched), for metric labels that must not carry raw paths.
	Route string

	Verb      string
	Namespace string
	Name      string

	// For scale requests: the count the client asked for, once its body
	// held an integer (even one refused as out of range), and the state
	// before and after the write.
	ReplicasRequested     *int64
	ReplicasBefore        *int32
	ReplicasAfter         *int32
	ResourceVersionBefore string
	ResourceVersionAfter  string
	Changed               bool

	// Set by the error mapping: the status and the message of the error
	// envelope ("" on success).
	Status int
	Reason string
}

type key struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request's Info, or nil when no middleware set one.
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(key{}).(*Info)
	return info
}

// FromRequest is From(r.Context()), or a throwaway Info when none was set,
// so handlers can fill it in without checking.
func FromRequest(r *http.Request) *Info {
	if info := From(r.Context()); info != nil {
		return info
	}
	return &Info{}
}
