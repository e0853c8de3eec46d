//go:build tools

// Package tools records the main package that tools/build.sh builds, so that `go mod tidy`
// keeps every module it needs in go.mod and go.sum.
package tools

import (
	_ "github.com/prometheus/mysqld_exporter"
)
