//go:build tools

// Package tools records the main packages that tools/build.sh builds, so that `go mod tidy`
// keeps every module they need in go.mod and go.sum.
package tools

import (
	_ "vitess.io/vitess/go/cmd/mysqlctl"
	_ "vitess.io/vitess/go/cmd/mysqlctld"
	_ "vitess.io/vitess/go/cmd/vtadmin"
	_ "vitess.io/vitess/go/cmd/vtctld"
	_ "vitess.io/vitess/go/cmd/vtctldclient"
	_ "vitess.io/vitess/go/cmd/vtgate"
	_ "vitess.io/vitess/go/cmd/vtorc"
	_ "vitess.io/vitess/go/cmd/vttablet"
)
