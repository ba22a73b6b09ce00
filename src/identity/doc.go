// Package identity is who a request comes from: the [Identity] a verified
// client certificate names, read once per connection ([ConnContext]), put in
// the request context by [Middleware] and read back with [From].
//
// It knows nothing of how the certificate was verified (that is tlsconfig's
// job), so the packages that only need to know who asked (authz, audit,
// handshakes) do not depend on TLS configuration.
package identity
