//go:build tools

// Package tools pins the actionlint command so that `go mod tidy` keeps its
// dependencies in go.sum.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
)
