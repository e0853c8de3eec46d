#!/usr/bin/env bash
# Builds the Kubernetes control plane binaries and etcd that the tests run on loopback, from
# source fetched through the Go module proxy, at the versions in tools/versions.env:
#
#   .cache/tools/kubernetes-<KUBERNETES_VERSION>/bin/{kube-apiserver,kube-controller-manager,kubectl}
#   .cache/tools/etcd-<ETCD_VERSION>/bin/{etcd,etcdctl}
#
# Source stays in the Go module cache; the binaries go to .cache/tools/ (ignored by git). Each
# binary is built once per version: one that exists already is kept, so a second run takes
# seconds. A binary is built under a temporary name, checked to run (--version), and only then
# renamed into place, so an interrupted build never leaves a broken binary behind.
#
# Usage:
#   tools/build.sh              build what is missing, then print the paths of the binaries
#   tools/build.sh --print-env  print KUBERNETES_BIN_DIR=... and ETCD_BIN_DIR=... (builds nothing)
#   tools/build.sh --help
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$tools_dir")
cache_dir=$repo_dir/.cache/tools

# shellcheck source=versions.env
source "$tools_dir/versions.env"

kube_bin_dir=$cache_dir/kubernetes-$KUBERNETES_VERSION/bin
etcd_bin_dir=$cache_dir/etcd-$ETCD_VERSION/bin

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

print_env() {
  printf 'KUBERNETES_BIN_DIR=%s\n' "$kube_bin_dir"
  printf 'ETCD_BIN_DIR=%s\n' "$etcd_bin_dir"
}

case "${1-}" in
  "") ;;
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
    {
      printf 'tools/build.sh: FAILED (exit %s) at step: %s\n' "$rc" "$step"
      printf '  command: cd %q &&' "$dir"
      printf ' %q' "$@"
      printf '\n'
    } >&2
    exit "$rc"
  fi
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

package_of() {
  case $1 in
    kube-apiserver | kube-controller-manager | kubectl) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    etcdctl) echo go.etcd.io/etcd/etcdctl/v3 ;;
  esac
}

# The command that checks that a freshly built binary runs (prints its version, opens no port).
version_args_of() {
  case $1 in
    kube-apiserver | kube-controller-manager | etcd) echo --version ;;
    kubectl) echo version --client ;;
    etcdctl) echo version ;;
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
    # shellcheck disable=SC2046 # the version arguments are words
    run "check that $name runs" "$module_dir" "$tmp" $(version_args_of "$name") >/dev/null
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

total_start=$SECONDS
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
log "done in $((SECONDS - total_start)) s"

for name in "${kube_binaries[@]}"; do
  echo "$kube_bin_dir/$name"
done
for name in "${etcd_binaries[@]}"; do
  echo "$etcd_bin_dir/$name"
done
