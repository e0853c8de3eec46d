// Tools module that pins the Vitess v9 binaries (vtctld, vtctlclient, vttablet, mysqlctld,
// vtgate, vtworker) of vitess/lite:v9.0.0 for tests that run real Vitess. Built by
// `tools/build.sh vitess-v9` (and `image-v9`, which npm test runs); nothing here is part of the
// cdk8s-vitess library.
//
// vitess.io/vitess v0.9.0 (release v9.0.0, 2021) replaces no module in its own go.mod, so
// requiring it pins the release's build list: no replace needed. The go line is that of
// Vitess's go.mod (1.15: no module graph pruning, so go.mod lists no indirect requirements).
// Keep the version in step with VITESS_V9_VERSION in ../versions.env.

module cdk8s-vitess/tools/vitess-v9

go 1.15

require vitess.io/vitess v0.9.0
