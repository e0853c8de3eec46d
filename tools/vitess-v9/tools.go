//go:build tools
// +build tools

// Package tools records the main packages that tools/build.sh builds, so that `go mod tidy`
// keeps every module they need in go.mod and go.sum.
package tools

import (
	_ "vitess.io/vitess/go/cmd/mysqlctld"
	_ "vitess.io/vitess/go/cmd/vtctlclient"
	_ "vitess.io/vitess/go/cmd/vtctld"
	_ "vitess.io/vitess/go/cmd/vtgate"
	_ "vitess.io/vitess/go/cmd/vttablet"
	_ "vitess.io/vitess/go/cmd/vtworker"
)
