package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// maxResponseBytes bounds what the client reads of one answer; a list of
// many thousand Deployments stays well below it.
const maxResponseBytes = 64 << 20

// maxMessageBytes bounds the text taken from an error answer that has no
// JSON envelope (e.g. an HTML page from a proxy).
const maxMessageBytes = 512

// List returns the Deployments in namespace ("" = every namespace the
// server watches) matching the Kubernetes label selector ("" = all), sorted
// by namespace then name.
func (c *Client) List(ctx context.Context, namespace, selector string) ([]Deployment, error) {
	path := apiPrefix + "/deployments"
	if namespace != "" {
		path = apiPrefix + "/namespaces/" + url.PathEscape(namespace) + "/deployments"
	}
	var q url.Values
	if selector != "" {
		q = url.Values{"labelSelector": {selector}}
	}
	var out []Deployment
	if _, err := c.do(ctx, http.MethodGet, path, q, nil, nil, &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Deployment{}
	}
	return out, nil
}

// Get returns one Deployment and its ETag, the quoted resourceVersion as the
// server sent it (e.g. `"12345"`), for Scale's ifMatch. An empty namespace
// means the server's default namespace.
func (c *Client) Get(ctx context.Context, namespace, name string) (Deployment, string, error) {
	path, err := replicasPath(namespace, name)
	if err != nil {
		return Deployment{}, "", err
	}
	var out Deployment
	h, err := c.do(ctx, http.MethodGet, path, nil, nil, nil, &out)
	if err != nil {
		return Deployment{}, "", err
	}
	return out, h.Get("ETag"), nil
}

// Scale sets the desired replica count and returns the answer with the new
// ETag. A non-empty ifMatch (an ETag from Get, quoted or not) makes the
// write conditional: the server answers 412 and writes nothing when the
// Deployment changed since. An empty namespace means the server's default.
func (c *Client) Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch string) (ScaleResponse, string, error) {
	path, err := replicasPath(namespace, name)
	if err != nil {
		return ScaleResponse{}, "", err
	}
	body, err := json.Marshal(struct {
		ReplicaCount int32 `json:"replicaCount"`
	}{replicas})
	if err != nil { // a struct of one int32 always marshals
		return ScaleResponse{}, "", fmt.Errorf("encoding the request: %w", err)
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if ifMatch != "" {
		header.Set("If-Match", QuoteETag(ifMatch))
	}
	var out ScaleResponse
	h, err := c.do(ctx, http.MethodPut, path, nil, header, body, &out)
	if err != nil {
		return ScaleResponse{}, "", err
	}
	if len(out.Warnings) == 0 {
		out.Warnings = warnings(h)
	}
	return out, h.Get("ETag"), nil
}

// Health returns the server's view of its connection to Kubernetes. An
// unhealthy server answers 503: Health then returns its body together with
// the *APIError.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	_, err := c.do(ctx, http.MethodGet, apiPrefix+"/health", nil, nil, nil, &out)
	if apiErr, ok := errors.AsType[*APIError](err); ok && apiErr.StatusCode == http.StatusServiceUnavailable {
		out = Health{Status: "unhealthy", Kubernetes: "disconnected", Error: apiErr.Message}
	}
	return out, err
}

// warnings returns the texts of the Warning headers, `299 - "<text>"` as
// kube-apiserver and replicasd send them; malformed ones are skipped.
func warnings(h http.Header) []string {
	parsed, _ := utilnet.ParseWarningHeaders(h.Values("Warning"))
	var texts []string
	for _, w := range parsed {
		texts = append(texts, w.Text)
	}
	return texts
}

// QuoteETag returns etag as a strong entity tag, adding the quotes a bare
// resourceVersion lacks.
func QuoteETag(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag
	}
	return `"` + etag + `"`
}

// ResourceVersion returns the resourceVersion inside an ETag, as
// ?minResourceVersion= wants it.
func ResourceVersion(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}

// replicasPath is the namespaced path when the namespace is known, else the
// un-namespaced one (the server's default namespace).
func replicasPath(namespace, name string) (string, error) {
	if name == "" {
		return "", errors.New("no deployment name given")
	}
	if namespace == "" {
		return apiPrefix + "/deployments/" + url.PathEscape(name) + "/replicas", nil
	}
	return apiPrefix + "/namespaces/" + url.PathEscape(namespace) + "/deployments/" + url.PathEscape(name) + "/replicas", nil
}

// do sends one request and decodes a 2xx JSON answer into out. Errors are
// *APIError (the server answered otherwise), *ConnectionError (no answer),
// the caller's context.Canceled, or a decoding error.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, header http.Header, body []byte, out any) (http.Header, error) {
	target := c.base.String() + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reqBody)
	if err != nil {
		return nil, fmt.Errorf("building request %s %s: %w", method, target, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, fmt.Errorf("reading the answer to %s %s: %w", method, target, err))
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("the answer to %s %s is larger than %d bytes", method, target, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &APIError{
			StatusCode: resp.StatusCode,
			Message:    errorMessage(resp.StatusCode, data),
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Method:     method,
			URL:        target,
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("decoding the answer to %s %s (status %d): %w", method, target, resp.StatusCode, err)
	}
	return resp.Header, nil
}

// transportError wraps a failed round trip. The caller's own cancellation
// is passed on as it is: it is not the connection's fault. A connection
// closed without an answer is diagnosed with a second one (serverAlert),
// which tells a refused certificate from a server that went away.
func (c *Client) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return err
	}
	sentCert := c.clientCert != nil
	kind := classify(err, sentCert)
	if kind == KindClosed {
		if alert := c.serverAlert(ctx); alert != nil {
			err, kind = alert, classify(alert, sentCert)
		}
	}
	return &ConnectionError{Kind: kind, Server: c.Server(), ClientCert: c.clientCert, Err: err}
}

// errorMessage takes the message from the contract's {"error": "..."}
// envelope, else a short, printable start of the body, else the status
// text.
func errorMessage(status int, body []byte) string {
	var envelope struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(body, &envelope); err == nil && envelope.Error != nil && *envelope.Error != "" {
		return *envelope.Error
	}
	text := strings.TrimSpace(string(body))
	if text == "" || !utf8.ValidString(text) {
		return http.StatusText(status)
	}
	if len(text) > maxMessageBytes {
		text = strings.ToValidUTF8(text[:maxMessageBytes], "") + "…"
	}
	return strings.Join(strings.Fields(text), " ")
}
