package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// pathShape returns a cheap mux matcher that accepts only the paths with
// the segments of template: the same number, the literal ones equal, the
// variable ones not empty. Each route puts it before its path template,
// whose regular expression still decides and extracts the variables; mux
// tries the routes one after another, and without this every request paid
// the regular expressions of the routes before its own, the largest cost
// of a cached GET after TLS.
//
// It must never refuse a path the template accepts: it reads r.URL.Path,
// as the router does without UseEncodedPath, and a template with a custom
// variable pattern ({name:regexp}), which could match empty or slashed
// values, gets a matcher that accepts everything.
func pathShape(template string) mux.MatcherFunc {
	segments := strings.Split(template, "/")
	variable := make([]bool, len(segments))
	for i, seg := range segments {
		if strings.HasPrefix(seg, "{") {
			if strings.Contains(seg, ":") {
				return func(*http.Request, *mux.RouteMatch) bool { return true }
			}
			variable[i] = true
		}
	}
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		path := r.URL.Path
		for i, want := range segments {
			seg := path
			if i < len(segments)-1 {
				j := strings.IndexByte(path, '/')
				if j < 0 {
					return false
				}
				seg, path = path[:j], path[j+1:]
			} else if strings.IndexByte(path, '/') >= 0 {
				return false
			}
			if variable[i] {
				if seg == "" {
					return false
				}
			} else if seg != want {
				return false
			}
		}
		return true
	}
}
