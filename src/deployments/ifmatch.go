package deployments

import (
	"slices"
	"strconv"
	"strings"
)

// IfMatch is the condition of an If-Match header on a write, evaluated with
// RFC 9110's strong comparison. The zero value is no condition: the write
// is unconditional (last writer wins).
type IfMatch struct {
	// Any is If-Match: *, which every existing Deployment matches; a
	// missing one is not found, as without a condition.
	Any bool
	// ResourceVersions are the values of the strong entity tags listed;
	// the Deployment matches when its resourceVersion is one of them.
	ResourceVersions []string
	// Weak are the weak entity tags listed, as sent (W/"..."). By strong
	// comparison they never match, but they make the write conditional.
	Weak []string
}

// Conditional reports whether the write depends on the Deployment's
// resourceVersion (any entity tag was listed).
func (m IfMatch) Conditional() bool {
	return !m.Any && (len(m.ResourceVersions) > 0 || len(m.Weak) > 0)
}

// Matches reports whether a Deployment at resourceVersion rv satisfies the
// condition.
func (m IfMatch) Matches(rv string) bool {
	return !m.Conditional() || slices.Contains(m.ResourceVersions, rv)
}

// String returns the condition as an If-Match value: `*`, or the entity
// tags, strong ones first.
func (m IfMatch) String() string {
	if m.Any {
		return "*"
	}
	tags := make([]string, 0, len(m.ResourceVersions)+len(m.Weak))
	for _, rv := range m.ResourceVersions {
		tags = append(tags, strconv.Quote(rv))
	}
	tags = append(tags, m.Weak...)
	return strings.Join(tags, ", ")
}
