// Package integration runs replicasd in-process against a real etcd and
// kube-apiserver started by controller-runtime's envtest.
package integration
