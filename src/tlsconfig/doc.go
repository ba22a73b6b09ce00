// Package tlsconfig builds the API server's mutual-TLS configuration, reloads
// its certificate, key and client CA bundle when the files change, and
// re-verifies the client certificates of open connections. Who a verified
// certificate names is package identity's.
//
// A [Reloader] owns the files. Its [Reloader.TLSConfig] is the one place a
// server tls.Config is built; every handshake picks up the current material
// through GetConfigForClient, so a reload takes effect without a restart.
package tlsconfig
