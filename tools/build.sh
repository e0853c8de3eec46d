#!/usr/bin/env bash
# Builds the Kubernetes control plane binaries and etcd that the tests run on loopback, from
# source fetched through the Go module proxy, at the versions in tools/versions.env:
#
#   .cache/tools/kubernetes-<KUBERNETES_VERSION>/bin/{kube-apiserver,kube-controller-manager,kubectl}
#   .cache/tools/etcd-<ETCD_VERSION>/bin/{etcd,etcdctl}
#
# with the S3-compatible server of the S3 backup storage test (tools/s3-server, this repository's
# own program on gofakes3 S3_SERVER_GOFAKES3_VERSION; its folder is named by a hash of its source,
# so that a change to it is built anew):
#
#   .cache/tools/s3-server-<hash>/bin/s3-server
#
# and, when asked (npm test asks for `image-v24` and `image-v9`, which build the v24 and v9
# binaries they hold; `tools/build.sh vitess` builds every release), the Vitess binaries of
# release 24 (for the end-to-end test that runs real Vitess) and of the two releases the
# manifests target:
#
#   .cache/tools/vitess-<VITESS_V24_VERSION>/bin/{mysqlctl,mysqlctld,vtadmin,vtctld,vtctldclient,vtgate,vtorc,vttablet}
#   .cache/tools/vitess-<VITESS_V22_VERSION>/bin/{vtctld,vtctldclient,vttablet,mysqlctld,vtgate,vtorc,vtadmin}
#   .cache/tools/vitess-<VITESS_V9_VERSION>/bin/{vtctld,vtctlclient,vttablet,mysqlctld,vtgate,vtworker}
#
# and a root filesystem that models the image vitess/lite:v24.0.4 (Debian packages from
# deb.debian.org with debootstrap, MySQL 9.7 from Debian sid, the v24 binaries in /vt/bin), with
# a description of it (env, user, packages, how it differs from the real image):
#
#   .cache/tools/image-vitess-lite-v24.0.4/{rootfs/,image.json}
#
# and, only when asked (`tools/build.sh image-v9`), one that models vitess/lite:v9.0.0 (Debian
# bookworm, MariaDB 10.11 for MySQL 5.7, the v9 binaries in /vt/bin; see build_image_v9):
#
#   .cache/tools/image-vitess-lite-v9.0.0/{rootfs/,image.json}
#
# and, when asked (`tools/build.sh exporter`, which npm test runs), the Prometheus mysqld_exporter
# of the tablets' optional sidecar, for the test that runs it against a real MariaDB:
#
#   .cache/tools/mysqld-exporter-<MYSQLD_EXPORTER_VERSION>/bin/mysqld_exporter
#
# Source stays in the Go module cache; the binaries go to .cache/tools/ (ignored by git). Each
# binary is built once per version: one that exists already is kept, so a second run takes
# seconds. A binary is built under a temporary name, checked to run (--version, or what
# version_args_of says), and only then renamed into place, so an interrupted build never leaves
# a broken binary behind. The root filesystem likewise is built in a temporary folder and renamed
# into place when complete; one that exists is kept. The .debs it downloads stay in
# .cache/tools/debs-<suite>/ for the next build.
#
# Usage:
#   tools/build.sh              build what is missing of Kubernetes, etcd and the S3 test server,
#                               then print the paths of their binaries
#   tools/build.sh s3-server    the same for the S3 test server only
#   tools/build.sh vitess       the same for the Vitess binaries (v24, v22, v9) and the v24 image
#                               root instead
#   tools/build.sh vitess-v24   the same for the Vitess v24 binaries only
#   tools/build.sh vitess-v22   the same for the Vitess v22 binaries only
#   tools/build.sh vitess-v9    the same for the Vitess v9 binaries only
#   tools/build.sh vtadmin      the same for vtadmin of v24 and v22 only (what
#                               tools/reference/generate-vtadmin.ts reads)
#   tools/build.sh image-v24    the root filesystem of vitess/lite:v24.0.4 (builds the v24 binaries
#                               first if missing; needs root, debootstrap, chroot and deb.debian.org),
#                               then print the paths of rootfs/ and image.json
#   tools/build.sh image-v9     the same for vitess/lite:v9.0.0 (builds the v9 binaries first if
#                               missing; checks that mysqlctld initialises and starts MariaDB in it)
#   tools/build.sh exporter     mysqld_exporter (the tablets' optional sidecar), then print its path
#   tools/build.sh --print-env  print KUBERNETES_BIN_DIR=..., ETCD_BIN_DIR=..., S3_SERVER_BIN_DIR=...,
#                               VITESS_V24_BIN_DIR=..., VITESS_V22_BIN_DIR=..., VITESS_V9_BIN_DIR=...,
#                               VITESS_V24_IMAGE_DIR=..., VITESS_V9_IMAGE_DIR=... and
#                               MYSQLD_EXPORTER_BIN_DIR=... (builds nothing)
#   tools/build.sh --help
set -euo pipefail

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$tools_dir")
cache_dir=$repo_dir/.cache/tools

# shellcheck source=versions.env
source "$tools_dir/versions.env"

kube_bin_dir=$cache_dir/kubernetes-$KUBERNETES_VERSION/bin
etcd_bin_dir=$cache_dir/etcd-$ETCD_VERSION/bin
vitess_v24_bin_dir=$cache_dir/vitess-$VITESS_V24_VERSION/bin
vitess_v22_bin_dir=$cache_dir/vitess-$VITESS_V22_VERSION/bin
vitess_v9_bin_dir=$cache_dir/vitess-$VITESS_V9_VERSION/bin
# The image's tag is the release (vX.0.Y) of the Go module version (v0.X.Y).
vitess_v24_release=${VITESS_V24_VERSION#v0.}
vitess_v24_release=v${vitess_v24_release%%.*}.0.${VITESS_V24_VERSION##*.}
vitess_v24_image_dir=$cache_dir/image-vitess-lite-$vitess_v24_release
vitess_v9_release=${VITESS_V9_VERSION#v0.}
vitess_v9_release=v${vitess_v9_release%%.*}.0.${VITESS_V9_VERSION##*.}
vitess_v9_image_dir=$cache_dir/image-vitess-lite-$vitess_v9_release
exporter_bin_dir=$cache_dir/mysqld-exporter-$MYSQLD_EXPORTER_VERSION/bin
s3_server_module=$tools_dir/s3-server
s3_server_hash=$(cat "$s3_server_module/main.go" "$s3_server_module/go.mod" "$s3_server_module/go.sum" | sha256sum | cut -c1-12)
s3_server_bin_dir=$cache_dir/s3-server-$s3_server_hash/bin

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

print_env() {
  printf 'KUBERNETES_BIN_DIR=%s\n' "$kube_bin_dir"
  printf 'ETCD_BIN_DIR=%s\n' "$etcd_bin_dir"
  printf 'VITESS_V24_BIN_DIR=%s\n' "$vitess_v24_bin_dir"
  printf 'VITESS_V22_BIN_DIR=%s\n' "$vitess_v22_bin_dir"
  printf 'VITESS_V9_BIN_DIR=%s\n' "$vitess_v9_bin_dir"
  printf 'VITESS_V24_IMAGE_DIR=%s\n' "$vitess_v24_image_dir"
  printf 'VITESS_V9_IMAGE_DIR=%s\n' "$vitess_v9_image_dir"
  printf 'MYSQLD_EXPORTER_BIN_DIR=%s\n' "$exporter_bin_dir"
  printf 'S3_SERVER_BIN_DIR=%s\n' "$s3_server_bin_dir"
}

# What to build: "kubernetes" (Kubernetes and etcd, the default) or the Vitess releases.
targets=()
case "${1-}" in
  "") targets=(kubernetes s3-server) ;;
  vitess) targets=(vitess-v24 vitess-v22 vitess-v9 image-v24) ;;
  vitess-v24 | vitess-v22 | vitess-v9 | image-v24 | image-v9 | exporter | s3-server | vtadmin) targets=("$1") ;;
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
vitess_v24_module=$tools_dir/vitess-v24
vitess_v24_binaries=(mysqlctl mysqlctld vtadmin vtctld vtctldclient vtgate vtorc vttablet)
vitess_v22_module=$tools_dir/vitess-v22
vitess_v22_binaries=(vtctld vtctldclient vttablet mysqlctld vtgate vtorc vtadmin)
vitess_v9_module=$tools_dir/vitess-v9
vitess_v9_binaries=(vtctld vtctlclient vttablet mysqlctld vtgate vtworker)
exporter_module=$tools_dir/mysqld-exporter
exporter_binaries=(mysqld_exporter)
s3_server_binaries=(s3-server)

package_of() {
  case $1 in
    kube-apiserver | kube-controller-manager | kubectl) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    etcdctl) echo go.etcd.io/etcd/etcdctl/v3 ;;
    vt* | mysqlctl | mysqlctld) echo "vitess.io/vitess/go/cmd/$1" ;;
    mysqld_exporter) echo github.com/prometheus/mysqld_exporter ;;
    s3-server) echo . ;;
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
    vtctlclient | vtworker | s3-server) echo -help ;;
    vt* | mysqlctl | mysqlctld | mysqld_exporter) echo --version ;;
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

# check_exporter_module: the tools module must pin github.com/prometheus/mysqld_exporter at
# MYSQLD_EXPORTER_VERSION and replace nothing (the exporter's own go.mod replaces nothing either).
check_exporter_module() {
  local got bad
  got=$(cd "$exporter_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}' github.com/prometheus/mysqld_exporter) ||
    fail "check versions" "could not read the version of github.com/prometheus/mysqld_exporter in $exporter_module/go.mod (cd $exporter_module && go list -m github.com/prometheus/mysqld_exporter)"
  [ "$got" = "$MYSQLD_EXPORTER_VERSION" ] ||
    fail "check versions" "$exporter_module/go.mod has github.com/prometheus/mysqld_exporter $got, tools/versions.env says MYSQLD_EXPORTER_VERSION=$MYSQLD_EXPORTER_VERSION"
  bad=$(cd "$exporter_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{with .Replace}}{{$.Path}} => {{.Path}} {{.Version}} {{end}}' all) ||
    fail "check versions" "could not list the modules of $exporter_module (cd $exporter_module && go list -m all)"
  [ -z "$bad" ] ||
    fail "check versions" "$exporter_module/go.mod replaces modules, which the exporter's own go.mod does not: $bad"
}

current_tmp=""
current_image_tmp=""
cleanup() {
  if [ -n "$current_tmp" ]; then
    rm -f "$current_tmp"
  fi
  if [ -n "$current_image_tmp" ]; then
    remove_image_tmp "$current_image_tmp"
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
    if [ "$module_dir" = "$vitess_v9_module" ] && [ "$name" = vttablet ]; then
      rice_append_v9 "$tmp"
    fi
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

# The version stamps of the exporter's own release builds (.promu.yml: Version, Revision, Branch,
# BuildUser, BuildDate of github.com/prometheus/common/version), from versions.env instead of
# the git checkout and the clock; BuildUser stays empty, so that every build is the same.
exporter_ldflags() {
  local version pkg=github.com/prometheus/common/version
  version=${MYSQLD_EXPORTER_VERSION#v}
  printf "%s -X '%s' -X '%s' -X '%s' -X '%s'" "-s -w" "$pkg.Version=$version" \
    "$pkg.Revision=$MYSQLD_EXPORTER_GIT_REV" "$pkg.Branch=HEAD" "$pkg.BuildDate=$MYSQLD_EXPORTER_BUILD_DATE"
}

build_exporter() {
  check_exporter_module
  if [ -n "$(missing_in "$exporter_bin_dir" "${exporter_binaries[@]}")" ]; then
    build_module "$exporter_module" "$exporter_bin_dir" "$(exporter_ldflags)" "${exporter_binaries[@]}"
  fi
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

# The S3 test server: the tools module must pin gofakes3 at S3_SERVER_GOFAKES3_VERSION.
build_s3_server() {
  local got
  got=$(cd "$s3_server_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Version}}' github.com/johannesboyne/gofakes3) ||
    fail "check versions" "could not read the version of gofakes3 in $s3_server_module/go.mod (cd $s3_server_module && go list -m github.com/johannesboyne/gofakes3)"
  [ "$got" = "$S3_SERVER_GOFAKES3_VERSION" ] ||
    fail "check versions" "$s3_server_module/go.mod requires gofakes3 $got, tools/versions.env says S3_SERVER_GOFAKES3_VERSION=$S3_SERVER_GOFAKES3_VERSION"
  if [ -n "$(missing_in "$s3_server_bin_dir" "${s3_server_binaries[@]}")" ]; then
    build_module "$s3_server_module" "$s3_server_bin_dir" "-s -w" "${s3_server_binaries[@]}"
  fi
}

# Vitess v24 is built, like v22, by the Go of its own images (VITESS_V24_GO_VERSION, the golang
# image of its docker/lite/Dockerfile and the go line of its go.mod), go1.26.8, which is also
# the installed Go (its go/hack accepts Go 1.26 without the swissmap experiment).
build_vitess_v24() {
  local go_env=("${go_env[@]}" "GOTOOLCHAIN=$VITESS_V24_GO_VERSION")
  local ldflags
  check_vitess_module "$vitess_v24_module" "$VITESS_V24_VERSION"
  ldflags=$(vitess_ldflags "$VITESS_V24_GIT_REV" "$VITESS_V24_BUILD_TIME")
  if [ -n "$(missing_in "$vitess_v24_bin_dir" "${vitess_v24_binaries[@]}")" ]; then
    build_module "$vitess_v24_module" "$vitess_v24_bin_dir" "$ldflags" "${vitess_v24_binaries[@]}"
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

# rice_append_v9 BINARY: appends to v9's vttablet the files of its rice box ../../../resources/bin
# (gh-ost, for online DDL), as v9's `make build` does (Makefile line 62: `rice append` in
# go/cmd/vttablet). Without them vttablet exits at start: "failed to extract online DDL
# binaries: could not locate box" (go/cmd/vttablet/vttablet.go lines 85-87 at v0.9.0). rice is
# the go.rice v1.0.0 of Vitess's own go.mod, pinned in tools/vitess-v9/go.sum.
rice_append_v9() {
  local binary=$1 rice vitess_dir
  rice=$(dirname "$binary")/.rice.tmp.$$
  run "build rice" "$vitess_v9_module" "${go_env[@]}" go build -mod=readonly -trimpath -o "$rice" github.com/GeertJohan/go.rice/rice
  vitess_dir=$(cd "$vitess_v9_module" && "${go_env[@]}" go list -m -f '{{.Dir}}' vitess.io/vitess)
  run "append the online DDL binaries to vttablet" "$vitess_dir/go/cmd/vttablet" "$rice" append --exec="$binary"
  rm -f "$rice"
}

# vtadmin of v24 and v22 alone (`tools/build.sh vtadmin`): the binaries whose --help
# tools/reference/generate-vtadmin.ts reads (Vitess has no go/flags/endtoend/vtadmin.txt), without
# building the other binaries of v22. Each is built as build_vitess_v24 and build_vitess_v22 build it.
build_vtadmin() {
  build_vtadmin_of "$vitess_v24_module" "$VITESS_V24_VERSION" "$VITESS_V24_GO_VERSION" \
    "$VITESS_V24_GIT_REV" "$VITESS_V24_BUILD_TIME" "$vitess_v24_bin_dir"
  build_vtadmin_of "$vitess_v22_module" "$VITESS_V22_VERSION" "$VITESS_V22_GO_VERSION" \
    "$VITESS_V22_GIT_REV" "$VITESS_V22_BUILD_TIME" "$vitess_v22_bin_dir"
}

# build_vtadmin_of MODULE-DIR VERSION GO-VERSION GIT-REV BUILD-TIME BIN-DIR
build_vtadmin_of() {
  local go_env=("${go_env[@]}" "GOTOOLCHAIN=$3")
  local ldflags
  check_vitess_module "$1" "$2"
  ldflags=$(vitess_ldflags "$4" "$5")
  if [ -n "$(missing_in "$6" vtadmin)" ]; then
    build_module "$1" "$6" "$ldflags" vtadmin
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

# The root filesystem of the image vitess/lite:v24.0.4, as the release's docker/lite/Dockerfile
# and docker/utils/install_dependencies.sh (flavor mysql84, amd64) make it, as far as Debian's
# own archive allows:
#
# - the real image is debian:trixie-slim with MySQL 8.4.8 from MySQL's apt repository, which
#   cannot be reached from here; Debian has MySQL only in unstable (sid), at 9.7, so this root is
#   Debian sid (debootstrap --variant=minbase, with the dpkg path excludes of Debian's -slim
#   images) and mysqld is Debian's mysql-server-core (Vitess v24 configures 9.x with its
#   mysql90.cnf);
# - install_dependencies.sh's base packages are installed under the names it gives for trixie
#   (the t64 library names, which sid has too); of its mysql84 packages, those Debian has:
#   mysql-common, libmysqlclient24, mysql-client-core and mysql-client, mysql-server-core (for
#   mysql-community-client-core and -server-core). Left out, see image_v24_skipped: the client
#   plugins package, the server service package, mysql-shell and percona-xtrabackup-84;
# - /vt/bin has only the binaries of vitess_v24_binaries; vtadmin's web files (/vt/web/vtadmin)
#   are not there.
#
# The mirror is that of tools/versions.env's suite; its Release file may be past its Valid-Until
# (a mirror that is not updated any more), which apt is told to accept while it builds.
image_v24_suite=$VITESS_V24_IMAGE_DEBIAN_SUITE
image_v24_mirror=http://deb.debian.org/debian
image_v24_debs=$cache_dir/debs-$image_v24_suite
# docker/lite/Dockerfile: `apt-get install -y locales tar` (with recommends).
image_v24_first_packages=(locales tar)
# install_dependencies.sh BASE_PACKAGES (amd64, trixie names), with --no-install-recommends.
image_v24_base_packages=(bzip2 ca-certificates dirmngr gnupg libaio1t64 libatomic1 libcurl4t64
  libdbd-mysql-perl libwww-perl libev4t64 libjemalloc2 libtcmalloc-minimal4t64 procps rsync strace
  sysstat wget curl percona-toolkit zstd)
# install_dependencies.sh mysql84 PACKAGES, as Debian has them, with --no-install-recommends.
image_v24_mysql_packages=(mysql-common libmysqlclient24 mysql-client-core mysql-client mysql-server-core)
image_v24_skipped=(
  "mysql-community-client-plugins: no such package in Debian (the client plugins come with libmysqlclient24 and mysql-client-core)"
  "mysql-community-server and mysql-server: Debian's mysql-server (the service around mysqld) depends on systemd or a sysusers, creates the system user mysql with systemd-sysusers (uid 999, which would make vitess 998), initialises /var/lib/mysql (which install_dependencies.sh deletes) and starts the service; Vitess runs mysqld itself with its own my.cnf"
  "mysql-shell: only in MySQL's apt repository, which cannot be reached"
  "percona-xtrabackup-84: only in Percona's apt repository, which cannot be reached"
)
# Debian's default PATH (that of the debian images), which the Dockerfile prefixes with $VTROOT/bin.
image_v24_debian_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
image_v24_uid=""
image_v24_gid=""

# json_string TEXT: TEXT as a JSON string (quotes, backslashes and control characters escaped).
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}

# remove_image_tmp DIR: unmounts what a build mounted under DIR (its rootfs/proc), then removes
# DIR without crossing into another file system.
remove_image_tmp() {
  local dir=$1 mnt
  case $dir in
    "$cache_dir"/.image-*.tmp.*) ;;
    *) fail "remove a temporary image root" "refusing to remove $dir (not a temporary image root)" ;;
  esac
  kill_root_processes "$dir"
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir" 2>/dev/null ||
    log "could not remove all of $dir (something still mounted in it?)"
}

# kill_root_processes DIR: ends (TERM, then KILL) the processes whose root directory is DIR/rootfs:
# those that a check of this script started in a temporary image root (mysqlctld, mysqld_safe,
# mysqld) and that an interrupted build left running.
kill_root_processes() {
  local root=$1/rootfs proc pids=() pid i
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && pids+=("${proc#/proc/}")
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for i in 1 2 3 4 5 6 7 8 9 10; do
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then
        sleep 1
        continue 2
      fi
    done
    return 0
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# in_root ROOT COMMAND...: runs COMMAND in ROOT as root, with a clean environment.
in_root() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH="$image_v24_debian_path" LC_ALL=C HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# as_vitess ROOT COMMAND...: runs COMMAND in ROOT as the image's user, with the image's
# environment (the Vitess binaries and mysqld refuse to run as root).
as_vitess() {
  local root=$1
  shift
  chroot --userspec="$image_v24_uid:$image_v24_gid" "$root" /usr/bin/env -i \
    PATH="/vt/bin:$image_v24_debian_path" VTROOT=/vt VTDATAROOT=/vt/vtdataroot HOME=/home/vitess \
    USER=vitess LC_ALL=C "$@"
}

# link_debs FROM TO: hard-links (or copies, across file systems) the .debs of FROM that TO lacks.
link_debs() {
  local deb
  for deb in "$1"/*.deb; do
    [ -e "$deb" ] || continue
    [ -e "$2/${deb##*/}" ] || ln "$deb" "$2/" 2>/dev/null || cp "$deb" "$2/"
  done
}

# apt_in_root ROOT ARGS...: apt-get in ROOT, with the .debs of image_debs (a local of the caller;
# image_v24_debs if unset) put into its archive first and the ones it downloaded put into
# image_debs after.
apt_in_root() {
  local root=$1
  shift
  local archives=$root/var/cache/apt/archives debs=${image_debs:-$image_v24_debs}
  mkdir -p "$archives/partial"
  link_debs "$debs" "$archives"
  run_quiet "apt-get $1 in the image root" "$root" in_root "$root" apt-get \
    -o Acquire::Check-Valid-Until=false -o APT::Keep-Downloaded-Packages=true -y "$@"
  link_debs "$archives" "$debs"
}

# remove_stale_image_tmps: removes the leftovers of interrupted image builds whose process is gone.
remove_stale_image_tmps() {
  local old pid
  for old in "$cache_dir"/.image-vitess-lite-*.tmp.*; do
    [ -d "$old" ] || continue
    pid=${old##*.}
    if ! kill -0 "$pid" 2>/dev/null; then
      log "removing $old (left by an interrupted build)"
      remove_image_tmp "$old"
    fi
  done
}

# slim_root ROOT: as in Debian's -slim images: no documentation but the copyright files, no man
# pages, no translations (what debootstrap unpacked of these goes too).
slim_root() {
  local root=${1:?}
  printf '%s\n' '# as in the -slim images of Debian' \
    'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' \
    'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/locale/*' \
    >"$root/etc/dpkg/dpkg.cfg.d/docker"
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  local share
  for share in man groff info lintian linda locale; do
    if [ -d "$root/usr/share/$share" ]; then
      find "$root/usr/share/$share" -mindepth 1 -delete
    fi
  done
}

build_image_v24() {
  local final=$vitess_v24_image_dir
  if [ -f "$final/image.json" ] && [ -d "$final/rootfs" ]; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || fail "build the image root" "needs root (debootstrap, chroot, mount, chown)"
  local tool
  for tool in debootstrap chroot mount; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "build the image root" "no $tool command (apt-get install debootstrap)"
  done
  local src
  src=$(cd "$vitess_v24_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Dir}}' vitess.io/vitess) ||
    fail "build the image root" "could not find the source of vitess.io/vitess (cd $vitess_v24_module && go list -m -f '{{.Dir}}' vitess.io/vitess)"
  [ -f "$src/docker/lite/Dockerfile" ] ||
    fail "build the image root" "no docker/lite/Dockerfile in $src"

  remove_stale_image_tmps

  local start=$SECONDS
  local tmp=$cache_dir/.image-vitess-lite-$vitess_v24_release.tmp.$$
  local root=$tmp/rootfs
  current_image_tmp=$tmp
  mkdir -p "$tmp" "$image_v24_debs"

  log "building the root of vitess/lite:$vitess_v24_release (Debian $image_v24_suite) ..."
  run_quiet "debootstrap $image_v24_suite" "$tmp" debootstrap --variant=minbase \
    --cache-dir="$image_v24_debs" "$image_v24_suite" "$root" "$image_v24_mirror"

  slim_root "$root"
  # No service starts while packages are installed (removed again below).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  run "mount /proc in the image root" "$tmp" mount -t proc proc "$root/proc"

  # docker/lite/Dockerfile, then install_dependencies.sh mysql84.
  apt_in_root "$root" update
  apt_in_root "$root" install "${image_v24_first_packages[@]}"
  printf 'en_US.UTF-8 UTF-8\n' >"$root/etc/locale.gen"
  run_quiet "locale-gen in the image root" "$tmp" in_root "$root" locale-gen en_US.UTF-8
  apt_in_root "$root" install --no-install-recommends "${image_v24_base_packages[@]}"
  apt_in_root "$root" install --no-install-recommends "${image_v24_mysql_packages[@]}"
  apt_in_root "$root" clean
  rm -rf "$root"/var/lib/apt/lists/* "$root/var/lib/mysql" "$root/usr/sbin/policy-rc.d"

  # The Vitess user and directory tree, as the Dockerfile (system ids: groupadd -r and
  # useradd -r count down from 999).
  run "create the group vitess" "$tmp" in_root "$root" groupadd -r vitess
  run "create the user vitess" "$tmp" in_root "$root" useradd -r -g vitess vitess
  image_v24_uid=$(in_root "$root" id -u vitess)
  image_v24_gid=$(in_root "$root" id -g vitess)
  mkdir -p "$root/vt/dist" "$root/vt/vtdataroot" "$root/home/vitess" "$root/vt/bin" "$root/vt/config"
  install -m 755 "$src/docker/utils/install_dependencies.sh" "$root/vt/dist/install_dependencies.sh"
  local name
  for name in "${vitess_v24_binaries[@]}"; do
    install -m 755 "$vitess_v24_bin_dir/$name" "$root/vt/bin/$name"
  done
  install -m 644 "$src/config/init_db.sql" "$root/vt/config/init_db.sql"
  install -m 644 "$src/config/mycnf/"*.cnf "$root/vt/config/"
  chown -R "$image_v24_uid:$image_v24_gid" "$root/vt" "$root/home/vitess"

  # Checks: mysqld is the MySQL of versions.env, a Vitess binary runs, and mysqld initialises a
  # data directory as the vitess user (in a temporary folder, removed again).
  local mysqld_version
  mysqld_version=$(in_root "$root" /usr/sbin/mysqld --version 2>&1) ||
    fail "check mysqld in the image root" "chroot $root /usr/sbin/mysqld --version: $mysqld_version"
  case $mysqld_version in
    *" Ver $VITESS_V24_IMAGE_MYSQL_VERSION"[-\ ]*) ;;
    *) fail "check mysqld in the image root" "mysqld is not MySQL $VITESS_V24_IMAGE_MYSQL_VERSION (VITESS_V24_IMAGE_MYSQL_VERSION): $mysqld_version" ;;
  esac
  run_quiet "check that vttablet runs in the image root" "$tmp" as_vitess "$root" /vt/bin/vttablet --version
  local datadir=/tmp/mysqld-init-check.$$
  run_quiet "check that mysqld initialises a data directory as vitess" "$tmp" as_vitess "$root" \
    /usr/sbin/mysqld --no-defaults --initialize-insecure --datadir="$datadir"
  rm -rf "${root:?}$datadir"
  run "unmount /proc in the image root" "$tmp" umount "$root/proc"

  # image.json: what the image's config says, and what this root has and lacks.
  local packages
  packages=$(in_root "$root" dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' |
    awk '$1 == "ii" {printf "%s    \"%s\": \"%s\"", sep, $2, $3; sep = ",\n"}')
  local differences=(
    "base: Debian $image_v24_suite (debootstrap --variant=minbase from $image_v24_mirror, with the dpkg path excludes of the -slim images) instead of debian:trixie-slim"
    "mysqld: Debian's MySQL $VITESS_V24_IMAGE_MYSQL_VERSION (mysql-server-core) instead of MySQL 8.4.8 (mysql-community-server-core from MySQL's apt repository); Vitess v24 configures it with config/mycnf/mysql90.cnf instead of mysql84.cnf"
    "/vt/bin has only ${vitess_v24_binaries[*]}, built from vitess.io/vitess@$VITESS_V24_VERSION with $VITESS_V24_GO_VERSION; the image also has vtctl, vtctlclient, vtbackup and vtexplain (make install)"
    "/vt/web/vtadmin (vtadmin's web sources and build) is missing"
    "the Vitess binaries carry no git revision (the Go module proxy has no origin record for $VITESS_V24_VERSION); their build time is the proxy's time of the version"
    "/etc/ssl/certs/ca-certificates.crt is that of Debian $image_v24_suite's ca-certificates, not the one copied from golang:1.26.8-trixie"
    "no system user mysql and no /etc/mysql/conf.d of a MySQL server package (neither mysql-community-server nor Debian's mysql-server is installed)"
    "the Debian packages are those of the mirror at build time (sid changes): see packages"
  )
  local item
  for item in "${image_v24_skipped[@]}"; do
    differences+=("not installed: $item")
  done
  local diff_json=""
  for item in "${differences[@]}"; do
    diff_json+="${diff_json:+,$'\n'}    $(json_string "$item")"
  done
  {
    printf '{\n'
    printf '  "image": %s,\n' "$(json_string "vitess/lite:$vitess_v24_release")"
    printf '  "modelledFrom": %s,\n' "$(json_string "vitess.io/vitess@$VITESS_V24_VERSION docker/lite/Dockerfile")"
    printf '  "env": {\n'
    printf '    "PATH": %s,\n' "$(json_string "/vt/bin:$image_v24_debian_path")"
    printf '    "VTROOT": "/vt",\n'
    printf '    "VTDATAROOT": "/vt/vtdataroot"\n'
    printf '  },\n'
    printf '  "user": {"name": "vitess", "uid": %s, "gid": %s},\n' "$image_v24_uid" "$image_v24_gid"
    printf '  "workingDir": "/",\n'
    printf '  "volumes": ["/vt/vtdataroot"],\n'
    printf '  "mysqld": %s,\n' "$(json_string "$mysqld_version")"
    printf '  "debianSuite": %s,\n' "$(json_string "$image_v24_suite")"
    printf '  "packages": {\n%s\n  },\n' "$packages"
    printf '  "differences": [\n%s\n  ]\n' "$diff_json"
    printf '}\n'
  } >"$tmp/image.json"

  if ! mv -T "$tmp" "$final" 2>/dev/null; then
    # Another build finished first: keep its image.
    [ -f "$final/image.json" ] || fail "install the image root" "could not rename $tmp to $final"
    log "$final appeared meanwhile (another build): keeping it"
    remove_image_tmp "$tmp"
  fi
  current_image_tmp=""
  log "built the root of vitess/lite:$vitess_v24_release in $((SECONDS - start)) s"
}

# The root filesystem of the image vitess/lite:v9.0.0. Release 9's docker/lite/Dockerfile is a
# symbolic link to Dockerfile.mysql57 (the module zip of v0.9.0 leaves links out; its Makefile
# builds vitess/lite from docker/lite/Dockerfile, lines 232-233, and docker/README.md line 41: "On
# Docker Hub we publish only images with MySQL 5.7"). Dockerfile.mysql57 (and .mariadb103, which
# differs only in its flavour) makes the image thus:
#
#   line 36      FROM debian:buster-slim
#   lines 39-40  COPY install_dependencies.sh to /vt/dist/, run it with mysql57 (.mariadb103: mariadb103)
#   line 43      groupadd -r vitess && useradd -r -g vitess vitess (no -m: no /home/vitess)
#   line 44      mkdir -p /vt/vtdataroot && chown -R vitess:vitess /vt
#   lines 47-49  ENV VTROOT /vt/src/vitess.io/vitess, VTDATAROOT /vt/vtdataroot, PATH $VTROOT/bin:$PATH
#                (so PATH names /vt/src/vitess.io/vitess/bin, which the image does not have;
#                .mariadb103 line 50 adds ENV MYSQL_FLAVOR MariaDB103, .mysql57 sets no flavour)
#   lines 52-53  COPY /vt/install (`make install PREFIX=/vt/install`, line 33) to /vt, and
#                web/orchestrator to /vt/web/orchestrator, owned by vitess
#   lines 56-57  VOLUME /vt/vtdataroot, USER vitess; no WORKDIR (so /)
#
# `make install` (Makefile lines 74-77) copies only the binaries mysqlctld, vtorc, vtctld,
# vtctlclient, vtctldclient, vtgate, vttablet, vtworker and vtbackup to $PREFIX/bin: the image has
# no /vt/config and no mysqlctl. It needs none: mysqlctl's my.cnf templates and init_db.sql are
# compiled in (go/vt/mysqlctl/rice-box.go, opened with rice.MustFindBox("../../../config") in
# go/vt/mysqlctl/mysqld.go lines 672 and 809).
#
# Here, as far as deb.debian.org allows:
#
# - buster is gone from deb.debian.org (dists/buster/Release: 404), so the root is Debian
#   bookworm (debootstrap --variant=minbase, the dpkg path excludes of the -slim images, the apt
#   sources of debian:bookworm-slim: bookworm, bookworm-updates, bookworm-security, upgraded);
# - MySQL 5.7.31 (repo.mysql.com) cannot be reached and Debian has no MySQL 5.7, so the packages
#   are those of the mariadb103 variant (install_dependencies.sh lines 128-132: mariadb-server,
#   from MariaDB's own 10.3 repository), from Debian: MariaDB 10.11. Vitess 9 runs MariaDB as its
#   own flavour (go/mysql/flavor_mariadb.go): mysqlctl reads `mysqld --version`
#   (go/vt/mysqlctl/mysqld.go lines 129-130, 201-245), finds "MariaDB" 10.11, and so initialises
#   the data directory with mysql_install_db --auth-root-authentication-method=normal (lines
#   753-768; capabilityset.go line 50: MariaDB >= 10.4) and starts it with mysqld_safe (line 356).
#   There is no master_mariadb1011.cnf (line 822 looks for mycnf/master_mariadb1011.cnf), so its
#   my.cnf is config/mycnf/default.cnf alone (line 825 logs "does not include built-in support");
# - install_dependencies.sh's keys (lines 139-152, from key servers) and repository lists (lines
#   154-187) are not added: neither the servers nor the repositories can be reached;
# - the env is that of vitess/lite:v9.0.0 (Dockerfile.mysql57, no MYSQL_FLAVOR: mysqlctl finds
#   /usr/sbin/mysqld, go/vt/env/env.go lines 78-80, and only falls back to MYSQL_FLAVOR when it
#   cannot, mysqld.go lines 150-151);
# - /etc/hosts has the localhost lines (Docker and the kubelet mount their own): without it
#   mysql_install_db stops ("Neither host ... nor 'localhost' could be looked up with
#   /usr/bin/resolveip") when the root is used with chroot.
#
# At the end the build checks, as the vitess user in the root, that mysqlctld (the image's
# mysqlctl; mysqlctl itself is not in the image) initialises and starts MariaDB, that vt_dba can
# log in over the socket, that mysqlctld shuts it down on SIGTERM, and that it starts the
# initialised server again (its second path); the test data goes again.
image_v9_suite=$VITESS_V9_IMAGE_DEBIAN_SUITE
image_v9_mirror=http://deb.debian.org/debian
image_v9_security_mirror=http://deb.debian.org/debian-security
image_v9_debs=$cache_dir/debs-$image_v9_suite
# install_dependencies.sh BASE_PACKAGES (lines 30-48; buster's names, which bookworm has too),
# with --no-install-recommends.
image_v9_base_packages=(bzip2 ca-certificates dirmngr gnupg libaio1 libatomic1 libcurl4
  libdbd-mysql-perl libev4 libjemalloc2 libtcmalloc-minimal4 procps rsync strace sysstat wget curl)
# install_dependencies.sh mariadb103 PACKAGES, with --no-install-recommends.
image_v9_mariadb_packages=(mariadb-server)
# What `make install` puts into /vt/bin (Makefile line 77).
image_v9_make_install_binaries=(mysqlctld vtorc vtctld vtctlclient vtctldclient vtgate vttablet
  vtworker vtbackup)
image_v9_vtroot=/vt/src/vitess.io/vitess
image_v9_path=$image_v9_vtroot/bin:$image_v24_debian_path
image_v9_uid=""
image_v9_gid=""

# as_vitess_v9 ROOT VTDATAROOT COMMAND...: runs COMMAND in ROOT as the image's user, with the
# image's environment (HOME as Docker sets it from /etc/passwd), VTDATAROOT as given. With
# AS_VITESS_EXEC=1 (only in a subshell of its own) it replaces the shell, so that the pid of
# `(AS_VITESS_EXEC=1 as_vitess_v9 ...) &` is that of COMMAND (chroot and env exec it too).
as_vitess_v9() {
  local root=$1 vtdataroot=$2
  shift 2
  local cmd=(chroot --userspec="$image_v9_uid:$image_v9_gid" "$root" /usr/bin/env -i
    PATH="$image_v9_path" VTROOT="$image_v9_vtroot" VTDATAROOT="$vtdataroot" HOME=/home/vitess "$@")
  if [ "${AS_VITESS_EXEC-}" = 1 ]; then
    exec "${cmd[@]}"
  fi
  "${cmd[@]}"
}

# free_port FIRST LAST: a TCP port of 127.0.0.1 in FIRST..LAST that nothing listens on.
free_port() {
  local port
  for ((port = $1; port <= $2; port++)); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# check_image_v9_mysqlctld ROOT TMP: as the vitess user in ROOT, mysqlctld initialises and starts
# MariaDB (VTDATAROOT in ROOT's /tmp), vt_dba logs in over the socket, SIGTERM shuts it down; then
# the same again for a start of the initialised data directory. Its log is TMP/mysqlctld-*.log
# (shown when something fails, removed after). Sets image_v9_flavor to what mysqlctld reported.
# mysqlctld takes SIGTERM only once it serves (go/vt/servenv/run.go: proc.Wait, which also
# registers /debug/pid, go/vt/proc/proc.go lines 55-63); before that the signal just kills it and
# leaves mysqld running. So the check waits for /debug/pid on its -port, a free one (mysqlctld
# first asks that port's /debug/pid for a predecessor to kill, proc.go lines 43-46 and 81-).
image_v9_flavor=""
check_image_v9_mysqlctld() {
  local root=${1:?} tmp=${2:?}
  local vtdataroot=/tmp/vtdataroot-check.$$ uid=100
  local socket=$vtdataroot/vt_0000000100/mysql.sock
  local port http_port pass log pid rc out i
  port=$(free_port 17100 17199) ||
    fail "check mysqlctld in the image root" "no free TCP port in 17100..17199 for mysqld"
  http_port=$(free_port 17200 17299) ||
    fail "check mysqlctld in the image root" "no free TCP port in 17200..17299 for mysqlctld"
  for pass in init start; do
    log=$tmp/mysqlctld-$pass.log
    (
      AS_VITESS_EXEC=1 as_vitess_v9 "$root" "$vtdataroot" /vt/bin/mysqlctld -logtostderr \
        -tablet_uid "$uid" -mysql_port "$port" -port "$http_port" -wait_time 2m
    ) >"$log" 2>&1 &
    pid=$! # mysqlctld's
    out=""
    for ((i = 0; i < 150; i++)); do
      if [ "$(as_vitess_v9 "$root" "$vtdataroot" curl -fsS "http://127.0.0.1:$http_port/debug/pid" 2>/dev/null)" = "$pid" ] &&
        out=$(as_vitess_v9 "$root" "$vtdataroot" mariadb -S "$socket" -u vt_dba -N -B \
          -e 'SELECT CURRENT_USER()' 2>&1) && [ "$out" = vt_dba@localhost ]; then
        break
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 40 "$log" >&2
        fail "check mysqlctld in the image root ($pass)" "mysqlctld -tablet_uid $uid -mysql_port $port ended before vt_dba could log in (its log is above; last client error: $out)"
      fi
      sleep 1
    done
    if [ "$out" != vt_dba@localhost ]; then
      tail -n 40 "$log" >&2
      fail "check mysqlctld in the image root ($pass)" "mysqlctld did not serve on port $http_port, or vt_dba could not log in over $socket, within 150 s: $out"
    fi
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    if [ "$rc" != 0 ] || [ -e "$root$socket" ]; then
      tail -n 40 "$log" >&2
      fail "check mysqlctld in the image root ($pass)" "mysqlctld did not shut mysqld down on SIGTERM (exit $rc)"
    fi
    if [ "$pass" = init ]; then
      image_v9_flavor=$(sed -n 's/.*mysqld\.go:[0-9]*\] \(Using flavor: .*\)$/\1/p' "$log" | head -n 1)
      out=$(sed -n 's/.*mysqld\.go:[0-9]*\] \(this version of Vitess does not include built-in support for .*\)$/\1/p' "$log" | head -n 1)
      image_v9_flavor+=${out:+; $out}
    fi
    rm -f "$log"
  done
  rm -rf "${root:?}${vtdataroot:?}"
}

build_image_v9() {
  local final=$vitess_v9_image_dir
  if [ -f "$final/image.json" ] && [ -d "$final/rootfs" ]; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || fail "build the image root" "needs root (debootstrap, chroot, mount, chown)"
  local tool
  for tool in debootstrap chroot mount; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "build the image root" "no $tool command (apt-get install debootstrap)"
  done
  local src
  src=$(cd "$vitess_v9_module" && "${go_env[@]}" go list -mod=readonly -m -f '{{.Dir}}' vitess.io/vitess) ||
    fail "build the image root" "could not find the source of vitess.io/vitess (cd $vitess_v9_module && go list -m -f '{{.Dir}}' vitess.io/vitess)"
  local file
  for file in docker/lite/Dockerfile.mysql57 docker/lite/Dockerfile.mariadb103 docker/lite/install_dependencies.sh; do
    [ -f "$src/$file" ] || fail "build the image root" "no $file in $src"
  done
  [ -d "$src/web/orchestrator" ] || fail "build the image root" "no web/orchestrator in $src"

  remove_stale_image_tmps

  local start=$SECONDS
  local tmp=$cache_dir/.image-vitess-lite-$vitess_v9_release.tmp.$$
  local root=$tmp/rootfs
  local image_debs=$image_v9_debs # for apt_in_root
  current_image_tmp=$tmp
  : "${tmp:?}" "${root:?}"
  mkdir -p "$tmp" "$image_v9_debs"

  log "building the root of vitess/lite:$vitess_v9_release (Debian $image_v9_suite, MariaDB $VITESS_V9_IMAGE_MARIADB_SERIES) ..."
  run_quiet "debootstrap $image_v9_suite" "$tmp" debootstrap --variant=minbase \
    --cache-dir="$image_v9_debs" "$image_v9_suite" "$root" "$image_v9_mirror"
  slim_root "$root"
  # The apt sources of debian:bookworm-slim (debootstrap wrote only the suite itself).
  rm -f "$root/etc/apt/sources.list"
  printf '%s\n' 'Types: deb' "URIs: $image_v9_mirror" \
    "Suites: $image_v9_suite $image_v9_suite-updates" 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' '' \
    'Types: deb' "URIs: $image_v9_security_mirror" "Suites: $image_v9_suite-security" \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    >"$root/etc/apt/sources.list.d/debian.sources"
  # No service starts while packages are installed (removed again below).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  run "mount /proc in the image root" "$tmp" mount -t proc proc "$root/proc"

  # The base image's updates, then install_dependencies.sh mariadb103 (lines 50-51, 214-221).
  apt_in_root "$root" update
  apt_in_root "$root" upgrade
  apt_in_root "$root" install --no-install-recommends "${image_v9_base_packages[@]}"
  apt_in_root "$root" install --no-install-recommends "${image_v9_mariadb_packages[@]}"
  apt_in_root "$root" clean
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}/var/lib/mysql" "${root:?}/usr/sbin/policy-rc.d"
  rm -f "${root:?}"/tmp/*.deb
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

  # The Vitess user and directory tree, as the Dockerfile (system ids: groupadd -r and useradd -r
  # count down from 999; mariadb-server's user mysql took the first ones from 100 up).
  run "create the group vitess" "$tmp" in_root "$root" groupadd -r vitess
  run "create the user vitess" "$tmp" in_root "$root" useradd -r -g vitess vitess
  image_v9_uid=$(in_root "$root" id -u vitess)
  image_v9_gid=$(in_root "$root" id -g vitess)
  mkdir -p "$root/vt/dist" "$root/vt/vtdataroot" "$root/vt/bin" "$root/vt/web"
  install -m 755 "$src/docker/lite/install_dependencies.sh" "$root/vt/dist/install_dependencies.sh"
  local name installed=() missing=()
  for name in "${image_v9_make_install_binaries[@]}"; do
    if [ -x "$vitess_v9_bin_dir/$name" ]; then
      install -m 755 "$vitess_v9_bin_dir/$name" "$root/vt/bin/$name"
      installed+=("$name")
    else
      missing+=("$name")
    fi
  done
  # From the read-only module cache: the modes of a checkout (files 644, directories 755).
  cp -R "$src/web/orchestrator" "$root/vt/web/orchestrator"
  chmod -R u=rwX,go=rX "$root/vt/web/orchestrator"
  chown -R "$image_v9_uid:$image_v9_gid" "$root/vt"

  # Checks: mysqld is a MariaDB of the series of versions.env, a Vitess binary runs, mysqlctld
  # initialises and starts it.
  local mysqld_version
  mysqld_version=$(in_root "$root" /usr/sbin/mysqld --version 2>&1) ||
    fail "check mysqld in the image root" "chroot $root /usr/sbin/mysqld --version: $mysqld_version"
  case $mysqld_version in
    *" Ver $VITESS_V9_IMAGE_MARIADB_SERIES".*-MariaDB*) ;;
    *) fail "check mysqld in the image root" "mysqld is not MariaDB $VITESS_V9_IMAGE_MARIADB_SERIES (VITESS_V9_IMAGE_MARIADB_SERIES): $mysqld_version" ;;
  esac
  run_quiet "check that vttablet runs in the image root" "$tmp" as_vitess_v9 "$root" /vt/vtdataroot \
    /vt/bin/vttablet -version
  check_image_v9_mysqlctld "$root" "$tmp"
  run "unmount /proc in the image root" "$tmp" umount "$root/proc"

  # image.json: what the image's config says, and what this root has and lacks.
  local packages
  packages=$(in_root "$root" dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' |
    awk '$1 == "ii" {printf "%s    \"%s\": \"%s\"", sep, $2, $3; sep = ",\n"}')
  local mysql_ids
  mysql_ids=$(in_root "$root" id mysql 2>&1) || mysql_ids="none"
  local differences=(
    "base: Debian $image_v9_suite (debootstrap --variant=minbase from $image_v9_mirror, the dpkg path excludes of the -slim images, the apt sources of debian:$image_v9_suite-slim, upgraded) instead of debian:buster-slim (Dockerfile.mysql57 line 36): buster is not on deb.debian.org"
    "database: MariaDB from Debian's mariadb-server (the package of install_dependencies.sh mariadb103, the variant vitess/lite:v9.0.0-mariadb103, which had MariaDB 10.3 from MariaDB's repository) instead of MySQL 5.7.31 (install_dependencies.sh mysql57: libmysqlclient20, mysql-community-client, mysql-client, mysql-community-server, mysql-server from repo.mysql.com, which cannot be reached; Debian has no MySQL 5.7)"
    "Vitess runs it as the flavour MariaDB (GTID positions MariaDB/domain-server-sequence, not MySQL56/uuid:interval), initialises it with mysql_install_db, not mysqld --initialize-insecure, and writes my.cnf from default.cnf alone: v0.9.0 has no config/mycnf/master_mariadb1011.cnf (master_mysql57.cnf would add GTID mode, semi-sync plugins, relay log settings)"
    "not installed: percona-xtrabackup-24 (install_dependencies.sh mysql57, from repo.percona.com): no xtrabackup backup engine (the mariadb103 variant has none either)"
    "not added: the apt keys from key servers (install_dependencies.sh lines 139-152) and the lists of repo.mysql.com and repo.percona.com (lines 154-187)"
    "system user mysql ($mysql_ids) is Debian's mariadb-server's, not mysql-community-server's"
    "/vt/bin has only ${installed[*]}${missing[*]:+; not built: ${missing[*]} (of make install, Makefile line 77)}; built from vitess.io/vitess@$VITESS_V9_VERSION with the installed Go ($(cd "$vitess_v9_module" && "${go_env[@]}" go env GOVERSION)), not Go 1.15 of vitess/bootstrap"
    "/etc/hosts has the localhost lines (a container runtime mounts its own; mysql_install_db needs localhost to resolve)"
    "the Debian packages are those of the mirror at build time: see packages"
  )
  local item diff_json=""
  for item in "${differences[@]}"; do
    diff_json+="${diff_json:+,$'\n'}    $(json_string "$item")"
  done
  {
    printf '{\n'
    printf '  "image": %s,\n' "$(json_string "vitess/lite:$vitess_v9_release")"
    printf '  "modelledFrom": %s,\n' "$(json_string "vitess.io/vitess@$VITESS_V9_VERSION docker/lite/Dockerfile (a link to Dockerfile.mysql57), with the packages of Dockerfile.mariadb103 (install_dependencies.sh mariadb103)")"
    printf '  "env": {\n'
    printf '    "PATH": %s,\n' "$(json_string "$image_v9_path")"
    printf '    "VTROOT": %s,\n' "$(json_string "$image_v9_vtroot")"
    printf '    "VTDATAROOT": "/vt/vtdataroot"\n'
    printf '  },\n'
    printf '  "envOfTheMariadb103Variant": {"MYSQL_FLAVOR": "MariaDB103"},\n'
    printf '  "user": {"name": "vitess", "uid": %s, "gid": %s, "home": "/home/vitess (absent: useradd -r without -m)"},\n' "$image_v9_uid" "$image_v9_gid"
    printf '  "workingDir": "/",\n'
    printf '  "volumes": ["/vt/vtdataroot"],\n'
    printf '  "vtFiles": ["/vt/bin", "/vt/dist/install_dependencies.sh", "/vt/vtdataroot", "/vt/web/orchestrator"],\n'
    printf '  "mysqld": %s,\n' "$(json_string "$mysqld_version")"
    printf '  "vitessFlavor": %s,\n' "$(json_string "$image_v9_flavor")"
    printf '  "checked": %s,\n' "$(json_string "as vitess: mysqlctld -tablet_uid 100 initialised and started mysqld, vt_dba logged in over the socket, SIGTERM shut it down; then the same for a start of the initialised data directory")"
    printf '  "debianSuite": %s,\n' "$(json_string "$image_v9_suite")"
    printf '  "packages": {\n%s\n  },\n' "$packages"
    printf '  "differences": [\n%s\n  ]\n' "$diff_json"
    printf '}\n'
  } >"$tmp/image.json"

  if ! mv -T "$tmp" "$final" 2>/dev/null; then
    # Another build finished first: keep its image.
    [ -f "$final/image.json" ] || fail "install the image root" "could not rename $tmp to $final"
    log "$final appeared meanwhile (another build): keeping it"
    remove_image_tmp "$tmp"
  fi
  current_image_tmp=""
  log "built the root of vitess/lite:$vitess_v9_release in $((SECONDS - start)) s"
}

total_start=$SECONDS
for target in "${targets[@]}"; do
  case $target in
    kubernetes) build_kubernetes ;;
    s3-server) build_s3_server ;;
    vitess-v24) build_vitess_v24 ;;
    vitess-v22) build_vitess_v22 ;;
    vitess-v9) build_vitess_v9 ;;
    vtadmin) build_vtadmin ;;
    image-v24)
      build_vitess_v24
      build_image_v24
      ;;
    image-v9)
      build_vitess_v9
      build_image_v9
      ;;
    exporter) build_exporter ;;
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
    s3-server)
      echo "$s3_server_bin_dir/s3-server"
      ;;
    vitess-v24)
      for name in "${vitess_v24_binaries[@]}"; do
        echo "$vitess_v24_bin_dir/$name"
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
    vtadmin)
      echo "$vitess_v24_bin_dir/vtadmin"
      echo "$vitess_v22_bin_dir/vtadmin"
      ;;
    image-v24)
      echo "$vitess_v24_image_dir/rootfs"
      echo "$vitess_v24_image_dir/image.json"
      ;;
    image-v9)
      echo "$vitess_v9_image_dir/rootfs"
      echo "$vitess_v9_image_dir/image.json"
      ;;
    exporter)
      for name in "${exporter_binaries[@]}"; do
        echo "$exporter_bin_dir/$name"
      done
      ;;
  esac
done
