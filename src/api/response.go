package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/replicasd/replicasd/src/deployments"
)

// Header values shared by every response. Assigning these slices directly
// (instead of Header.Set) saves two allocations per request on the hot GET
// path; net/http never modifies them and Header.Set/Add replace or copy.
var (
	headerJSON    = []string{"application/json"}
	headerNosniff = []string{"nosniff"}
)

// maxPooledBuffer keeps one huge list response from pinning its buffer in
// the pool forever.
const maxPooledBuffer = 1 << 20

var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte, used []byte) {
	if cap(used) > maxPooledBuffer {
		return
	}
	*b = used[:0]
	bufferPool.Put(b)
}

// writeBody sends a complete JSON body with one Write, so net/http can send a
// Content-Length instead of chunking.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON
	h["X-Content-Type-Options"] = headerNosniff
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	// A failed write means the client is gone; nothing to do.
	// #nosec G705 -- the body is JSON sent as application/json with nosniff, never rendered as HTML
	_, _ = w.Write(body)
}

// writeJSON marshals v with encoding/json; for the cold paths (errors, PUT,
// health). The hot GETs use appendDeployment.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed struct types reach here; they always marshal.
		body = []byte(`{"error":"internal server error"}`)
		status = http.StatusInternalServerError
	}
	body = append(body, '\n')
	writeBody(w, status, body)
}

// setETag sets the strong entity tag for a resourceVersion.
func setETag(w http.ResponseWriter, resourceVersion string) {
	if resourceVersion == "" {
		return
	}
	w.Header()["Etag"] = []string{`"` + resourceVersion + `"`}
}

// warningCode and warningAgent are what kube-apiserver sends in a Warning
// header (299: miscellaneous persistent warning; no agent), so kubectl's
// and client-go's warning handlers read ours too.
const (
	warningCode  = 299
	warningAgent = "-"
)

// addWarnings adds one Warning header per text, formatted as
// kube-apiserver does: `299 - "<text>"`. The body repeats the texts in
// "warnings" for clients that do not read headers.
func addWarnings(w http.ResponseWriter, texts []string) {
	for _, text := range texts {
		// NewWarningHeader fails only on a text that is not valid UTF-8;
		// ours are built from fixed strings and numbers.
		if h, err := utilnet.NewWarningHeader(warningCode, warningAgent, text); err == nil {
			w.Header().Add("Warning", h)
		}
	}
}

// appendDeploymentList appends the JSON array of ds, in the order given (the
// Store sorts), "[]" when empty.
func appendDeploymentList(b []byte, ds []*deployments.Deployment) []byte {
	b = append(b, '[')
	for i, d := range ds {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDeployment(b, d)
	}
	return append(b, ']', '\n')
}

// appendDeployment appends one item of the contract: namespace, name,
// replicaCount, then the extra fields. It produces what encoding/json would
// for the equivalent struct (tested), without reflection.
func appendDeployment(b []byte, d *deployments.Deployment) []byte {
	b = append(b, `{"namespace":`...)
	b = appendString(b, d.Namespace)
	b = append(b, `,"name":`...)
	b = appendString(b, d.Name)
	b = append(b, `,"replicaCount":`...)
	b = strconv.AppendInt(b, int64(d.Replicas), 10)
	b = append(b, `,"resourceVersion":`...)
	b = appendString(b, d.ResourceVersion)
	b = append(b, `,"readyReplicas":`...)
	b = strconv.AppendInt(b, int64(d.ReadyReplicas), 10)
	b = append(b, `,"availableReplicas":`...)
	b = strconv.AppendInt(b, int64(d.AvailableReplicas), 10)
	b = append(b, `,"updatedReplicas":`...)
	b = strconv.AppendInt(b, int64(d.UpdatedReplicas), 10)
	if d.CreationUnix != 0 {
		b = append(b, `,"creationTimestamp":"`...)
		b = d.CreationTimestamp().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Names and resourceVersions are
// plain ASCII, so they are copied as they are; anything else takes
// encoding/json's path, keeping its escaping (HTML characters, invalid UTF-8).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// putResponse is the body of a successful PUT.
type putResponse struct {
	Message      string `json:"message"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	ReplicaCount int32  `json:"replicaCount"`
	Changed      bool   `json:"changed"`
	// Warnings repeat the answer's Warning headers; absent when none.
	Warnings []string `json:"warnings,omitempty"`
}

// putMessage is the contract's fixed PUT message.
const putMessage = "Replica count updated successfully."

// healthResponse is the body of GET /api/v1/health.
type healthResponse struct {
	Status     string `json:"status"`
	Kubernetes string `json:"kubernetes"`
	Error      string `json:"error,omitempty"`
}
