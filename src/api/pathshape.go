package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// pathMatcher returns a mux matcher for a path template whose variables use
// mux's default pattern ("{name}", one non-empty segment): it accepts exactly
// the paths the template's regular expression accepts (same number of
// segments, literal ones equal, variable ones not empty) and puts the
// variables into the match, as mux would, for mux.Vars.
//
// The routes use it instead of mux's Path: mux matches a path template with a
// regular expression, tried against every route in turn and run twice on the
// winning one (once to match, once to extract the variables), which cost more
// than everything else a cached GET does after TLS. The templates stay
// available by route name (PathTemplate).
//
// It reads r.URL.Path, as the router does without UseEncodedPath. It returns
// nil for a template with a custom variable pattern ("{name:regexp}"), which
// needs mux's own Path.
func pathMatcher(template string) mux.MatcherFunc {
	segments := strings.Split(template, "/")
	names := make([]string, len(segments)) // the variable's name, or "" for a literal
	nvars := 0
	for i, seg := range segments {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name, ok = strings.CutSuffix(name, "}")
			if !ok || name == "" || strings.ContainsAny(name, ":{}") {
				return nil
			}
			names[i] = name
			nvars++
		}
	}
	if nvars > 8 {
		return nil // more than the matcher keeps on its stack
	}
	if nvars == 0 {
		return func(r *http.Request, match *mux.RouteMatch) bool {
			if r.URL.Path != template {
				return false
			}
			match.Vars = map[string]string{}
			return true
		}
	}
	// The literal text before the first variable: most routes tried fail
	// on it, with one comparison.
	prefix := template[:strings.IndexByte(template, '{')]
	return func(r *http.Request, match *mux.RouteMatch) bool {
		path := r.URL.Path
		if !strings.HasPrefix(path, prefix) {
			return false
		}
		// The variables' values, kept until the whole path matched: most
		// routes tried fail, and should cost no allocation.
		var values [8]string
		nvars := 0
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
			switch {
			case names[i] == "":
				if seg != want {
					return false
				}
			case seg == "":
				return false
			default:
				if nvars == len(values) {
					return false // more variables than any template here has
				}
				values[nvars] = seg
				nvars++
			}
		}
		// A fresh map: mux reuses match across the routes it tries.
		vars := make(map[string]string, nvars)
		n := 0
		for _, name := range names {
			if name != "" {
				vars[name] = values[n]
				n++
			}
		}
		match.Vars = vars
		return true
	}
}
