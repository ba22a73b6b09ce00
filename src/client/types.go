package client

import "time"

// Deployment is one item of the API: the contract's namespace, name and
// replicaCount, plus the extra fields replicasd adds (zero when a server
// does not send them).
type Deployment struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ReplicaCount is the desired count, spec.replicas.
	ReplicaCount      int32  `json:"replicaCount"`
	ResourceVersion   string `json:"resourceVersion,omitempty"`
	ReadyReplicas     int32  `json:"readyReplicas"`
	AvailableReplicas int32  `json:"availableReplicas"`
	UpdatedReplicas   int32  `json:"updatedReplicas"`
	// CreationTimestamp is zero when the server did not send one.
	CreationTimestamp time.Time `json:"creationTimestamp,omitzero"`
}

// ScaleResponse is the body of a successful PUT.
type ScaleResponse struct {
	Message      string `json:"message"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	ReplicaCount int32  `json:"replicaCount"`
	// Changed is false when the Deployment already had the count and
	// nothing was written.
	Changed bool `json:"changed"`
	// Warnings are the server's warnings about a write that succeeded (for
	// example: its cache did not show the write in time), from the body or
	// else from the Warning headers; print them as kubectl does.
	Warnings []string `json:"warnings,omitempty"`
}

// Health is the body of GET /api/v1/health, healthy or not.
type Health struct {
	Status     string `json:"status"`
	Kubernetes string `json:"kubernetes"`
	Error      string `json:"error,omitempty"`
}
