#!/usr/bin/env bash
# Installs the programs policyflow's integration tests and dev server need,
# skipping those already present:
#
#   temporal  Temporal CLI (dev server), `go install`ed into Go's bin dir
#   mailpit   SMTP server with an HTTP API to read mail, `go install`ed too
#   mariadb   mariadbd + mariadb-install-db, from apt (Debian/Ubuntu); no
#             system service is needed, the tests start their own server
#   temporal-server
#             temporal-server and its sql tool, `go install`ed into
#             ~/.cache/policyflow/temporal-server-VERSION (4-5 minutes on
#             2 cores the first time, up to 10 on a loaded machine), and
#             postgresql-15 from apt: the production-shaped end-to-end
#             test runs them as
#             scripts/temporal-postgres.sh starts them
#
# Usage: scripts/tools.sh [temporal|mailpit|mariadb|chromium|workflowcheck|temporal-server]...
#        (default: all)
#
# Go's bin dir ($(go env GOBIN), else $(go env GOPATH)/bin) must be in PATH
# to use temporal and mailpit from a shell; the Makefile and the tests look
# there themselves.
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
MAILPIT_VERSION=v1.33.1
WORKFLOWCHECK_VERSION=v0.6.0
# Also in scripts/temporal-postgres.sh and internal/testenv (TemporalServerVersion).
TEMPORAL_SERVER_VERSION=v1.29.1

log() { printf 'tools: %s\n' "$*"; }
die() { printf 'tools: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not in PATH; install Go first (https://go.dev/dl/)"
gobin=$(go env GOBIN)
if [ -z "$gobin" ]; then
	gopath=$(go env GOPATH)
	gobin="${gopath%%:*}/bin"
fi
export PATH="$gobin:$PATH"

logdir=$(mktemp -d "${TMPDIR:-/tmp}/policyflow-tools.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# run NAME CMD...: runs CMD quietly; on failure shows the end of its output.
run() {
	local name=$1
	shift
	if ! "$@" >"$logdir/$name.log" 2>&1; then
		tail -n 40 "$logdir/$name.log" >&2
		return 1
	fi
}

# go_tool NAME PACKAGE VERSION: go-installs PACKAGE@VERSION unless NAME exists.
go_tool() {
	local name=$1 pkg=$2 version=$3 path
	if path=$(command -v "$name"); then
		log "$name: found $path"
		return
	fi
	log "$name: installing $pkg@$version into $gobin (takes a few minutes the first time)"
	local start=$SECONDS
	# GOFLAGS= : ignore -mod=... and the like from the environment.
	GOFLAGS= run "$name" go install "$pkg@$version" || die "go install $pkg@$version failed"
	log "$name: installed $gobin/$name in $((SECONDS - start))s"
}

find_mariadbd() {
	command -v mariadbd 2>/dev/null && return
	local f
	for f in /usr/sbin/mariadbd /usr/local/sbin/mariadbd; do
		[ -x "$f" ] && echo "$f" && return
	done
	return 1
}

have_mariadb() {
	find_mariadbd >/dev/null && command -v mariadb-install-db >/dev/null 2>&1
}

# The tests only need the server binaries: mariadb-server-core (mariadbd,
# mariadb-install-db) and mariadb-client-core (my_print_defaults, used by
# mariadb-install-db). Unlike mariadb-server they don't start a system
# service. Older releases without these packages get mariadb-server.
mariadb_tool() {
	if have_mariadb; then
		log "mariadb: found $(find_mariadbd)"
		return
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "mariadbd not found and apt-get unavailable: install MariaDB server 10.11+ (mariadbd, mariadb-install-db) with your package manager"
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "mariadbd not found: run as root, or install sudo, or run apt-get install -y mariadb-server"
		sudo=(sudo)
	fi
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
	log "mariadb: installing mariadb-server-core with apt-get"
	local start=$SECONDS
	if ! run mariadb "${apt[@]}" install --no-install-recommends mariadb-server-core mariadb-client-core; then
		log "mariadb: apt-get install failed; running apt-get update and retrying"
		run mariadb-update "${apt[@]}" update || die "apt-get update failed"
		run mariadb "${apt[@]}" install --no-install-recommends mariadb-server-core mariadb-client-core ||
			run mariadb "${apt[@]}" install --no-install-recommends mariadb-server ||
			die "apt-get install mariadb-server failed"
	fi
	have_mariadb || die "mariadbd or mariadb-install-db still missing after apt-get install"
	log "mariadb: installed $("$(find_mariadbd)" --version) in $((SECONDS - start))s"
}

# Debian's Chromium, for the task-page test in a real browser (chromedp drives it), and a
# Japanese font (fonts-noto-cjk), without which the pages' screenshots show Japanese as boxes.
have_cjk_font() {
	command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ja family 2>/dev/null)" ]
}

chromium_tool() {
	local pkgs=()
	local b found=""
	for b in chromium chromium-browser; do
		if command -v "$b" >/dev/null 2>&1; then
			found=$(command -v "$b")
			break
		fi
	done
	if [ -n "$found" ]; then
		log "chromium: found $found"
	else
		pkgs+=(chromium)
	fi
	if have_cjk_font; then
		log "chromium: a Japanese font is installed"
	else
		pkgs+=(fonts-noto-cjk)
	fi
	[ ${#pkgs[@]} -gt 0 ] || return 0
	command -v apt-get >/dev/null 2>&1 || die "${pkgs[*]} not found and apt-get unavailable: install Chromium (or set POLICYFLOW_CHROMIUM) and a Japanese font"
	local sudo=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || die "${pkgs[*]} not found: run as root, or install sudo, or run apt-get install -y ${pkgs[*]}"
		sudo=(sudo)
	fi
	local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
	log "chromium: installing ${pkgs[*]} with apt-get"
	local start=$SECONDS
	if ! run chromium "${apt[@]}" install --no-install-recommends "${pkgs[@]}"; then
		run chromium-update "${apt[@]}" update || die "apt-get update failed"
		run chromium "${apt[@]}" install --no-install-recommends "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
	fi
	log "chromium: installed ${pkgs[*]} in $((SECONDS - start))s"
}

# temporal-server v1.29.1 on PostgreSQL 15, where scripts/temporal-postgres.sh looks.
temporal_server_tool() {
	local bin=${HOME}/.cache/policyflow/temporal-server-${TEMPORAL_SERVER_VERSION}
	if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
		log "postgresql-15: found /usr/lib/postgresql/15/bin/postgres"
	else
		command -v apt-get >/dev/null 2>&1 ||
			die "PostgreSQL 15 not found and apt-get unavailable: install PostgreSQL 15 into /usr/lib/postgresql/15"
		local sudo=()
		if [ "$(id -u)" != 0 ]; then
			command -v sudo >/dev/null 2>&1 || die "PostgreSQL 15 not found: run as root, or install sudo, or run apt-get install -y postgresql-15"
			sudo=(sudo)
		fi
		local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0)
		log "postgresql-15: installing with apt-get"
		local start=$SECONDS
		if ! run postgresql "${apt[@]}" install --no-install-recommends postgresql-15; then
			run postgresql-update "${apt[@]}" update || die "apt-get update failed"
			run postgresql "${apt[@]}" install --no-install-recommends postgresql-15 || die "apt-get install postgresql-15 failed"
		fi
		log "postgresql-15: installed in $((SECONDS - start))s"
	fi
	if [ -x "$bin/server" ] && [ -x "$bin/sql" ]; then
		log "temporal-server: found $bin/server"
		return
	fi
	log "temporal-server: building $TEMPORAL_SERVER_VERSION and its sql tool into $bin (4-5 minutes on 2 cores, up to 10 on a loaded machine)"
	local start=$SECONDS
	mkdir -p "$bin"
	GOFLAGS= GOBIN=$bin run temporal-server go install \
		"go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
		"go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" ||
		die "go install go.temporal.io/server $TEMPORAL_SERVER_VERSION failed"
	log "temporal-server: built in $((SECONDS - start))s"
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=(temporal mailpit mariadb chromium workflowcheck temporal-server)
for t in "${tools[@]}"; do
	case $t in
	temporal) go_tool temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION" ;;
	mailpit) go_tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION" ;;
	mariadb) mariadb_tool ;;
	chromium) chromium_tool ;;
	workflowcheck) go_tool workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck "$WORKFLOWCHECK_VERSION" ;;
	temporal-server) temporal_server_tool ;;
	*) die "unknown tool $t (want temporal, mailpit, mariadb, chromium, workflowcheck or temporal-server)" ;;
	esac
done
