package authz_test

import (
	"testing"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/identity"
)

// FuzzParse feeds the policy parser arbitrary files; the seeds are in
// testdata/fuzz/FuzzParse. A policy either fails to parse or is one every
// decision can be made with, without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(testPolicy))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := authz.Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a policy along with an error")
			}
			return
		}
		for i, r := range p.Rules {
			if len(r.Verbs) == 0 || len(r.Namespaces) == 0 || len(r.Users)+len(r.Groups) == 0 || r.Line < 1 {
				t.Fatalf("rule %d is incomplete: %+v", i, r)
			}
			if r.MaxReplicas != nil && *r.MaxReplicas < 0 {
				t.Fatalf("rule %d has a negative maxReplicas", i)
			}
		}
		for _, who := range []identity.Identity{{User: "bob"}, {User: "ci-bot", Groups: []string{"sre", "dev"}}} {
			_ = p.Authorize(who, "get", "team-a", "web")
			_ = p.Authorize(who, "list", "", "")
			_ = p.AuthorizeReplicas(who, "team-a", "web", 3)
			if keep := p.ListFilter(who, ""); keep != nil {
				_ = keep("team-a", "web")
			}
		}
	})
}
