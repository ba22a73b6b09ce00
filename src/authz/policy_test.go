package authz_test

import (
	"errors"
	"testing"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/identity"
)

// testPolicy is the policy of the decision tests.
const testPolicy = `rules:
  - users: [ci-bot]
    groups: [sre]
    verbs: [get, list, scale]
    namespaces: [team-a]
    deployments: [web]
    maxReplicas: 50
  - groups: [team-a]
    verbs: ["*"]
    namespaces: [team-a]
    maxReplicas: 10
  - groups: [team-a-leads]
    verbs: [scale]
    namespaces: [team-a]
    maxReplicas: 20
  - groups: [viewers]
    verbs: [get, list]
    namespaces: ["*"]
  - users: [auditor]
    verbs: [list]
    namespaces: [team-a, team-b]
    deployments: [web, db]
  - users: [admin]
    verbs: ["*"]
    namespaces: ["*"]
  - users: ["*"]
    verbs: [get]
    namespaces: [public]
`

func mustParse(t *testing.T, yaml string) *authz.Policy {
	t.Helper()
	p, err := authz.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func id(user string, groups ...string) identity.Identity {
	return identity.Identity{User: user, Groups: groups}
}

func TestAuthorize(t *testing.T) {
	p := mustParse(t, testPolicy)
	tests := []struct {
		name                  string
		id                    identity.Identity
		verb, namespace, item string
		want                  string // "" = allowed, else the exact message
	}{
		{name: "user rule", id: id("ci-bot"), verb: "scale", namespace: "team-a", item: "web"},
		{name: "group rule", id: id("someone", "sre"), verb: "get", namespace: "team-a", item: "web"},
		{name: "rule limited to a deployment", id: id("ci-bot"), verb: "get", namespace: "team-a", item: "api",
			want: `CN=ci-bot (no groups) may not get deployment "api" in namespace "team-a"`},
		{name: "other team's namespace", id: id("bob", "team-a"), verb: "get", namespace: "team-b", item: "web",
			want: `CN=bob (groups: team-a) may not get deployment "web" in namespace "team-b"`},
		{name: "wildcard verb", id: id("bob", "team-a"), verb: "scale", namespace: "team-a", item: "anything"},
		{name: "read-only scaling", id: id("vera", "viewers"), verb: "scale", namespace: "team-a", item: "web",
			want: `CN=vera (groups: viewers) may not scale deployment "web" in namespace "team-a"`},
		{name: "read-only reading anywhere", id: id("vera", "viewers"), verb: "get", namespace: "kube-system", item: "coredns"},
		{name: "several groups", id: id("bob", "x", "team-a"), verb: "list", namespace: "team-a"},
		{name: "group named like a user", id: id("dev", "admin"), verb: "get", namespace: "x", item: "y",
			want: `CN=dev (groups: admin) may not get deployment "y" in namespace "x"`},
		{name: "user named like a group", id: id("sre"), verb: "get", namespace: "team-a", item: "web",
			want: `CN=sre (no groups) may not get deployment "web" in namespace "team-a"`},
		{name: "wildcard user", id: id("anyone"), verb: "get", namespace: "public", item: "site"},
		{name: "wildcard user, other verb", id: id("anyone"), verb: "list", namespace: "public",
			want: `CN=anyone (no groups) may not list deployments in namespace "public"`},
		{name: "list of a namespace", id: id("auditor"), verb: "list", namespace: "team-b"},
		{name: "list of a forbidden namespace", id: id("auditor"), verb: "list", namespace: "team-c",
			want: `CN=auditor (no groups) may not list deployments in namespace "team-c"`},
		{name: "list of all namespaces with some list rule", id: id("auditor"), verb: "list"},
		{name: "list of all namespaces with a narrow list rule", id: id("ci-bot", "nobody"), verb: "list"},
		{name: "list of all namespaces without any list rule", id: id("lead", "team-a-leads"), verb: "list",
			want: `CN=lead (groups: team-a-leads) may not list deployments in any namespace`},
		{name: "nobody", id: id("stranger"), verb: "get", namespace: "team-a", item: "web",
			want: `CN=stranger (no groups) may not get deployment "web" in namespace "team-a"`},
		{name: "admin", id: id("admin"), verb: "scale", namespace: "kube-system", item: "coredns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Authorize(tt.id, tt.verb, tt.namespace, tt.item)
			checkDecision(t, err, tt.want)
		})
	}
}

func checkDecision(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("denied: %v", err)
	case want != "" && err == nil:
		t.Errorf("allowed, want %q", want)
	case want != "" && err.Error() != want:
		t.Errorf("message\n got %q\nwant %q", err, want)
	case want != "" && !errors.Is(err, authz.ErrForbidden):
		t.Errorf("error %v is not ErrForbidden", err)
	}
}

func TestAuthorizeReplicas(t *testing.T) {
	p := mustParse(t, testPolicy)
	tests := []struct {
		name     string
		id       identity.Identity
		ns, item string
		replicas int32
		want     string
	}{
		{name: "at the rule's limit", id: id("ci-bot"), ns: "team-a", item: "web", replicas: 50},
		{name: "above the rule's limit", id: id("ci-bot"), ns: "team-a", item: "web", replicas: 51,
			want: `CN=ci-bot (no groups) may not scale deployment "web" in namespace "team-a" to 51 replicas: the policy allows at most 50 (maxReplicas of the rule at line 2)`},
		{name: "team limit", id: id("bob", "team-a"), ns: "team-a", item: "api", replicas: 11,
			want: `CN=bob (groups: team-a) may not scale deployment "api" in namespace "team-a" to 11 replicas: the policy allows at most 10 (maxReplicas of the rule at line 8)`},
		{name: "the most generous rule applies", id: id("lead", "team-a", "team-a-leads"), ns: "team-a", item: "api", replicas: 20},
		{name: "above the most generous rule", id: id("lead", "team-a", "team-a-leads"), ns: "team-a", item: "api", replicas: 21,
			want: `CN=lead (groups: team-a, team-a-leads) may not scale deployment "api" in namespace "team-a" to 21 replicas: the policy allows at most 20 (maxReplicas of the rule at line 12)`},
		{name: "a rule without a limit wins", id: id("admin", "team-a"), ns: "team-a", item: "api", replicas: 1000},
		{name: "no scale at all", id: id("vera", "viewers"), ns: "team-a", item: "web", replicas: 1,
			want: `CN=vera (groups: viewers) may not scale deployment "web" in namespace "team-a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecision(t, p.AuthorizeReplicas(tt.id, tt.ns, tt.item, tt.replicas), tt.want)
		})
	}
}

func TestListFilter(t *testing.T) {
	p := mustParse(t, testPolicy)
	all := [][2]string{{"public", "site"}, {"team-a", "api"}, {"team-a", "db"}, {"team-a", "web"}, {"team-b", "db"}, {"team-b", "web"}, {"team-c", "web"}}
	tests := []struct {
		name      string
		id        identity.Identity
		namespace string
		wantAll   bool
		want      [][2]string
	}{
		{name: "viewer sees everything", id: id("vera", "viewers"), wantAll: true},
		{name: "team sees its namespace", id: id("bob", "team-a"), want: [][2]string{{"team-a", "api"}, {"team-a", "db"}, {"team-a", "web"}}},
		{name: "team lists its namespace", id: id("bob", "team-a"), namespace: "team-a", wantAll: true},
		{name: "one deployment", id: id("ci-bot"), want: [][2]string{{"team-a", "web"}}},
		{name: "two namespaces, two deployments", id: id("auditor"), want: [][2]string{{"team-a", "db"}, {"team-a", "web"}, {"team-b", "db"}, {"team-b", "web"}}},
		{name: "two deployments of one namespace", id: id("auditor"), namespace: "team-b", want: [][2]string{{"team-b", "db"}, {"team-b", "web"}}},
		{name: "nothing", id: id("stranger"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep := p.ListFilter(tt.id, tt.namespace)
			if tt.wantAll {
				if keep != nil {
					t.Error("ListFilter returned a filter, want nil (everything)")
				}
				return
			}
			if keep == nil {
				t.Fatal("ListFilter returned nil (everything)")
			}
			var got [][2]string
			for _, d := range all {
				if (tt.namespace == "" || d[0] == tt.namespace) && keep(d[0], d[1]) {
					got = append(got, d)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("kept %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestWildcardGroupMatchesClientsWithoutGroups(t *testing.T) {
	p := mustParse(t, "rules:\n- groups: [\"*\"]\n  verbs: [get]\n  namespaces: [public]\n")
	for _, who := range []identity.Identity{id("anyone"), id("member", "dev")} {
		checkDecision(t, p.Authorize(who, "get", "public", "site"), "")
	}
}
