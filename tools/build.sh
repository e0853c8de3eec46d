#!/usr/bin/env bash
# Builds the Kubernetes control plane binaries and etcd that the tests run on loopback, from
# source fetched through the Go module proxy, at the versions in tools/versions.env:
#
#   .cache/tools/kubernetes-<KUBERNETES_VERSION>/bin/{kube-apiserver,kube-controller-manager,kubectl}
#   .cache/tools/etcd-<ETCD_VERSION>/bin/{etcd,etcdctl}
#
# and, only when asked (`tools/build.sh vitess`: npm test and .ci/run do not build them), the
# Vitess binaries of the two releases the manifests target:
#
#   .cache/tools/vitess-<VITESS_V22_VERSION>/bin/{vtctld,vtctldclient,vttablet,mysqlctld,vtgate,vtorc}
#   .cache/tools/vitess-<VITESS_V9_VERSION>/bin/{vtctld,vtctlclient,vttablet,mysqlctld,vtgate,vtworker}
#
# Source stays in the Go module cache; the binaries go to .cache/tools/ (ignored by git). Each
# binary is built once per version: one that exists already is kept, so a second run takes
# seconds. A binary is built under a temporary name, checked to run (--version, or what
# version_args_of says), and only then renamed into place, so an interrupted build never leaves
# a broken binary behind.
#
# Usage:
#   tools/build.sh              build what is missing of Kubernetes and etcd, then print the paths
#                               of their binaries
#   tools/build.sh vitess       the same for the Vitess binaries (both releases) instead
#   tools/build.sh vitess-v22   the same for the Vitess v22 binaries only
#   tools/build.sh vitess-v9    the same for the Vitess v9 binaries only
#   tools/build.sh --print-env  print KUBERNETES_BIN_DIR=..., ETCD_BIN_DIR=..., VITESS_V22_BIN_DIR=...
#                               and VITESS_V9_BIN_DIR=... (builds nothing)
#   tools/build.sh --help
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$tools_dir")
cache_dir=$repo_dir/.cache/tools

# shellcheck source=versions.env
source "$tools_dir/versions.env"

kube_bin_dir=$cache_dir/kubernetes-$KUBERNETES_VERSION/bin
etcd_bin_dir=$cache_dir/etcd-$ETCD_VERSION/bin
vitess_v22_bin_dir=$cache_dir/vitess-$VITESS_V22_VERSION/bin
vitess_v9_bin_dir=$cache_dir/vitess-$VITESS_V9_VERSION/bin

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

print_env() {
  printf 'KUBERNETES_BIN_DIR=%s\n' "$kube_bin_dir"
  printf 'ETCD_BIN_DIR=%s\n' "$etcd_bin_dir"
  printf 'VITESS_V22_BIN_DIR=%s\n' "$vitess_v22_bin_dir"
  printf 'VITESS_V9_BIN_DIR=%s\n' "$vitess_v9_bin_dir"
}

# What to build: "kubernetes" (Kubernetes and etcd, the default) or the Vitess releases.
targets=()
case "${1-}" in
  "") targets=(kubernetes) ;;
  vitess) targets=(vitess-v22 vitess-v9) ;;
  vitess-v22 | vitess-v9) targets=("$1") ;;
  --print-env)
    print_env
    exit 0
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "tools/build.sh: unknown argument: $1" >&2
    usage >&2
    exit 2
    ;;
esac

log() {
  printf 'tools/build.sh: %s\n' "$*" >&2
}

# run STEP DIR COMMAND...: runs COMMAND in DIR; on failure says which step failed and the exact
# command (ready to paste into a shell), and exits with the command's status.
run() {
  local step=$1 dir=$2
  shift 2
  local rc=0
  (cd "$dir" && "$@") || rc=$?
  if [ "$rc" != 0 ]; then
    failed "$rc" "$step" "$dir" "$@"
  fi
}

# run_quiet STEP DIR COMMAND...: the same, but the output of COMMAND (stdout and stderr) is shown
# only if it fails.
run_quiet() {
  local step=$1 dir=$2
  shift 2
  local rc=0 out
  out=$(cd "$dir" && "$@" 2>&1) || rc=$?
  if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" >&2
    failed "$rc" "$step" "$dir" "$@"
  fi
}

failed() {
  local rc=$1 step=$2 dir=$3
  shift 3
  {
    printf 'tools/build.sh: FAILED (exit %s) at step: %s\n' "$rc" "$step"
    printf '  command: cd %q &&' "$dir"
    printf ' %q' "$@"
    printf '\n'
  } >&2
  exit "$rc"
}

# fail STEP MESSAGE...: stops with a message that is not about a failed command.
fail() {
  local step=$1
  shift
  printf 'tools/build.sh: FAILED at step: %s\n  %s\n' "$step" "$*" >&2
  exit 1
}

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    PATH=/usr/local/go/bin:$PATH
  else
    fail "find go" "no go command on PATH nor at /usr/local/go/bin/go"
  fi
fi

# The environment of every go command: static binaries, no go.work from outside the tools
# modules. Flags that make the build reproducible are on the command lines below.
go_env=(env CGO_ENABLED=0 GOWORK=off)

# The binaries, by tools module; package_of gives the main package of each.
kube_module=$tools_dir/kubernetes
kube_binaries=(kube-apiserver kube-controller-manager kubectl)
etcd_module=$tools_dir/etcd
etcd_binaries=(etcd etcdctl)
vitess_v22_module=$tools_dir/vitess-v22
vitess_v22_binaries=(vtctld vtctldclient vttablet mysqlctld vtgate vtorc)
vitess_v9_module=$tools_dir/vitess-v9
vitess_v9_binaries=(vtctld vtctlclient vttablet mysqlctld vtgate vtworker)

package_of() {
  case $1 in
    kube-apiserver | kube-controller-manager | kubectl) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    etcdctl) echo go.etcd.io/etcd/etcdctl/v3 ;;
    vt* | mysqlctld) echo "vitess.io/vitess/go/cmd/$1" ;;
  esac
}

# The command that checks that a freshly built binary runs (prints its version, opens no port).
# Two binaries of Vitess 9 are checked with -help (prints the flags, exits 0) instead: vtctlclient
# has no -version flag (it parses the flags, then wants -server), and vtworker calls servenv.Init
# before it looks at -version, which exits 1 for root ("running this as root makes no sense").
version_args_of() {
  case $1 in
    kube-apiserver | kube-controller-manager | etcd) echo --version ;;
    kubectl) echo version --client ;;
    etcdctl) echo version ;;
    vtctlclient | vtworker) echo -help ;;
    vt* | mysqlctld) echo --version ;;
  esac
}

missing_in() {
  local dir=$1 name
  shift
  for name in "$@"; do
    [ -x "$dir/$name" ] || echo "$name"
  done
}

# check_kube_module, check_etcd_module: the tools modules must pin what versions.env says.
check_kube_module() {
  local got
  got=$(cd "$kube_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Version}}' k8s.io/kubernetes) ||
    fail "check versions" "could not read the version of k8s.io/kubernetes in $kube_module/go.mod (cd $kube_module && go list -m k8s.io/kubernetes)"
  [ "$got" = "$KUBERNETES_VERSION" ] ||
    fail "check versions" "$kube_module/go.mod requires k8s.io/kubernetes $got, tools/versions.env says KUBERNETES_VERSION=$KUBERNETES_VERSION"
  # Every replace directive must point a staging module at itself, at the staging version.
  local bad
  bad=$(cd "$kube_module" && "${go_env[@]}" go list -mod=readonly -m \
    -f '{{with .Replace}}{{if or (ne .Path $.Path) (ne .Version "'"$KUBERNETES_STAGING_VERSION"'")}}{{$.Path}} => {{.Path}} {{.Version}}{{end}}{{end}}' all) ||
    fail "check versions" "could not list the modules of $kube_module (cd $kube_module && go list -m all)"
  [ -z "$bad" ] ||
    fail "check versions" "$kube_module/go.mod replaces these modules with something else than themselves at KUBERNETES_STAGING_VERSION=$KUBERNETES_STAGING_VERSION: $bad"
}

check_etcd_module() {
  local module got
  for module in go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3; do
    got=$(cd "$etcd_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' "$module") ||
      fail "check versions" "could not read the version of $module in $etcd_module/go.mod (cd $etcd_module && go list -m $module)"
    [ "$got" = "$ETCD_VERSION" ] ||
      fail "check versions" "$etcd_module/go.mod has $module $got, tools/versions.env says ETCD_VERSION=$ETCD_VERSION"
  done
}

# check_vitess_module MODULE-DIR VERSION: the tools module must pin vitess.io/vitess at VERSION
# and replace nothing (Vitess's own go.mod replaces nothing either: the build list is the release's).
check_vitess_module() {
  local module_dir=$1 want=$2 got bad
  got=$(cd "$module_dir" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' vitess.io/vitess) ||
    fail "check versions" "could not read the version of vitess.io/vitess in $module_dir/go.mod (cd $module_dir && go list -m vitess.io/vitess)"
  [ "$got" = "$want" ] ||
    fail "check versions" "$module_dir/go.mod has vitess.io/vitess $got, tools/versions.env says $want"
  bad=$(cd "$module_dir" && "${go_env[@]}" go list -mod=readonly -m -f '{{with .Replace}}{{$.Path}} => {{.Path}} {{.Version}} {{end}}' all) ||
    fail "check versions" "could not list the modules of $module_dir (cd $module_dir && go list -m all)"
  [ -z "$bad" ] ||
    fail "check versions" "$module_dir/go.mod replaces modules, which Vitess's own go.mod does not: $bad"
}

current_tmp=""
cleanup() {
  if [ -n "$current_tmp" ]; then
    rm -f "$current_tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# build_module MODULE-DIR BIN-DIR LDFLAGS NAME...: builds the named binaries that are missing.
build_module() {
  local module_dir=$1 bin_dir=$2 ldflags=$3
  shift 3
  local name pkg tmp start
  mkdir -p "$bin_dir"
  # Leftovers of an interrupted build (this script's temporary names only).
  find "$bin_dir" -maxdepth 1 -name '.*.tmp.*' -type f -mmin +120 -delete 2>/dev/null || true
  run "download the modules of $(basename "$module_dir")" "$module_dir" "${go_env[@]}" go mod download
  for name in "$@"; do
    if [ -x "$bin_dir/$name" ]; then
      continue
    fi
    pkg=$(package_of "$name")
    tmp=$bin_dir/.$name.tmp.$$
    current_tmp=$tmp
    start=$SECONDS
    log "building $name ($pkg) ..."
    run "build $name" "$module_dir" "${go_env[@]}" go build -mod=readonly -trimpath -buildvcs=false \
      -ldflags="$ldflags" -o "$tmp" "$pkg"
    # Quiet unless it fails: Vitess 9 logs to stderr even for -version (no syslog to connect to).
    # shellcheck disable=SC2046 # the version arguments are words
    run_quiet "check that $name runs" "$module_dir" "$tmp" $(version_args_of "$name")
    run "install $name" "$module_dir" mv -f "$tmp" "$bin_dir/$name"
    current_tmp=""
    log "built $name in $((SECONDS - start)) s"
  done
}

# Version stamps, as the projects' own release builds set them (hack/lib/version.sh in
# Kubernetes, build.sh in etcd). Without them kube-apiserver would take itself for v0.0.0.
kube_minor=${KUBERNETES_VERSION#v*.}
kube_minor=${kube_minor%%.*}
kube_major=${KUBERNETES_VERSION#v}
kube_major=${kube_major%%.*}
kube_ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION"
  kube_ldflags+=" -X $pkg.gitMajor=$kube_major -X $pkg.gitMinor=$kube_minor"
  kube_ldflags+=" -X $pkg.gitCommit= -X $pkg.buildDate=$KUBERNETES_BUILD_DATE"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_GIT_SHA"

# vitess_ldflags GIT-REV BUILD-TIME: the stamps of Vitess's tools/build_version_flags.sh (which
# `make build` passes), from versions.env instead of the git checkout and the clock: the
# release's commit, the branch that a checkout of a tag reports (HEAD), and the release's time
# in the format go/vt/servenv/buildinfo.go parses (time.UnixDate). buildUser and buildHost
# (whoami and hostname there) stay empty, so that every build of a version is the same.
vitess_ldflags() {
  local servenv=vitess.io/vitess/go/vt/servenv time
  time=$(LC_ALL=C date -u -d "$2" '+%a %b %e %H:%M:%S UTC %Y') ||
    fail "stamp the Vitess version" "could not convert the build time $2 (GNU date -d)"
  printf "%s -X '%s' -X '%s' -X '%s'" "-s -w" "$servenv.buildGitRev=$1" \
    "$servenv.buildGitBranch=HEAD" "$servenv.buildTime=$time"
}

build_kubernetes() {
  # Cheap (no download, no build): run every time, so that a go.mod moved without versions.env
  # (or the other way round) never passes for the binaries already in the cache.
  check_kube_module
  check_etcd_module
  if [ -n "$(missing_in "$kube_bin_dir" "${kube_binaries[@]}")" ]; then
    build_module "$kube_module" "$kube_bin_dir" "$kube_ldflags" "${kube_binaries[@]}"
  fi
  if [ -n "$(missing_in "$etcd_bin_dir" "${etcd_binaries[@]}")" ]; then
    build_module "$etcd_module" "$etcd_bin_dir" "$etcd_ldflags" "${etcd_binaries[@]}"
  fi
}

# Vitess v22 is built by the Go its own images are built with (VITESS_V22_GO_VERSION, the golang
# image of its docker/lite/Dockerfile), which the go command fetches from the module proxy
# (golang.org/toolchain) the first time: its go/hack refuses to compile without Go 1.24's
# swissmap experiment, which Go 1.26 no longer has (go_env is local to the function). Vitess v9
# builds with the installed Go (its images used Go 1.15; GOTOOLCHAIN=go1.15.15 builds it too,
# without the -buildvcs flag, which that go command does not know).
build_vitess_v22() {
  local go_env=("${go_env[@]}" "GOTOOLCHAIN=$VITESS_V22_GO_VERSION")
  local ldflags
  check_vitess_module "$vitess_v22_module" "$VITESS_V22_VERSION"
  ldflags=$(vitess_ldflags "$VITESS_V22_GIT_REV" "$VITESS_V22_BUILD_TIME")
  if [ -n "$(missing_in "$vitess_v22_bin_dir" "${vitess_v22_binaries[@]}")" ]; then
    build_module "$vitess_v22_module" "$vitess_v22_bin_dir" "$ldflags" "${vitess_v22_binaries[@]}"
  fi
}

build_vitess_v9() {
  local ldflags
  check_vitess_module "$vitess_v9_module" "$VITESS_V9_VERSION"
  ldflags=$(vitess_ldflags "$VITESS_V9_GIT_REV" "$VITESS_V9_BUILD_TIME")
  if [ -n "$(missing_in "$vitess_v9_bin_dir" "${vitess_v9_binaries[@]}")" ]; then
    build_module "$vitess_v9_module" "$vitess_v9_bin_dir" "$ldflags" "${vitess_v9_binaries[@]}"
  fi
}

total_start=$SECONDS
for target in "${targets[@]}"; do
  case $target in
    kubernetes) build_kubernetes ;;
    vitess-v22) build_vitess_v22 ;;
    vitess-v9) build_vitess_v9 ;;
  esac
done
log "done in $((SECONDS - total_start)) s"

for target in "${targets[@]}"; do
  case $target in
    kubernetes)
      for name in "${kube_binaries[@]}"; do
        echo "$kube_bin_dir/$name"
      done
      for name in "${etcd_binaries[@]}"; do
        echo "$etcd_bin_dir/$name"
      done
      ;;
    vitess-v22)
      for name in "${vitess_v22_binaries[@]}"; do
        echo "$vitess_v22_bin_dir/$name"
      done
      ;;
    vitess-v9)
      for name in "${vitess_v9_binaries[@]}"; do
        echo "$vitess_v9_bin_dir/$name"
      done
      ;;
  esac
done
