// Package client is a small Go client for the replicasd HTTP API v1: list
// Deployments, read one replica count with its ETag, and set it, optionally
// conditional on that ETag (If-Match).
//
// Every call goes over mutual TLS. Failures come back as one of two error
// types so callers can react to them: *APIError when the server answered
// with an error status, and *ConnectionError when no answer came (the server
// was unreachable, or either side refused the other's certificate), with a
// Kind saying which.
package client
