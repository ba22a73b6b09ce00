package tlsconfig

import (
	"encoding/json"
	"net/http"
)

// RefuseRevoked guards the connections that were open before a CRL revoked
// their client certificate: the handshake check cannot reach them, and a
// client that keeps its connection busy would otherwise be served forever.
// Each request is checked against the current CRLs (a map lookup, and only
// with a CRL file); a revoked one is answered 401 with the error envelope
// and its connection is closed, so the client's next attempt is a handshake,
// which is refused.
func (r *Reloader) RefuseRevoked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if rv := r.gen.Load().material.revocations; rv != nil && req.TLS != nil {
			for _, c := range req.TLS.PeerCertificates {
				if rv.isRevoked(c) {
					h := w.Header()
					h.Set("Connection", "close")
					h.Set("Content-Type", "application/json")
					h.Set("X-Content-Type-Options", "nosniff")
					w.WriteHeader(http.StatusUnauthorized)
					_ = json.NewEncoder(w).Encode(map[string]string{"error": "the client certificate has been revoked"})
					return
				}
			}
		}
		next.ServeHTTP(w, req)
	})
}
