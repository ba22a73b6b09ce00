// Package fakeapiserver serves, over plain HTTP, the slice of the
// Kubernetes API that replicasd uses: list and watch of apps/v1 Deployments
// (with the streaming "watch list" that client-go tries first), their scale
// subresource, and /readyz. Tests use it where client-go's
// real REST client matters, for example to see the requests it makes;
// k8s.io/client-go/kubernetes/fake makes none.
package fakeapiserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// Server is a fake API server. Its methods are safe for concurrent use.
type Server struct {
	// Token, when set before the first request, is the bearer token every
	// request must carry.
	Token string

	ts   *httptest.Server
	done chan struct{}

	mu       sync.Mutex
	down     bool
	held     []heldEvent // events kept from the watchers while HoldEvents is on
	holding  bool
	rv       int
	objects  map[string]*appsv1.Deployment // "ns/name"
	watchers map[chan event]string         // namespace each watches, "" = all
	requests map[string]int                // "GET list", "GET watch", ...
}

type heldEvent struct {
	namespace string
	ev        event
}

type event struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// New starts a server holding ds (their resourceVersions are assigned).
// It stops when the test ends.
func New(t interface{ Cleanup(func()) }, ds ...*appsv1.Deployment) *Server {
	s := &Server{
		done:     make(chan struct{}),
		objects:  map[string]*appsv1.Deployment{},
		watchers: map[chan event]string{},
		requests: map[string]int{},
	}
	for _, d := range ds {
		s.rv++
		d = d.DeepCopy()
		d.ResourceVersion = strconv.Itoa(s.rv)
		s.objects[d.Namespace+"/"+d.Name] = d
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, ending open watches.
func (s *Server) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	close(s.done)
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// RESTConfig is a client configuration for the server.
func (s *Server) RESTConfig() *rest.Config {
	return &rest.Config{Host: s.ts.URL, BearerToken: s.Token, QPS: -1}
}

// Requests returns how many requests of each kind were served:
// "GET list", "GET watch", "GET /readyz", "401", ...
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Total is the number of requests served.
func (s *Server) Total() int {
	n := 0
	for _, v := range s.Requests() {
		n += v
	}
	return n
}

// Apply creates or replaces d, assigns it the next resourceVersion and tells
// the watchers.
func (s *Server) Apply(d *appsv1.Deployment) *appsv1.Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	d = d.DeepCopy()
	d.ResourceVersion = strconv.Itoa(s.rv)
	key := d.Namespace + "/" + d.Name
	typ := "ADDED"
	if _, ok := s.objects[key]; ok {
		typ = "MODIFIED"
	}
	s.objects[key] = d
	ev := event{Type: typ, Object: mustJSON(typed(d))}
	if s.holding {
		s.held = append(s.held, heldEvent{d.Namespace, ev})
	} else {
		s.notify(d.Namespace, ev)
	}
	return d.DeepCopy()
}

// HoldEvents keeps watch events from the watchers while on, and delivers
// them when turned off: a watch that lags behind the writes.
func (s *Server) HoldEvents(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding = on
	if !on {
		for _, h := range s.held {
			s.notify(h.namespace, h.ev)
		}
		s.held = nil
	}
}

// notify sends ev to the watchers of namespace; s.mu is held.
func (s *Server) notify(namespace string, ev event) {
	for ch, ns := range s.watchers {
		if ns == "" || ns == namespace {
			select {
			case ch <- ev:
			default: // a watcher this far behind is a broken test
			}
		}
	}
}

// SetDown makes every request fail with 503 until SetDown(false), and ends
// the open watches, as an API server that restarts does.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
	if down {
		for ch := range s.watchers {
			close(ch)
			delete(s.watchers, ch)
		}
	}
}

func (s *Server) count(key string) {
	s.mu.Lock()
	s.requests[key]++
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		s.count("503")
		writeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable")
		return
	}
	if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.count("401")
		writeStatus(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	if r.URL.Path == "/readyz" || r.URL.Path == "/livez" {
		s.count(r.Method + " " + r.URL.Path)
		_, _ = w.Write([]byte("ok"))
		return
	}
	if ns, name, ok := scalePath(r.URL.Path); ok {
		s.count(r.Method + " scale")
		s.scale(w, r, ns, name)
		return
	}
	namespace, ok := deploymentsPath(r.URL.Path)
	if !ok || r.Method != http.MethodGet {
		s.count("404")
		writeStatus(w, http.StatusNotFound, "NotFound")
		return
	}
	q := r.URL.Query()
	if q.Get("watch") == "true" || q.Get("watch") == "1" {
		s.count("GET watch")
		s.watch(w, r, namespace, q.Get("sendInitialEvents") == "true")
		return
	}
	s.count("GET list")
	s.mu.Lock()
	list := appsv1.DeploymentList{
		TypeMeta: metav1.TypeMeta{Kind: "DeploymentList", APIVersion: "apps/v1"},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(s.rv)},
	}
	for _, d := range s.sorted(namespace) {
		list.Items = append(list.Items, *d)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(list))
}

// deploymentsPath reads /apis/apps/v1/deployments and
// /apis/apps/v1/namespaces/NS/deployments.
func deploymentsPath(path string) (namespace string, ok bool) {
	if path == "/apis/apps/v1/deployments" {
		return "", true
	}
	rest, ok := strings.CutPrefix(path, "/apis/apps/v1/namespaces/")
	if !ok {
		return "", false
	}
	ns, tail, _ := strings.Cut(rest, "/")
	return ns, tail == "deployments" && ns != ""
}

// scalePath reads /apis/apps/v1/namespaces/NS/deployments/NAME/scale.
func scalePath(path string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/apis/apps/v1/namespaces/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[1] != "deployments" || parts[3] != "scale" || parts[0] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// scale serves GET and PUT of the scale subresource, with optimistic
// locking on the resourceVersion.
func (s *Server) scale(w http.ResponseWriter, r *http.Request, namespace, name string) {
	s.mu.Lock()
	d, ok := s.objects[namespace+"/"+name]
	s.mu.Unlock()
	if !ok {
		writeStatus(w, http.StatusNotFound, "NotFound")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		// client-go sends protobuf by default, JSON when configured so.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest")
			return
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		in, ok := obj.(*autoscalingv1.Scale)
		if err != nil || !ok {
			writeStatus(w, http.StatusBadRequest, "BadRequest")
			return
		}
		if in.ResourceVersion != "" && in.ResourceVersion != d.ResourceVersion {
			writeStatus(w, http.StatusConflict, "Conflict")
			return
		}
		d = d.DeepCopy()
		replicas := in.Spec.Replicas
		d.Spec.Replicas = &replicas
		d = s.Apply(d)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
		return
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(mustJSON(autoscalingv1.Scale{
		TypeMeta:   metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: d.ResourceVersion},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}))
}

// sorted returns the objects in namespace ("" = all) by key; s.mu is held.
func (s *Server) sorted(namespace string) []*appsv1.Deployment {
	keys := make([]string, 0, len(s.objects))
	for k, d := range s.objects {
		if namespace == "" || d.Namespace == namespace {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]*appsv1.Deployment, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.objects[k])
	}
	return out
}

// watch streams events until the client or the server goes away. With
// initial events it first sends every object and the bookmark that ends
// them, as kube-apiserver does for client-go's watch list.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, namespace string, initial bool) {
	ch := make(chan event, 100)
	s.mu.Lock()
	var first []event
	if initial {
		for _, d := range s.sorted(namespace) {
			first = append(first, event{Type: "ADDED", Object: mustJSON(typed(d))})
		}
		bookmark := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
			ResourceVersion: strconv.Itoa(s.rv),
			Annotations:     map[string]string{metav1.InitialEventsAnnotationKey: "true"},
		}}
		first = append(first, event{Type: "BOOKMARK", Object: mustJSON(typed(bookmark))})
	}
	s.watchers[ch] = namespace
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, ch) // a no-op after SetDown closed it
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	send := func(ev event) bool {
		if _, err := w.Write(append(mustJSON(ev), '\n')); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	for _, ev := range first {
		if !send(ev) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok || !send(ev) {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

func typed(d *appsv1.Deployment) *appsv1.Deployment {
	d = d.DeepCopy()
	d.TypeMeta = metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}
	return d
}

func writeStatus(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"reason":%q,"code":%d}`,
		"fakeapiserver: "+reason, reason, code)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only API types and our own structs get here
	}
	return b
}
