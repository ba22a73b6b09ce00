// Package tlsconfig builds the API server's mutual-TLS configuration, reloads
// its certificate, key and client CA bundle when the files change, and exposes
// the verified client's identity to handlers.
//
// A [Reloader] owns the files. Its [Reloader.TLSConfig] is the one place a
// server tls.Config is built; every handshake picks up the current material
// through GetConfigForClient, so a reload takes effect without a restart.
package tlsconfig
