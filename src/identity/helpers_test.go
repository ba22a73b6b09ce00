package identity_test

import (
	"testing"

	"github.com/replicasd/replicasd/src/certs"
)

func mustCA(t *testing.T, cn string) *certs.Pair {
	t.Helper()
	ca, err := certs.NewCA(cn)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustClient(t *testing.T, ca *certs.Pair, cn string, orgs []string) *certs.Pair {
	t.Helper()
	c, err := ca.IssueClient(cn, orgs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
