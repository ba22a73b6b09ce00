// Package certs generates X.509 certificates with ECDSA P-256 keys: a CA,
// server certificates and client certificates, good or deliberately bad.
//
// It backs the `replicasd certs` subcommand (see [Command]) and every test in
// the project that needs certificates, so nothing that expires is committed.
package certs
