// Package apispec holds the OpenAPI description of the replicasd API v1
// (openapi.yaml in this directory), embedded so that the server can serve
// the very document that is reviewed and tested. It lives beside the file
// because go:embed cannot reach a parent directory.
package apispec

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the API, in YAML.
//
//go:embed openapi.yaml
var OpenAPI []byte
