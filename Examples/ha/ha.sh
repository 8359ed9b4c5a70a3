#!/usr/bin/env bash
# A high-availability demonstration on one machine, loopback only (issue 14): one PostgreSQL
# cluster, three `evctl serve` nodes on it, HAProxy in TCP mode in front (haproxy.cfg here).
#
#   Examples/ha/ha.sh start    # everything up; prints the station URL and the store URL
#   Examples/ha/ha.sh status   # which processes run, HAProxy's view of the nodes
#   Examples/ha/ha.sh kill N   # kill -9 node N (1-3): its stations come back through HAProxy
#   Examples/ha/ha.sh revive N # start node N again
#   Examples/ha/ha.sh stop     # stops everything and removes the state folder
#
# Then, in another terminal:  evctl --db "$(Examples/ha/ha.sh url)" simulate --demo --url ws://127.0.0.1:8180/ocpp
#
# Environment: EVCTL (the binary; default `evctl` on PATH), EVCTL_HA_DIR (state; default
# /tmp/evctl-ha), EVCTL_HA_PORT (station port; default 8180: nodes on +1..+3, stats on +9).
# Needs the Debian packages postgresql and haproxy. PostgreSQL refuses to run as root: as root the
# cluster runs as the `postgres` user.
#
# On a real deployment each of these is its own machine: PostgreSQL with a streaming replica
# (and a failover manager such as Patroni), two HAProxy machines sharing a virtual address
# (keepalived), and the nodes on machines of their own, each started with the same --db URL.
set -euo pipefail

EVCTL="${EVCTL:-evctl}"
DIR="${EVCTL_HA_DIR:-/tmp/evctl-ha}"
PORT="${EVCTL_HA_PORT:-8180}"
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="$DIR/pg"

export EVCTL_HA_FRONT="127.0.0.1:$PORT"
export EVCTL_HA_NODE1="127.0.0.1:$((PORT + 1))"
export EVCTL_HA_NODE2="127.0.0.1:$((PORT + 2))"
export EVCTL_HA_NODE3="127.0.0.1:$((PORT + 3))"
export EVCTL_HA_STATS="127.0.0.1:$((PORT + 9))"

pgbin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$found" ]; then echo "$found"; else dirname "$(command -v initdb)"; fi
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
store_url() { echo "postgresql://evctl@/evctl?host=$DIR"; }
# Runs, and is not a zombie left unreaped (a container's init may never reap it).
alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && [[ "$(ps -o stat= -p "$(cat "$1")")" != Z* ]]
}

start_node() {
  local n="$1" address
  address="$(eval echo "\$EVCTL_HA_NODE$n")"
  if alive "$DIR/node$n.pid"; then echo "node$n already runs"; return; fi
  nohup "$EVCTL" --db "$(store_url)" serve --listen "$address" >"$DIR/node$n.log" 2>&1 &
  echo $! >"$DIR/node$n.pid"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/${address%:*}/${address#*:}") 2>/dev/null; then echo "node$n on $address (pid $(cat "$DIR/node$n.pid"))"; return; fi
    alive "$DIR/node$n.pid" || { echo "node$n did not start:" >&2; cat "$DIR/node$n.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "node$n did not open $address in 10 s" >&2; exit 1
}

start() {
  command -v haproxy >/dev/null || { echo "error: haproxy is not installed (apt-get install haproxy)" >&2; exit 69; }
  mkdir -p "$DIR"
  if [ ! -d "$DATA" ]; then
    [ "$(id -u)" -ne 0 ] || chown postgres "$DIR"
    as_pg "$(pgbin)/initdb" -D "$DATA" -U evctl --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
  fi
  if ! as_pg "$(pgbin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    # A unix socket in $DIR only: no TCP port at all.
    as_pg "$(pgbin)/pg_ctl" -D "$DATA" -l "$DIR/postgresql.log" -w \
      -o "-k $DIR -c listen_addresses='' -c max_connections=200" start >/dev/null
  fi
  psql -X -q -h "$DIR" -U evctl -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'evctl'" | grep -q 1 ||
    psql -X -q -h "$DIR" -U evctl -d postgres -c "CREATE DATABASE evctl" >/dev/null
  "$EVCTL" --db "$(store_url)" db migrate
  for n in 1 2 3; do start_node "$n"; done
  if ! alive "$DIR/haproxy.pid"; then
    haproxy -D -p "$DIR/haproxy.pid" -f "$HERE/haproxy.cfg"
  fi
  echo "haproxy: stations connect to ws://$EVCTL_HA_FRONT/ocpp/<identity>; stats on http://$EVCTL_HA_STATS/"
  echo "store:   $(store_url)"
}

status() {
  for name in node1 node2 node3 haproxy; do
    if alive "$DIR/$name.pid"; then echo "$name: runs (pid $(cat "$DIR/$name.pid"))"; else echo "$name: down"; fi
  done
  if as_pg "$(pgbin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then echo "postgresql: runs"; else echo "postgresql: down"; fi
  if command -v curl >/dev/null && alive "$DIR/haproxy.pid"; then
    curl -s "http://$EVCTL_HA_STATS/;csv" | awk -F, '$1 == "evctl_nodes" && $2 ~ /^node/ { print "haproxy sees " $2 ": " $18 }'
  fi
}

stop() {
  for name in haproxy node1 node2 node3; do
    if alive "$DIR/$name.pid"; then kill "$(cat "$DIR/$name.pid")"; fi
    rm -f "$DIR/$name.pid"
  done
  if [ -d "$DATA" ]; then as_pg "$(pgbin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$DIR"
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  url) store_url ;;
  kill) [[ "${2:-}" =~ ^[123]$ ]] || { echo "usage: $0 kill 1|2|3" >&2; exit 64; }
        alive "$DIR/node$2.pid" && kill -9 "$(cat "$DIR/node$2.pid")" && echo "node$2 killed (kill -9)" ;;
  revive) [[ "${2:-}" =~ ^[123]$ ]] || { echo "usage: $0 revive 1|2|3" >&2; exit 64; }
          start_node "$2" ;;
  *) echo "usage: $0 start | status | kill N | revive N | stop | url" >&2; exit 64 ;;
esac
