// Package authz decides what each verified client may do, from a YAML policy
// file keyed by certificate identity (CN = user, O = groups). The file is
// validated strictly, every problem naming its line, and reloaded when it
// changes; a file that fails to load leaves the last good policy in place.
//
// A policy is a list of rules; a rule grants verbs (get, list, scale) on the
// Deployments of some namespaces to some users and groups, optionally
// capping the replica count a scale may set. Rules only add permissions:
// whatever no rule grants is denied. docs/security.md describes the format.
package authz
