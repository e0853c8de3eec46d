//go:build tools

// Package tools records the main packages that tools/build.sh builds, so that `go mod tidy`
// keeps every module they need in go.mod and go.sum.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
