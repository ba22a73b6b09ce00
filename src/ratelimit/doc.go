// Package ratelimit protects replicasd and the Kubernetes API from noisy
// clients: per-identity token buckets (golang.org/x/time/rate) with bounded
// memory, and bounds on the requests in flight, for the process and for each
// identity. Over a limit, a request gets an [*Error] carrying how long to
// wait, which the API answers with 429 and Retry-After.
package ratelimit
