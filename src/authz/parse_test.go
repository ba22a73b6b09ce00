package authz_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/authz"
)

func int32p(n int32) *int32 { return &n }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []authz.Rule
	}{
		{
			name: "the example of the docs",
			yaml: `# who may do what
rules:
  - users: ["ci-bot"]          # certificate CN
    groups: ["sre"]            # certificate O
    verbs: ["get", "list", "scale"]
    namespaces: ["team-a", "*"]
    deployments: ["web"]       # optional; default all
    maxReplicas: 50            # optional; tighter than --max-replicas
`,
			want: []authz.Rule{{
				Users: []string{"ci-bot"}, Groups: []string{"sre"}, Verbs: []string{"get", "list", "scale"},
				Namespaces: []string{"team-a", "*"}, Deployments: []string{"web"}, MaxReplicas: int32p(50), Line: 3,
			}},
		},
		{
			name: "block lists, numeric CN, wildcard verb, no deployments",
			yaml: "rules:\n- groups:\n  - dev\n  users:\n  - 1234\n  verbs: ['*']\n  namespaces: [team-b]\n- users: [viewer]\n  verbs: [get, list]\n  namespaces: ['*']\n",
			want: []authz.Rule{
				{Users: []string{"1234"}, Groups: []string{"dev"}, Verbs: []string{"*"}, Namespaces: []string{"team-b"}, Line: 2},
				{Users: []string{"viewer"}, Verbs: []string{"get", "list"}, Namespaces: []string{"*"}, Line: 8},
			},
		},
		{name: "deny everything", yaml: "rules: []\n", want: []authz.Rule{}},
		{name: "maxReplicas zero", yaml: "rules: [{users: [a], verbs: [scale], namespaces: [x], maxReplicas: 0}]",
			want: []authz.Rule{{Users: []string{"a"}, Verbs: []string{"scale"}, Namespaces: []string{"x"}, MaxReplicas: int32p(0), Line: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := authz.Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(p.Rules, tt.want) {
				t.Errorf("rules\n got %#v\nwant %#v", p.Rules, tt.want)
			}
		})
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want are the exact problems, one per line of the error.
		want []string
	}{
		{name: "empty", yaml: "", want: []string{"the policy is empty; write `rules: []` to deny everything"}},
		{name: "only comments", yaml: "# nothing\n", want: []string{"the policy is empty; write `rules: []` to deny everything"}},
		{name: "not YAML", yaml: "rules: [\n", want: []string{"invalid YAML: yaml: line 1: did not find expected node content"}},
		{name: "two documents", yaml: "rules: []\n---\nrules: []\n", want: []string{"line 2: a second YAML document; the policy is one document"}},
		{name: "a list at the top", yaml: "- users: [a]\n", want: []string{"line 1: the policy must be a mapping, not a list"}},
		{name: "no rules key", yaml: "rulez: []\n", want: []string{
			`line 1: unknown key "rulez"; the policy has only the key "rules"`,
			"line 1: the policy has no \"rules\" key; write `rules: []` to deny everything",
		}},
		{name: "rules not a list", yaml: "rules:\n", want: []string{"line 1: rules must be a list of rules, not empty"}},
		{name: "unknown key in a rule", yaml: "rules:\n  - users: [a]\n    verbs: [get]\n    namespaces: [x]\n    verb: [scale]\n", want: []string{
			`line 5: rule 1: unknown key "verb"; a rule has the keys users, groups, verbs, namespaces, deployments, maxReplicas`,
		}},
		{name: "unknown verb", yaml: "rules:\n  - users: [a]\n    verbs: [get, delete]\n    namespaces: [x]\n", want: []string{
			`line 3: rule 1: verbs entry "delete" is not a verb; verbs are get, list, scale and "*"`,
		}},
		{name: "unknown verb in the second rule", yaml: "rules:\n- {users: [a], verbs: [get], namespaces: [x]}\n- users: [b]\n  namespaces: [x]\n  verbs:\n  - list\n  - Scale\n", want: []string{
			`line 7: rule 2: verbs entry "Scale" is not a verb; verbs are get, list, scale and "*"`,
		}},
		{name: "duplicate key", yaml: "rules:\n- users: [a]\n  users: [b]\n  verbs: [get]\n  namespaces: [x]\n", want: []string{
			`line 3: key "users" appears twice in rule 1`,
		}},
		{name: "string instead of list", yaml: "rules:\n- users: alice\n  verbs: [get]\n  namespaces: [x]\n", want: []string{
			`line 2: rule 1: users must be a list like ["a", "b"], not the value "alice"`,
		}},
		{name: "boolean and null entries", yaml: "rules:\n- users: [true, ~, '']\n  verbs: [get]\n  namespaces: [x]\n", want: []string{
			`line 2: rule 1: entries of users must be strings, not the value "true"`,
			"line 2: rule 1: entries of users must be strings, not empty",
			`line 2: rule 1: users entry "" must not be empty`,
		}},
		{name: "nobody, nothing, nowhere", yaml: "rules:\n- deployments: [web]\n", want: []string{
			"line 2: rule 1 has neither users nor groups, so it would match nobody",
			`line 2: rule 1 grants no verbs; give verbs, some of get, list, scale or "*"`,
			`line 2: rule 1 names no namespaces; give namespaces, "*" for all`,
		}},
		{name: "bad names", yaml: "rules:\n- users: [a]\n  verbs: [get]\n  namespaces: [Team_A]\n  deployments: [-web]\n", want: []string{
			`line 4: rule 1: namespaces entry "Team_A" is not a namespace name: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
			`line 5: rule 1: deployments entry "-web" is not a deployment name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		}},
		{name: "empty deployments", yaml: "rules:\n- users: [a]\n  verbs: [get]\n  namespaces: [x]\n  deployments: []\n", want: []string{
			"line 5: rule 1: deployments is empty; leave it out to mean every deployment",
		}},
		{name: "bad maxReplicas", yaml: "rules:\n- {users: [a], verbs: [scale], namespaces: [x], maxReplicas: -1}\n- {users: [a], verbs: [scale], namespaces: [x], maxReplicas: 1.5}\n- {users: [a], verbs: [scale], namespaces: [x], maxReplicas: \"3\"}\n- {users: [a], verbs: [scale], namespaces: [x], maxReplicas: 3000000000}\n", want: []string{
			`line 2: rule 1: maxReplicas must be a whole number from 0 to 2147483647, not the value "-1"`,
			`line 3: rule 2: maxReplicas must be a whole number from 0 to 2147483647, not the value "1.5"`,
			`line 4: rule 3: maxReplicas must be a whole number from 0 to 2147483647, not the value "3"`,
			`line 5: rule 4: maxReplicas must be a whole number from 0 to 2147483647, not the value "3000000000"`,
		}},
		{name: "maxReplicas without scale", yaml: "rules:\n- users: [a]\n  verbs: [get]\n  namespaces: [x]\n  maxReplicas: 5\n", want: []string{
			"line 5: rule 1: maxReplicas only limits the scale verb, which the rule does not grant",
		}},
		{name: "alias", yaml: "rules:\n- users: &u [a]\n  verbs: [get]\n  namespaces: [x]\n- users: *u\n  verbs: [get]\n  namespaces: [x]\n", want: []string{
			`line 5: rule 2: users must be a list like ["a", "b"], not an alias`,
		}},
		{name: "empty users and groups", yaml: "rules:\n- {users: [], groups: [], verbs: [get], namespaces: [x]}\n", want: []string{
			"line 2: rule 1 has neither users nor groups, so it would match nobody",
		}},
		{name: "rule not a mapping", yaml: "rules:\n- [a]\n", want: []string{"line 2: rule 1 must be a mapping, not a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := authz.Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded with %d rules, want an error", len(p.Rules))
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	huge := filepath.Join(dir, "huge.yaml")
	writeFile(t, good, "rules: []\n")
	writeFile(t, bad, "rules:\n- users: [a]\n  verbs: [delete]\n  namespaces: [x]\n")
	writeFile(t, huge, "rules: []\n"+strings.Repeat("#", authz.MaxPolicyBytes))

	if _, err := authz.ParseFile(good); err != nil {
		t.Errorf("ParseFile(good): %v", err)
	}
	tests := []struct{ path, want string }{
		{bad, "authorization policy " + bad + `: line 3: rule 1: verbs entry "delete" is not a verb`},
		{huge, "authorization policy " + huge + " is larger than 1048576 bytes"},
		{filepath.Join(dir, "missing.yaml"), "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			_, err := authz.ParseFile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
