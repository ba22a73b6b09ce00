package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

func TestList(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		args      []string
		want      result
		wantPath  string
		wantQuery string
	}{
		{name: "table of every namespace", args: []string{"list"}, wantPath: "/api/v1/deployments", want: result{stdout: lines(
			"NAMESPACE   NAME     REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
			"default     web      3          2/3     3            2           3h",
			"team-a      api      1          1/1     1            1           2d2h",
			"team-a      worker   0          0/0     0            0           <unknown>",
		)}},
		{name: "-A is the same", args: []string{"list", "-A"}, wantPath: "/api/v1/deployments", want: result{stdout: lines(
			"NAMESPACE   NAME     REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
			"default     web      3          2/3     3            2           3h",
			"team-a      api      1          1/1     1            1           2d2h",
			"team-a      worker   0          0/0     0            0           <unknown>",
		)}},
		{name: "one namespace drops the NAMESPACE column", args: []string{"list", "-n", "team-a"},
			wantPath: "/api/v1/namespaces/team-a/deployments", want: result{stdout: lines(
				"NAME     REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
				"api      1          1/1     1            1           2d2h",
				"worker   0          0/0     0            0           <unknown>",
			)}},
		{name: "selector", args: []string{"list", "-l", "app=web"}, wantPath: "/api/v1/deployments",
			wantQuery: "labelSelector=app%3Dweb", want: result{stdout: lines(
				"NAMESPACE   NAME   REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
				"default     web    3          2/3     3            2           3h",
			)}},
		{name: "flags before the command", args: []string{"--namespace=team-a", "list", "--selector", "app=api"},
			wantPath: "/api/v1/namespaces/team-a/deployments", wantQuery: "labelSelector=app%3Dapi", want: result{stdout: lines(
				"NAME   REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
				"api    1          1/1     1            1           2d2h",
			)}},
		{name: "name", args: []string{"list", "-o", "name"}, wantPath: "/api/v1/deployments", want: result{stdout: lines(
			"deployment.apps/web", "deployment.apps/api", "deployment.apps/worker")}},
		{name: "empty table", args: []string{"list", "-n", "nobody"}, wantPath: "/api/v1/namespaces/nobody/deployments",
			want: result{stderr: "No deployments found in namespace nobody.\n"}},
		{name: "empty everywhere", args: []string{"list", "-l", "app=none"}, wantPath: "/api/v1/deployments",
			wantQuery: "labelSelector=app%3Dnone", want: result{stderr: "No deployments found.\n"}},
		{name: "empty json", args: []string{"list", "-n", "nobody", "-o", "json"}, wantPath: "/api/v1/namespaces/nobody/deployments",
			want: result{stdout: "[]\n"}},
		{name: "empty name", args: []string{"list", "-n", "nobody", "-o", "name"}, wantPath: "/api/v1/namespaces/nobody/deployments",
			want: result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.run(t, tt.args...).check(t, tt.want)
			reqs := f.srv.Requests()
			last := reqs[len(reqs)-1]
			if last.Method != http.MethodGet || last.Path != tt.wantPath || last.RawQuery != tt.wantQuery {
				t.Errorf("request = %s %s?%s, want GET %s?%s", last.Method, last.Path, last.RawQuery, tt.wantPath, tt.wantQuery)
			}
		})
	}
}

func TestListStructured(t *testing.T) {
	f := newFixture(t)
	want := []client.Deployment{api.Deployment, worker.Deployment}
	tests := []struct {
		name      string
		format    string
		unmarshal func([]byte, any) error
	}{
		{name: "json", format: "json", unmarshal: json.Unmarshal},
		{name: "yaml", format: "yaml", unmarshal: func(b []byte, v any) error { return yaml.UnmarshalStrict(b, v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.run(t, "list", "-n", "team-a", "-o", tt.format)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			var got []client.Deployment
			if err := tt.unmarshal([]byte(res.stdout), &got); err != nil {
				t.Fatalf("output is not %s: %v\n%s", tt.format, err, res.stdout)
			}
			if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestListStructuredExactOutput(t *testing.T) {
	f := newFixture(t)
	created := web.CreationTimestamp.Format(time.RFC3339)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "json", args: []string{"list", "-l", "app=web", "-o", "json"}, want: `[
    {
        "namespace": "default",
        "name": "web",
        "replicaCount": 3,
        "resourceVersion": "11",
        "readyReplicas": 2,
        "availableReplicas": 2,
        "updatedReplicas": 3,
        "creationTimestamp": "` + created + `"
    }
]
`},
		{name: "yaml", args: []string{"list", "-l", "app=web", "-o", "yaml"}, want: `- availableReplicas: 2
  creationTimestamp: "` + created + `"
  name: web
  namespace: default
  readyReplicas: 2
  replicaCount: 3
  resourceVersion: "11"
  updatedReplicas: 3
`},
		{name: "no creation time is left out", args: []string{"list", "-l", "app=worker", "-o", "json"}, want: `[
    {
        "namespace": "team-a",
        "name": "worker",
        "replicaCount": 0,
        "resourceVersion": "13",
        "readyReplicas": 0,
        "availableReplicas": 0,
        "updatedReplicas": 0
    }
]
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.run(t, tt.args...).check(t, result{stdout: tt.want})
		})
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t)
	created := api.CreationTimestamp.Format(time.RFC3339)
	tests := []struct {
		name     string
		args     []string
		want     result
		wantPath string
	}{
		{name: "table", args: []string{"get", "api", "-n", "team-a"}, wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas",
			want: result{stdout: lines(
				"NAMESPACE   NAME   REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
				"team-a      api    1          1/1     1            1           2d2h",
			)}},
		{name: "server's default namespace", args: []string{"get", "web"}, wantPath: "/api/v1/deployments/web/replicas",
			want: result{stdout: lines(
				"NAMESPACE   NAME   REPLICAS   READY   UP-TO-DATE   AVAILABLE   AGE",
				"default     web    3          2/3     3            2           3h",
			)}},
		{name: "kubectl resource name", args: []string{"get", "deployment.apps/api", "-n", "team-a", "-o", "name"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", want: result{stdout: "deployment.apps/api\n"}},
		{name: "json", args: []string{"get", "api", "-n", "team-a", "-o", "json"}, wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas",
			want: result{stdout: `{
    "namespace": "team-a",
    "name": "api",
    "replicaCount": 1,
    "resourceVersion": "12",
    "readyReplicas": 1,
    "availableReplicas": 1,
    "updatedReplicas": 1,
    "creationTimestamp": "` + created + `"
}
`}},
		{name: "yaml", args: []string{"get", "api", "-n", "team-a", "-o", "yaml"}, wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas",
			want: result{stdout: `availableReplicas: 1
creationTimestamp: "` + created + `"
name: api
namespace: team-a
readyReplicas: 1
replicaCount: 1
resourceVersion: "12"
updatedReplicas: 1
`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.run(t, tt.args...).check(t, tt.want)
			reqs := f.srv.Requests()
			if last := reqs[len(reqs)-1]; last.Method != http.MethodGet || last.Path != tt.wantPath {
				t.Errorf("request = %s %s, want GET %s", last.Method, last.Path, tt.wantPath)
			}
		})
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		want        result
		wantPath    string
		wantIfMatch string
		wantCount   int32
	}{
		{name: "line", args: []string{"scale", "api", "-n", "team-a", "--replicas", "5"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantCount: 5,
			want: result{stdout: "deployment.apps/api scaled to 5 replicas in namespace team-a\n"}},
		{name: "one replica", args: []string{"scale", "web", "--replicas=1"},
			wantPath: "/api/v1/deployments/web/replicas", wantCount: 1,
			want: result{stdout: "deployment.apps/web scaled to 1 replica in namespace default\n"}},
		{name: "unchanged", args: []string{"scale", "api", "-n", "team-a", "--replicas", "1"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantCount: 1,
			want: result{stdout: "deployment.apps/api already has 1 replica in namespace team-a; nothing changed\n"}},
		{name: "to zero", args: []string{"scale", "api", "-n", "team-a", "--replicas", "0", "-o", "name"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantCount: 0,
			want: result{stdout: "deployment.apps/api\n"}},
		{name: "json", args: []string{"scale", "api", "-n", "team-a", "--replicas", "4", "-o", "json"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantCount: 4,
			want: result{stdout: `{
    "message": "Replica count updated successfully.",
    "namespace": "team-a",
    "name": "api",
    "replicaCount": 4,
    "changed": true
}
`}},
		{name: "yaml", args: []string{"scale", "api", "-n", "team-a", "--replicas", "4", "-o", "yaml"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantCount: 4,
			want: result{stdout: lines(
				"changed: true",
				"message: Replica count updated successfully.",
				"name: api",
				"namespace: team-a",
				"replicaCount: 4",
			)}},
		{name: "if-match current", args: []string{"scale", "api", "-n", "team-a", "--replicas", "2", "--if-match", "12"},
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantIfMatch: `"12"`, wantCount: 2,
			want: result{stdout: "deployment.apps/api scaled to 2 replicas in namespace team-a\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.run(t, tt.args...).check(t, tt.want)
			reqs := f.srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 PUT", len(reqs))
			}
			if r := reqs[0]; r.Method != http.MethodPut || r.Path != tt.wantPath || r.Header.Get("If-Match") != tt.wantIfMatch {
				t.Errorf("request = %s %s If-Match %q, want PUT %s If-Match %q", r.Method, r.Path, r.Header.Get("If-Match"), tt.wantPath, tt.wantIfMatch)
			}
			ns := "team-a"
			if tt.wantPath == "/api/v1/deployments/web/replicas" {
				ns = "default"
			}
			name := map[string]string{"team-a": "api", "default": "web"}[ns]
			if d, _ := f.srv.Deployment(ns, name); d.ReplicaCount != tt.wantCount {
				t.Errorf("server has %d replicas, want %d", d.ReplicaCount, tt.wantCount)
			}
		})
	}
}

func TestScaleCurrentReplicas(t *testing.T) {
	t.Run("match scales conditionally", func(t *testing.T) {
		f := newFixture(t)
		f.run(t, "scale", "web", "--replicas", "6", "--current-replicas", "3").check(t, result{
			stdout: "deployment.apps/web scaled to 6 replicas in namespace default\n"})
		reqs := f.srv.Requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests, want GET then PUT", len(reqs))
		}
		if reqs[0].Method != http.MethodGet || reqs[0].Path != "/api/v1/deployments/web/replicas" {
			t.Errorf("first request = %s %s", reqs[0].Method, reqs[0].Path)
		}
		// The PUT names the namespace the GET resolved, and requires the
		// version the GET saw.
		if reqs[1].Method != http.MethodPut || reqs[1].Path != "/api/v1/namespaces/default/deployments/web/replicas" ||
			reqs[1].Header.Get("If-Match") != `"11"` {
			t.Errorf("second request = %s %s If-Match %q", reqs[1].Method, reqs[1].Path, reqs[1].Header.Get("If-Match"))
		}
		if d, _ := f.srv.Deployment("default", "web"); d.ReplicaCount != 6 {
			t.Errorf("server has %d replicas, want 6", d.ReplicaCount)
		}
	})
	t.Run("mismatch writes nothing", func(t *testing.T) {
		f := newFixture(t)
		f.run(t, "scale", "web", "--replicas", "6", "--current-replicas", "2").check(t, result{
			code:   exitRefused,
			stderr: "error: refusing to scale: deployment.apps/web in namespace default has 3 replicas, not 2 as --current-replicas requires; nothing was changed\n"})
		for _, r := range f.srv.Requests() {
			if r.Method != http.MethodGet {
				t.Errorf("unexpected %s %s", r.Method, r.Path)
			}
		}
		if d, _ := f.srv.Deployment("default", "web"); d.ReplicaCount != 3 {
			t.Errorf("server has %d replicas, want 3", d.ReplicaCount)
		}
	})
	t.Run("a change of the count in between refuses", func(t *testing.T) {
		f := newFixture(t)
		// Someone else scales web to 4 just before our PUT arrives: the PUT
		// gets 412, and the second read shows the count no longer matches.
		f.srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				other := web
				other.ReplicaCount = 4
				f.srv.Put(other)
			}
			f.srv.ServeAPI(w, r)
		}))
		res := f.run(t, "scale", "web", "--replicas", "6", "--current-replicas", "3")
		res.check(t, result{code: exitRefused,
			stderr: "error: refusing to scale: deployment.apps/web in namespace default has 4 replicas, not 3 as --current-replicas requires; nothing was changed\n"})
		if d, _ := f.srv.Deployment("default", "web"); d.ReplicaCount != 4 {
			t.Errorf("server has %d replicas, want the other writer's 4", d.ReplicaCount)
		}
		if got := methods(f.srv.Requests()); got != "GET PUT GET" {
			t.Errorf("requests %s, want GET PUT GET", got)
		}
	})
	t.Run("a status-only change in between is retried", func(t *testing.T) {
		f := newFixture(t)
		// The controller updates web's status (a new resourceVersion, the
		// same count) just before our first PUT arrives.
		puts := 0
		f.srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				if puts++; puts == 1 {
					status := web
					status.ReadyReplicas = 3
					f.srv.Put(status)
				}
			}
			f.srv.ServeAPI(w, r)
		}))
		f.run(t, "scale", "web", "--replicas", "6", "--current-replicas", "3").check(t, result{
			stdout: "deployment.apps/web scaled to 6 replicas in namespace default\n"})
		reqs := f.srv.Requests()
		if got := methods(reqs); got != "GET PUT GET PUT" {
			t.Fatalf("requests %s, want GET PUT GET PUT", got)
		}
		if reqs[1].Header.Get("If-Match") != `"11"` || reqs[3].Header.Get("If-Match") != `"101"` {
			t.Errorf("If-Match %q then %q, want \"11\" then the re-read \"101\"", reqs[1].Header.Get("If-Match"), reqs[3].Header.Get("If-Match"))
		}
		if d, _ := f.srv.Deployment("default", "web"); d.ReplicaCount != 6 {
			t.Errorf("server has %d replicas, want 6", d.ReplicaCount)
		}
	})
	t.Run("a deployment that keeps changing is a conflict after a few attempts", func(t *testing.T) {
		f := newFixture(t)
		f.srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				d, _ := f.srv.Deployment("default", "web")
				f.srv.Put(clienttest.Deployment{Deployment: d, Labels: web.Labels}) // same RV: Put gives it a new one
			}
			f.srv.ServeAPI(w, r)
		}))
		res := f.run(t, "scale", "web", "--replicas", "6", "--current-replicas", "3")
		if res.code != exitRefused || res.stdout != "" ||
			!strings.HasPrefix(res.stderr, "error: conflict: the deployment changed since you read it, so nothing was written; run again") {
			t.Errorf("got %+v, want exit 1 and the conflict message", res)
		}
		if got, want := methods(f.srv.Requests()), strings.TrimSpace(strings.Repeat("GET PUT ", currentReplicasAttempts)); got != want {
			t.Errorf("requests %s, want %s", got, want)
		}
		if d, _ := f.srv.Deployment("default", "web"); d.ReplicaCount != 3 {
			t.Errorf("server has %d replicas, want 3", d.ReplicaCount)
		}
	})
}

// methods lists the requests' methods, space-separated.
func methods(reqs []clienttest.Request) string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method)
	}
	return strings.Join(out, " ")
}

// TestScaleWarnings: the server's warnings go to stderr, one
// "Warning: <text>" line each, as kubectl prints kube-apiserver's; the
// outcome stays on stdout and the exit code 0.
func TestScaleWarnings(t *testing.T) {
	const text = "the replica count is set, but this server's cache did not show it within 5s; a read from this server may briefly return the old count"
	tests := []struct {
		name   string
		header bool // the warning in the Warning header only, not the body
	}{
		{name: "header and body"},
		{name: "header only", header: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.srv.SetHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Warning", `299 - "`+text+`"`)
				body := `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":5,"changed":true,"warnings":["` + text + `"]}`
				if tt.header {
					body = `{"message":"Replica count updated successfully.","namespace":"default","name":"web","replicaCount":5,"changed":true}`
				}
				_, _ = w.Write([]byte(body))
			}))
			f.run(t, "scale", "web", "--replicas", "5").check(t, result{
				stdout: "deployment.apps/web scaled to 5 replicas in namespace default\n",
				stderr: "Warning: " + text + "\n",
			})
		})
	}
}
