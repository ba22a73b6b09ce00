package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/identity"
)

// The fuzz targets' seed corpora are in testdata/fuzz/<target>; `make test`
// runs them as ordinary tests and `make fuzz` explores from them.

// FuzzDecodeReplicaCount checks the PUT body decoder against encoding/json:
// whatever it accepts is one JSON object {"replicaCount": n} with n in
// [0, max]; whatever it refuses is a 400.
func FuzzDecodeReplicaCount(f *testing.F) {
	f.Add([]byte(`{"replicaCount": 3}`), int32(100))
	f.Fuzz(func(t *testing.T, body []byte, max int32) {
		if max < 0 {
			max = -(max + 1)
		}
		n, err := decodeReplicaCount(body, max)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status != http.StatusBadRequest || re.msg == "" {
				t.Fatalf("refusal %v is not a 400 with a message", err)
			}
			return
		}
		if n < 0 || n > max {
			t.Fatalf("accepted %d outside [0, %d]", n, max)
		}
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("accepted %q with data after the object", body)
		}
		if len(obj) != 1 {
			t.Fatalf("accepted %q with %d keys", body, len(obj))
		}
		if got, err := strconv.ParseInt(string(obj["replicaCount"]), 10, 32); err != nil || got != int64(n) {
			t.Fatalf("accepted %q as %d, encoding/json reads replicaCount %s", body, n, obj["replicaCount"])
		}
	})
}

// FuzzValidateLabel checks name and namespace validation: it refuses exactly
// what apimachinery refuses, with a 400 naming the value.
func FuzzValidateLabel(f *testing.F) {
	f.Add("web")
	f.Fuzz(func(t *testing.T, value string) {
		valid := len(validation.IsDNS1123Label(value)) == 0
		for _, what := range []string{"name", "namespace"} {
			err := validateLabel(what, value)
			if (err == nil) != valid {
				t.Fatalf("validateLabel(%q) = %v, want valid=%v", value, err, valid)
			}
			var re *requestError
			if err != nil && (!errors.As(err, &re) || re.status != http.StatusBadRequest || !strings.Contains(re.msg, "invalid "+what)) {
				t.Fatalf("refusal %v is not a 400 naming the %s", err, what)
			}
		}
	})
}

// FuzzLabelSelector checks ?labelSelector= parsing: a refusal is a 400, and
// an accepted selector prints as one that parses to the same selector.
func FuzzLabelSelector(f *testing.F) {
	f.Add("app=web,tier!=db")
	f.Fuzz(func(t *testing.T, raw string) {
		sel, err := labelSelector(url.Values{paramLabelSelector: {raw}})
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.status != http.StatusBadRequest {
				t.Fatalf("refusal %v is not a 400", err)
			}
			return
		}
		again, err := labelSelector(url.Values{paramLabelSelector: {sel.String()}})
		if err != nil {
			t.Fatalf("selector %q from %q does not parse again: %v", sel, raw, err)
		}
		if again.String() != sel.String() {
			t.Fatalf("selector %q from %q parses again as %q", sel, raw, again)
		}
	})
}

// nopScaler answers every Scale like the fake, without recording calls, so
// a long fuzzing run does not grow memory.
type nopScaler struct{}

func (nopScaler) Scale(_ context.Context, namespace, name string, replicas int32, _ deployments.IfMatch) (deployments.ScaleResult, error) {
	return deployments.ScaleResult{Namespace: namespace, Name: name, Replicas: replicas, ResourceVersion: "555", Changed: true}, nil
}

// fuzzStatuses are the statuses the handler may answer with healthy fakes.
var fuzzStatuses = map[int]bool{200: true, 400: true, 403: true, 404: true, 405: true, 413: true, 415: true}

// FuzzHandler sends arbitrary requests through the whole handler, with a
// policy, and checks every answer is a well-formed contract response.
func FuzzHandler(f *testing.F) {
	policy, err := authz.Parse([]byte(apiTestPolicy))
	if err != nil {
		f.Fatal(err)
	}
	handler := New(Options{
		Store: newFakeStore(standardDeployments()...), Scaler: nopScaler{}, Health: &fakeHealth{},
		MaxReplicas: 100, Authorizer: policy,
		Logger: slog.New(slog.DiscardHandler),
	})
	methods := []string{"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"}
	ids := []*identity.Identity{nil, clientIdentity("vera", "viewers"), clientIdentity("bob", "team-a"), clientIdentity("ci-bot"), clientIdentity("eve")}
	f.Add(uint8(1), "/api/v1/deployments/web/replicas", `{"replicaCount": 3}`, "application/json", "", uint8(2))
	f.Fuzz(func(t *testing.T, method uint8, target, body, contentType, ifMatch string, who uint8) {
		u, err := url.ParseRequestURI(target)
		if err != nil || u.Host != "" || u.Scheme != "" {
			return // net/http answers 400 before any handler
		}
		r := &http.Request{
			Method: methods[int(method)%len(methods)], URL: u, RequestURI: target,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Host: "replicasd",
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		if id := ids[int(who)%len(ids)]; id != nil {
			r = r.WithContext(identity.With(r.Context(), *id))
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)

		if !fuzzStatuses[rec.Code] {
			t.Fatalf("%s %q: unexpected status %d: %s", r.Method, target, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %q: Content-Type %q", r.Method, target, ct)
		}
		if r.Method == http.MethodHead {
			if rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
				t.Fatalf("HEAD %q: body %q, Content-Length %q; want none, and one", target, rec.Body, rec.Header().Get("Content-Length"))
			}
			return
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %q: body is not JSON: %q", r.Method, target, rec.Body)
		}
		if rec.Code >= 400 {
			var env map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env) != 1 {
				t.Fatalf("%s %q: %d without the error envelope: %s", r.Method, target, rec.Code, rec.Body)
			}
			if msg, ok := env["error"].(string); !ok || msg == "" {
				t.Fatalf("%s %q: %d with an empty error: %s", r.Method, target, rec.Code, rec.Body)
			}
		}
		if rec.Code == 405 && rec.Header().Get("Allow") == "" {
			t.Fatalf("%s %q: 405 without Allow", r.Method, target)
		}
	})
}
