#!/usr/bin/env bash
# A production-shaped Temporal for the benchmark suite: temporal-server v1.29.1 (the four
# services in one process, as compose's image runs them) on PostgreSQL 15, so that the
# figures the dev server on SQLite limits can be measured on a real persistence too.
#
#   scripts/temporal-postgres.sh DIR          start it (DIR holds everything); prints
#                                             TEMPORAL_ADDRESS=host:port on its last line
#   scripts/temporal-postgres.sh DIR stop     stop it
#
# PORT_BASE (default 27000) places its ports: frontend PORT_BASE+233, PostgreSQL
# PORT_BASE+432, the other services around them. The server binaries are built once with
# `go install` into ~/.cache/policyflow/temporal-server-v1.29.1 (about 3 minutes).
# PostgreSQL runs as the postgres user (as the caller when not root) with
# synchronous_commit=off, the dev server's
# synchronous=off in kind: a benchmark's server, not a durable one.
set -euo pipefail

VERSION=v1.29.1
DIR=$(realpath -m "${1:?usage: $0 DIR [stop]}")
BASE=${PORT_BASE:-27000}
PGBIN=/usr/lib/postgresql/15/bin
BIN=${HOME}/.cache/policyflow/temporal-server-${VERSION}
FRONTEND=$((BASE + 233))
PGPORT=$((BASE + 432))

# as_pg CMD...: runs CMD as the postgres user when root (PostgreSQL refuses to run as root),
# else as the caller.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

if [ "${2:-}" = stop ]; then
	if [ -f "$DIR/temporal.pid" ]; then
		pid=$(cat "$DIR/temporal.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	fi
	as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -m fast stop >/dev/null 2>&1 || true
	exit 0
fi

say() { echo "temporal-postgres: $*" >&2; }

if [ ! -x "$PGBIN/postgres" ]; then
	say "installing PostgreSQL 15"
	apt-get install -y -q postgresql-15 >/dev/null
fi
if [ ! -x "$BIN/server" ] || [ ! -x "$BIN/sql" ]; then
	say "building temporal-server and its sql tool $VERSION (once, about 3 minutes)"
	mkdir -p "$BIN"
	GOBIN=$BIN go install "go.temporal.io/server/cmd/server@$VERSION" "go.temporal.io/server/cmd/tools/sql@$VERSION"
fi
SCHEMA=$(go env GOMODCACHE)/go.temporal.io/server@${VERSION}/schema/postgresql/v12
[ -d "$SCHEMA" ] || go mod download "go.temporal.io/server@$VERSION"

mkdir -p "$DIR/config/dynamicconfig"
[ "$(id -u)" != 0 ] || chown postgres "$DIR"
if [ ! -d "$DIR/pg" ]; then
	as_pg "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 >/dev/null
fi
say "PostgreSQL on 127.0.0.1:$PGPORT"
as_pg "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w start \
	-o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=200" >/dev/null

# The sql tool logs every statement; its output goes to schema.log, shown if it fails.
sqltool() { "$BIN/sql" --plugin postgres12 --ep 127.0.0.1 -p "$PGPORT" -u postgres "$@" >>"$DIR/schema.log" 2>&1; }
for db in temporal temporal_visibility; do
	dir=temporal
	[ "$db" = temporal_visibility ] && dir=visibility
	sqltool --db "$db" create || true                # exists already on a second start
	sqltool --db "$db" setup-schema -v 0.0 || true   # likewise
	if ! sqltool --db "$db" update-schema -d "$SCHEMA/$dir/versioned"; then
		tail -20 "$DIR/schema.log" >&2
		exit 1
	fi
done

# The dynamic config internal/testenv gives the dev server, so the two servers differ only in
# their persistence and shape.
cat >"$DIR/config/dynamicconfig/bench.yaml" <<'EOF'
frontend.enableServerVersionCheck:
  - value: false
history.transferProcessorMaxPollRPS:
  - value: 1000
history.timerProcessorMaxPollRPS:
  - value: 1000
history.visibilityProcessorMaxPollRPS:
  - value: 1000
history.outboundProcessorMaxPollRPS:
  - value: 1000
history.timerProcessorMaxTimeShift:
  - value: 20ms
frontend.namespaceRPS.visibility:
  - value: 1000
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
EOF

store() {
	cat <<EOF
      sql:
        pluginName: "postgres12"
        databaseName: "$1"
        connectAddr: "127.0.0.1:$PGPORT"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: $2
        maxIdleConns: $2
        maxConnLifetime: "1h"
EOF
}
service() {
	cat <<EOF
  $1:
    rpc:
      grpcPort: $2
      membershipPort: $3
      bindOnLocalHost: true
EOF
}
{
	cat <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
$(store temporal 20)
    visibility:
$(store temporal_visibility 10)
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:
$(service frontend "$FRONTEND" $((BASE + 933)))
      httpPort: $((BASE + 243))
$(service history $((BASE + 234)) $((BASE + 934)))
$(service matching $((BASE + 235)) $((BASE + 935)))
$(service worker $((BASE + 239)) $((BASE + 939)))
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:$FRONTEND"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "$DIR/config/dynamicconfig/bench.yaml"
  pollInterval: "10s"
EOF
} >"$DIR/config/bench.yaml"

say "temporal-server on 127.0.0.1:$FRONTEND (log $DIR/temporal.log)"
"$BIN/server" --root "$DIR" --config config --env bench --allow-no-auth start >"$DIR/temporal.log" 2>&1 &
echo $! >"$DIR/temporal.pid"

CLI=$(command -v temporal || echo "$(go env GOPATH)/bin/temporal")
for _ in $(seq 1 120); do
	if "$CLI" operator cluster health --address "127.0.0.1:$FRONTEND" >/dev/null 2>&1; then break; fi
	sleep 1
done
"$CLI" operator cluster health --address "127.0.0.1:$FRONTEND" >/dev/null
if ! "$CLI" operator namespace describe --address "127.0.0.1:$FRONTEND" -n default >/dev/null 2>&1; then
	"$CLI" operator namespace create --address "127.0.0.1:$FRONTEND" -n default --retention 72h >/dev/null
fi
# The namespace takes a few seconds to reach every service.
for _ in $(seq 1 30); do
	if "$CLI" workflow list --address "127.0.0.1:$FRONTEND" -n default --limit 1 >/dev/null 2>&1; then break; fi
	sleep 1
done
# Only then can its search attributes be added: right after the namespace is created the
# frontend does not know it yet, and the command fails.
for sa in PolicyProcess PolicyStage Department; do
	for try in $(seq 1 30); do
		if "$CLI" operator search-attribute list --address "127.0.0.1:$FRONTEND" -n default 2>/dev/null | grep -qw "$sa" ||
			"$CLI" operator search-attribute create --address "127.0.0.1:$FRONTEND" -n default --name "$sa" --type Keyword >/dev/null 2>&1; then
			break
		fi
		[ "$try" -lt 30 ] || { say "cannot register the search attribute $sa"; exit 1; }
		sleep 1
	done
done
echo "TEMPORAL_ADDRESS=127.0.0.1:$FRONTEND"
