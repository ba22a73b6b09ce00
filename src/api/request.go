package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/replicasd/replicasd/src/deployments"
)

// maxBodyBytes is the contract's limit for a PUT body (4 KiB).
const maxBodyBytes = 4 << 10

// Query parameters.
const (
	paramNamespace          = "namespace"
	paramLabelSelector      = "labelSelector"
	paramMinResourceVersion = "minResourceVersion"
)

// query parses the query string strictly: a malformed one is a 400 rather
// than silently dropped pairs (url.URL.Query's behaviour). The common case,
// no query at all, costs nothing.
func query(r *http.Request) (url.Values, error) {
	if r.URL.RawQuery == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("invalid query string: %v", err)
	}
	return q, nil
}

// queryParam returns the single value of key ("" when absent); a repeated
// key is ambiguous and refused.
func queryParam(q url.Values, key string) (string, error) {
	vs := q[key]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", badRequest("query parameter %s is given %d times; give it once", key, len(vs))
	}
}

// namespaceFor resolves the namespace of a request: the path's {namespace},
// else ?namespace=, else fallback. A ?namespace= that contradicts the path
// is refused rather than silently ignored.
func namespaceFor(r *http.Request, q url.Values, fallback string) (string, error) {
	qns, err := queryParam(q, paramNamespace)
	if err != nil {
		return "", err
	}
	if ns, ok := mux.Vars(r)["namespace"]; ok {
		if qns != "" && qns != ns {
			return "", badRequest("namespace %q in the path and ?namespace=%s disagree", ns, qns)
		}
		return ns, validateLabel("namespace", ns)
	}
	if qns == "" {
		return fallback, nil
	}
	return qns, validateLabel("namespace", qns)
}

// target resolves and validates the namespace and name of a single-deployment
// request.
func (s *server) target(r *http.Request, q url.Values) (namespace, name string, err error) {
	namespace, err = namespaceFor(r, q, s.defaultNS)
	if err != nil {
		return "", "", err
	}
	name = mux.Vars(r)["name"]
	if err := validateLabel("name", name); err != nil {
		return "", "", err
	}
	return namespace, name, nil
}

// validateLabel checks that value is a DNS-1123 label; apimachinery's
// check supplies the message.
func validateLabel(what, value string) error {
	if msgs := validation.IsDNS1123Label(value); len(msgs) > 0 {
		return badRequest("invalid %s %q: %s", what, value, strings.Join(msgs, "; "))
	}
	return nil
}

// labelSelector parses ?labelSelector= with Kubernetes' syntax; absent means
// everything.
func labelSelector(q url.Values) (labels.Selector, error) {
	raw, err := queryParam(q, paramLabelSelector)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return labels.Everything(), nil
	}
	sel, err := labels.Parse(raw)
	if err != nil {
		return nil, badRequest("invalid labelSelector %q: %v", raw, err)
	}
	return sel, nil
}

// minResourceVersion returns ?minResourceVersion=, tolerating the quotes of
// an ETag pasted as it is.
func minResourceVersion(q url.Values) (string, error) {
	rv, err := queryParam(q, paramMinResourceVersion)
	if err != nil {
		return "", err
	}
	return trimQuotes(rv), nil
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// checkContentType requires application/json (parameters allowed, charset
// only utf-8) on a PUT; anything else, or none, is 415.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	unsupported := func(detail string) error {
		return &requestError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json" + detail}
	}
	if ct == "" {
		return unsupported(", and the request has none")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return unsupported(": " + err.Error())
	}
	if mt != "application/json" {
		return unsupported(", not " + mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupported(" with charset utf-8, not " + cs)
	}
	return nil
}

// parseIfMatch reads the If-Match header (RFC 9110 13.1.1): absent is no
// condition; "*" means the Deployment must exist; otherwise a list of entity
// tags, over one or several header lines, that the scaler compares
// strongly. Weak tags (W/"RV") are kept apart: they never match, so a write
// carrying only weak tags is a 412 (after the 404 of a missing Deployment).
// One bare resourceVersion without quotes is taken as a strong tag: curl
// users forget the quotes. Anything else that is not the RFC's grammar is a
// 400, as is a header with no tag.
func parseIfMatch(h http.Header) (deployments.IfMatch, error) {
	vs := h.Values("If-Match")
	if len(vs) == 0 {
		return deployments.IfMatch{}, nil
	}
	// Several field lines are one comma-separated list (RFC 9110 5.3).
	v := strings.TrimSpace(strings.Join(vs, ","))
	switch {
	case v == "*":
		return deployments.IfMatch{Any: true}, nil
	case v != "" && !strings.ContainsAny(v, "\" ,\t") && !strings.HasPrefix(v, "W/"):
		return deployments.IfMatch{ResourceVersions: []string{v}}, nil
	}
	var m deployments.IfMatch
	for rest := v; ; {
		// Empty list elements and the whitespace around them are allowed
		// (RFC 9110 5.6.1).
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		tag, opaque, tail, ok := cutEntityTag(rest)
		if !ok {
			return deployments.IfMatch{}, badRequest(
				`malformed If-Match %s: give "*" or entity tags like "<resourceVersion>", separated by commas`, strconv.Quote(v))
		}
		if strings.HasPrefix(tag, "W/") {
			m.Weak = append(m.Weak, tag)
		} else {
			m.ResourceVersions = append(m.ResourceVersions, opaque)
		}
		rest = tail
	}
	if !m.Conditional() {
		return deployments.IfMatch{}, badRequest(`If-Match is empty; give "<resourceVersion>"`)
	}
	return m, nil
}

// cutEntityTag cuts one entity-tag ([W/]"opaque", RFC 9110 8.8.3) off the
// start of s, returning it whole, its opaque part without quotes, and what
// follows it up to and including the next comma; ok is false when s does
// not start with an entity tag followed by whitespace, a comma or the end.
func cutEntityTag(s string) (tag, opaque, rest string, ok bool) {
	body := strings.TrimPrefix(s, "W/")
	if body == "" || body[0] != '"' {
		return "", "", "", false
	}
	end := strings.IndexByte(body[1:], '"')
	if end < 0 {
		return "", "", "", false
	}
	opaque = body[1 : 1+end]
	for i := 0; i < len(opaque); i++ {
		// etagc = %x21 / %x23-7E / obs-text
		if c := opaque[i]; c < 0x21 || c == 0x7f {
			return "", "", "", false
		}
	}
	tag = s[:len(s)-len(body)+end+2]
	rest = strings.TrimLeft(body[end+2:], " \t")
	if rest != "" && rest[0] != ',' {
		return "", "", "", false
	}
	return tag, opaque, rest, true
}

// readBody reads a PUT body of at most maxBodyBytes; more is 413.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &requestError{
				status: http.StatusRequestEntityTooLarge,
				msg:    "request body is larger than " + strconv.Itoa(maxBodyBytes) + " bytes",
			}
		}
		return nil, badRequest("reading the request body: %v", err)
	}
	return body, nil
}

// decodeReplicaCount parses a PUT body: exactly one JSON object whose only
// key is "replicaCount" (matched case-sensitively, once), holding an integer
// in [0, max], followed by nothing but whitespace.
func decodeReplicaCount(body []byte, max int32) (int32, error) {
	const example = `{"replicaCount": 3}`
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return 0, badRequest("request body is empty; send a JSON object like %s", example)
	}
	if trimmed[0] != '{' {
		return 0, badRequest("request body must be one JSON object like %s", example)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	invalid := func(err error) error {
		return badRequest("request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != nil { // the '{' checked above
		return 0, invalid(err)
	}
	var raw json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, invalid(err)
		}
		key, _ := tok.(string) // inside an object, More+Token yields a key
		if key != "replicaCount" {
			return 0, badRequest("unknown field %q in request body; the only field is replicaCount", key)
		}
		if raw != nil {
			return 0, badRequest(`duplicate field "replicaCount" in request body`)
		}
		if err := dec.Decode(&raw); err != nil {
			return 0, invalid(err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return 0, invalid(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, badRequest("request body must be one JSON object; found more data after it")
	}
	if raw == nil {
		return 0, badRequest("replicaCount is missing from the request body; send %s", example)
	}
	return parseReplicaCount(raw, max)
}

// countOutOfRange is the 400 of a replicaCount that is an integer outside
// [0, --max-replicas]; it keeps the integer for the audit event.
type countOutOfRange struct {
	requested int64
	err       error
}

func (e *countOutOfRange) Error() string { return e.err.Error() }
func (e *countOutOfRange) Unwrap() error { return e.err }

// parseReplicaCount checks one JSON value: an integer literal (no fraction
// or exponent, as Kubernetes' int32 fields) in [0, max].
func parseReplicaCount(raw json.RawMessage, max int32) (int32, error) {
	s := string(raw)
	switch s[0] {
	case '"':
		return 0, badRequest("replicaCount must be an integer, not the string %s", s)
	case 't', 'f':
		return 0, badRequest("replicaCount must be an integer, not the boolean %s", s)
	case 'n':
		return 0, badRequest("replicaCount must be an integer, not null")
	case '{', '[':
		return 0, badRequest("replicaCount must be an integer, not an object or array")
	}
	if strings.ContainsAny(s, ".eE") {
		return 0, badRequest("replicaCount must be an integer, not %s", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && s[0] == '-':
		return 0, badRequest("replicaCount must not be negative, got %s", s)
	case err != nil:
		// ParseInt fails here only on overflow: the literal is valid JSON.
		return 0, badRequest("replicaCount %s is above the maximum of %d (--max-replicas)", s, max)
	case n < 0:
		return 0, &countOutOfRange{requested: n, err: badRequest("replicaCount must not be negative, got %s", s)}
	case n > int64(max):
		return 0, &countOutOfRange{requested: n, err: badRequest("replicaCount %s is above the maximum of %d (--max-replicas)", s, max)}
	}
	return int32(n), nil // #nosec G115 -- n is in [0, max] and max is an int32
}
