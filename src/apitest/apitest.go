// Package apitest sends requests to a running replicasd and reads its
// answers with Gomega: what the integration and e2e suites share. It is a
// test helper; the server never imports it.
package apitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// Response is one answer of the API, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body into a map, failing the spec when it is not a JSON
// object.
func (r Response) JSON() map[string]any {
	ginkgo.GinkgoHelper()
	var m map[string]any
	gomega.Expect(json.Unmarshal([]byte(r.Body), &m)).To(gomega.Succeed(), "body: %s", r.Body)
	return m
}

// ErrorMessage returns the envelope's message, failing the spec unless the
// body is exactly {"error": "<non-empty>"}.
func (r Response) ErrorMessage() string {
	ginkgo.GinkgoHelper()
	m := r.JSON()
	gomega.Expect(m).To(gomega.HaveLen(1), "error envelope: %s", r.Body)
	msg, ok := m["error"].(string)
	gomega.Expect(ok).To(gomega.BeTrue(), "error envelope: %s", r.Body)
	gomega.Expect(msg).NotTo(gomega.BeEmpty())
	return msg
}

// ResourceVersion is the ETag without its quotes.
func (r Response) ResourceVersion() uint64 {
	ginkgo.GinkgoHelper()
	rv, err := strconv.ParseUint(strings.Trim(r.Header.Get("ETag"), `"`), 10, 64)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "ETag %q", r.Header.Get("ETag"))
	return rv
}

// ReplicaCount is a 200 answer's replicaCount.
func (r Response) ReplicaCount() int {
	ginkgo.GinkgoHelper()
	gomega.Expect(r.Status).To(gomega.Equal(http.StatusOK), r.Body)
	return int(r.JSON()["replicaCount"].(float64))
}

// Do sends method url with body (as JSON when not empty) and header, and
// reads the whole answer. check, when not nil, sees every answer read
// (the e2e suite validates them against the OpenAPI document).
func Do(client *http.Client, method, url, body string, header map[string]string, check func(*http.Request, *http.Response, []byte)) (Response, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && check != nil {
		check(req, resp, b)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}, err
}
