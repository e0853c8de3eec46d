// Tools module of the S3-compatible server that the S3 backup storage test runs on loopback
// (main.go). Built by tools/build.sh; nothing here is part of the cdk8s-vitess library. Keep
// gofakes3 in step with S3_SERVER_GOFAKES3_VERSION in ../versions.env.

module cdk8s-vitess/tools/s3-server

go 1.24

require github.com/johannesboyne/gofakes3 v1.2.0

require (
	github.com/ryszard/goskiplist v0.0.0-20150312221310-2dfbae5fcf46 // indirect
	go.shabbyrobe.org/gocovmerge v0.0.0-20230507111327-fa4f82cfbf4d // indirect
	golang.org/x/tools v0.8.0 // indirect
)
