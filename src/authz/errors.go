package authz

import (
	"errors"
	"fmt"
	"strings"

	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// ErrForbidden is what every [*ForbiddenError] is (errors.Is): the client's
// identity is not allowed the action.
var ErrForbidden = errors.New("forbidden")

// ForbiddenError says who may not do what. Its message is meant for the
// client: it names the identity, the missing verb and the target, and never
// whether the target exists.
type ForbiddenError struct {
	Identity  identity.Identity
	Verb      string
	Namespace string // "" for a list of every namespace
	Name      string // "" for a list
	// Replicas and MaxReplicas are set when the verb is granted but only up
	// to MaxReplicas, by the rule at Line.
	Replicas, MaxReplicas int32
	Line                  int
}

// Error reads like `CN=bob (groups: dev) may not scale deployment "web" in
// namespace "team-a"`.
func (e *ForbiddenError) Error() string {
	who := Describe(e.Identity)
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s may not scale deployment %q in namespace %q to %d replicas: the policy allows at most %d (maxReplicas of the rule at line %d)",
			who, e.Name, e.Namespace, e.Replicas, e.MaxReplicas, e.Line)
	case e.Verb == requestinfo.VerbList && e.Namespace == "":
		return fmt.Sprintf("%s may not list deployments in any namespace", who)
	case e.Verb == requestinfo.VerbList:
		return fmt.Sprintf("%s may not list deployments in namespace %q", who, e.Namespace)
	default:
		return fmt.Sprintf("%s may not %s deployment %q in namespace %q", who, e.Verb, e.Name, e.Namespace)
	}
}

// Is makes errors.Is(err, ErrForbidden) hold.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Describe formats an identity for messages: "CN=bob (groups: dev, sre)" or
// "CN=bob (no groups)".
func Describe(id identity.Identity) string {
	if len(id.Groups) == 0 {
		return "CN=" + id.User + " (no groups)"
	}
	return "CN=" + id.User + " (groups: " + strings.Join(id.Groups, ", ") + ")"
}
