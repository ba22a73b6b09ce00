package authz

import (
	"slices"

	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// Wildcard in any list of a rule matches everything: every user, group,
// verb, namespace or deployment.
const Wildcard = "*"

// Verbs are the verbs a rule may grant, besides [Wildcard].
var Verbs = []string{requestinfo.VerbGet, requestinfo.VerbList, requestinfo.VerbScale}

// Policy is a parsed policy. It never changes after parsing, so it is safe
// for concurrent use.
type Policy struct {
	Rules []Rule
}

// Rule grants Verbs on Deployments in Namespaces to the clients whose user
// is one of Users or who belong to one of Groups.
type Rule struct {
	Users       []string
	Groups      []string
	Verbs       []string
	Namespaces  []string
	Deployments []string // empty: every deployment
	// MaxReplicas caps the replica count this rule lets a client scale to;
	// nil means only the server's --max-replicas applies.
	MaxReplicas *int32
	// Line is where the rule starts in the policy file, for messages.
	Line int
}

func matches(list []string, v string) bool {
	return slices.Contains(list, v) || slices.Contains(list, Wildcard)
}

// appliesTo reports whether the rule names id's user or one of its groups.
func (r *Rule) appliesTo(id identity.Identity) bool {
	if matches(r.Users, id.User) {
		return true
	}
	for _, g := range id.Groups {
		if matches(r.Groups, g) {
			return true
		}
	}
	// A group wildcard means every verified client, those without groups
	// too.
	return slices.Contains(r.Groups, Wildcard)
}

func (r *Rule) grants(verb string) bool { return matches(r.Verbs, verb) }

// covers reports whether the rule covers the deployment name in namespace;
// an empty namespace or name matches any.
func (r *Rule) covers(namespace, name string) bool {
	if namespace != "" && !matches(r.Namespaces, namespace) {
		return false
	}
	return name == "" || len(r.Deployments) == 0 || matches(r.Deployments, name)
}

// everything reports whether the rule covers every deployment of every
// namespace.
func (r *Rule) everything() bool {
	return slices.Contains(r.Namespaces, Wildcard) && (len(r.Deployments) == 0 || slices.Contains(r.Deployments, Wildcard))
}

// Authorize returns nil when id may perform verb on the deployment name in
// namespace, else a [*ForbiddenError]. For [requestinfo.VerbList], name is
// empty and namespace is the listed one, "" for a list of every namespace:
// that is allowed when some rule lets id list somewhere, and
// [Policy.ListFilter] then says which items it may see.
func (p *Policy) Authorize(id identity.Identity, verb, namespace, name string) error {
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.grants(verb) && r.appliesTo(id) && r.covers(namespace, name) {
			return nil
		}
	}
	return &ForbiddenError{Identity: id, Verb: verb, Namespace: namespace, Name: name}
}

// AuthorizeReplicas returns nil when id may scale the deployment name in
// namespace to replicas: some rule grants the scale and either sets no
// maxReplicas or one of at least replicas. Rules add up, so the most generous
// applicable rule decides.
func (p *Policy) AuthorizeReplicas(id identity.Identity, namespace, name string, replicas int32) error {
	var best *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.grants(requestinfo.VerbScale) || !r.appliesTo(id) || !r.covers(namespace, name) {
			continue
		}
		if r.MaxReplicas == nil {
			return nil
		}
		if best == nil || *r.MaxReplicas > *best.MaxReplicas {
			best = r
		}
	}
	if best == nil {
		return &ForbiddenError{Identity: id, Verb: requestinfo.VerbScale, Namespace: namespace, Name: name}
	}
	if replicas <= *best.MaxReplicas {
		return nil
	}
	return &ForbiddenError{
		Identity: id, Verb: requestinfo.VerbScale, Namespace: namespace, Name: name,
		Replicas: replicas, MaxReplicas: *best.MaxReplicas, Line: best.Line,
	}
}

// ListFilter returns which deployments of a list of namespace ("" = all) id
// may see, or nil when it may see them all.
func (p *Policy) ListFilter(id identity.Identity, namespace string) func(namespace, name string) bool {
	var rules []*Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.grants(requestinfo.VerbList) || !r.appliesTo(id) || !r.covers(namespace, "") {
			continue
		}
		if r.everything() || (namespace != "" && (len(r.Deployments) == 0 || slices.Contains(r.Deployments, Wildcard))) {
			return nil
		}
		rules = append(rules, r)
	}
	return func(namespace, name string) bool {
		for _, r := range rules {
			if r.covers(namespace, name) {
				return true
			}
		}
		return false
	}
}
