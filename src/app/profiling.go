package app

import (
	"net/http"
	"net/http/pprof"
)

// registerProfiling serves Go's runtime profiles under /debug/pprof/ on mux
// (--profiling), registered by hand: importing net/http/pprof for its side
// effect would put them on http.DefaultServeMux instead.
func registerProfiling(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
