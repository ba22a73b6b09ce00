package authz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxPolicyBytes bounds the size of a policy file: a policy is a few
// hundred lines, and a huge file is a mistake or an attack on the parser.
const MaxPolicyBytes = 1 << 20

// Keys of a rule, in the order the docs list them.
const (
	keyUsers       = "users"
	keyGroups      = "groups"
	keyVerbs       = "verbs"
	keyNamespaces  = "namespaces"
	keyDeployments = "deployments"
	keyMaxReplicas = "maxReplicas"
)

var ruleKeys = []string{keyUsers, keyGroups, keyVerbs, keyNamespaces, keyDeployments, keyMaxReplicas}

// ParseFile reads and parses the policy file at path; errors name the file.
func ParseFile(path string) (*Policy, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("authorization policy %s: %w", path, err)
	}
	return p, nil
}

// readFile reads at most MaxPolicyBytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path) // #nosec G304 -- the operator names the file with --authorization-policy-file
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading authorization policy %s: %w", path, err)
	}
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("authorization policy %s is larger than %d bytes", path, MaxPolicyBytes)
	}
	return data, nil
}

// Parse parses a policy strictly: unknown keys, unknown verbs, values of the
// wrong type and rules that can never match are errors, each naming its
// line; every problem is reported at once.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("the policy is larger than %d bytes", MaxPolicyBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the policy is empty; write `rules: []` to deny everything")
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, fmt.Errorf("line %d: a second YAML document; the policy is one document", extra.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("the policy is empty; write `rules: []` to deny everything")
	}
	p := &parser{}
	policy := p.policy(doc.Content[0])
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return policy, nil
}

// parser walks the YAML node tree, collecting every problem.
type parser struct {
	errs []error
}

func (p *parser) fail(n *yaml.Node, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("line %d: %s", n.Line, fmt.Sprintf(format, args...)))
}

// kind names a node's type for messages.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return "the value " + strconv.Quote(n.Value)
	}
	return "something else"
}

// mapping returns the key/value pairs of a mapping node, refusing duplicate
// keys, which YAML forbids but parsers often let the last one win.
func (p *parser) mapping(n *yaml.Node, what string) (keys []*yaml.Node, values []*yaml.Node, ok bool) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a mapping, not %s", what, kind(n))
		return nil, nil, false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, "keys of %s must be plain names, not %s", what, kind(k))
			continue
		}
		if seen[k.Value] {
			p.fail(k, "key %q appears twice in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		keys, values = append(keys, k), append(values, v)
	}
	return keys, values, true
}

func (p *parser) policy(root *yaml.Node) *Policy {
	keys, values, ok := p.mapping(root, "the policy")
	if !ok {
		return nil
	}
	policy := &Policy{Rules: []Rule{}}
	found := false
	for i, k := range keys {
		if k.Value != "rules" {
			p.fail(k, "unknown key %q; the policy has only the key \"rules\"", k.Value)
			continue
		}
		found = true
		v := values[i]
		if v.Kind != yaml.SequenceNode {
			p.fail(v, "rules must be a list of rules, not %s", kind(v))
			continue
		}
		for j, item := range v.Content {
			if r, ok := p.rule(item, j+1); ok {
				policy.Rules = append(policy.Rules, r)
			}
		}
	}
	if !found {
		p.fail(root, "the policy has no \"rules\" key; write `rules: []` to deny everything")
	}
	return policy
}

// rule parses the n-th rule (1-based, for messages).
func (p *parser) rule(node *yaml.Node, n int) (Rule, bool) {
	what := fmt.Sprintf("rule %d", n)
	keys, values, ok := p.mapping(node, what)
	if !ok {
		return Rule{}, false
	}
	before := len(p.errs)
	r := Rule{Line: node.Line}
	var maxNode *yaml.Node
	// given records the keys present with something in them, valid or not,
	// so a bad entry is not also reported as a missing key.
	given := map[string]bool{}
	for i, k := range keys {
		v := values[i]
		given[k.Value] = v.Kind != yaml.SequenceNode || len(v.Content) > 0
		switch k.Value {
		case keyUsers:
			r.Users = p.strings(v, what, k.Value, nonEmpty)
		case keyGroups:
			r.Groups = p.strings(v, what, k.Value, nonEmpty)
		case keyVerbs:
			r.Verbs = p.strings(v, what, k.Value, verb)
		case keyNamespaces:
			r.Namespaces = p.strings(v, what, k.Value, namespace)
		case keyDeployments:
			r.Deployments = p.strings(v, what, k.Value, deployment)
			if !given[k.Value] {
				p.fail(v, "%s: deployments is empty; leave it out to mean every deployment", what)
			}
		case keyMaxReplicas:
			maxNode = v
			r.MaxReplicas = p.maxReplicas(v, what)
		default:
			p.fail(k, "%s: unknown key %q; a rule has the keys %s", what, k.Value, strings.Join(ruleKeys, ", "))
		}
	}
	if !given[keyUsers] && !given[keyGroups] {
		p.fail(node, "%s has neither users nor groups, so it would match nobody", what)
	}
	if !given[keyVerbs] {
		p.fail(node, "%s grants no verbs; give verbs, some of %s or %q", what, strings.Join(Verbs, ", "), Wildcard)
	}
	if !given[keyNamespaces] {
		p.fail(node, "%s names no namespaces; give namespaces, %q for all", what, Wildcard)
	}
	if maxNode != nil && len(r.Verbs) > 0 && !matches(r.Verbs, "scale") {
		p.fail(maxNode, "%s: maxReplicas only limits the scale verb, which the rule does not grant", what)
	}
	return r, len(p.errs) == before
}

// A check returns why an entry of a list is invalid, or "".
type check func(string) string

func nonEmpty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return ""
}

func verb(s string) string {
	if s == Wildcard || slices.Contains(Verbs, s) {
		return ""
	}
	return fmt.Sprintf("is not a verb; verbs are %s and %q", strings.Join(Verbs, ", "), Wildcard)
}

func namespace(s string) string {
	if s == Wildcard {
		return ""
	}
	if msgs := validation.IsDNS1123Label(s); len(msgs) > 0 {
		return "is not a namespace name: " + strings.Join(msgs, "; ")
	}
	return ""
}

func deployment(s string) string {
	if s == Wildcard {
		return ""
	}
	if msgs := validation.IsDNS1123Subdomain(s); len(msgs) > 0 {
		return "is not a deployment name: " + strings.Join(msgs, "; ")
	}
	return ""
}

// strings parses a list of strings, checking each entry.
func (p *parser) strings(n *yaml.Node, what, key string, valid check) []string {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, "%s: %s must be a list like [\"a\", \"b\"], not %s", what, key, kind(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		// Numbers are fine as names ("1234" as a CN); booleans, nulls,
		// lists and mappings are mistakes.
		if item.Kind != yaml.ScalarNode || (item.Tag != "!!str" && item.Tag != "!!int" && item.Tag != "!!float") {
			p.fail(item, "%s: entries of %s must be strings, not %s", what, key, kind(item))
			continue
		}
		if msg := valid(item.Value); msg != "" {
			p.fail(item, "%s: %s entry %q %s", what, key, item.Value, msg)
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (p *parser) maxReplicas(n *yaml.Node, what string) *int32 {
	bad := func() *int32 {
		p.fail(n, "%s: maxReplicas must be a whole number from 0 to %d, not %s", what, math.MaxInt32, kind(n))
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return bad()
	}
	v, err := strconv.ParseInt(n.Value, 10, 32)
	if err != nil || v < 0 {
		return bad()
	}
	m := int32(v)
	return &m
}
