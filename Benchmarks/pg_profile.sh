#!/usr/bin/env bash
# Issue 14: where serve's per-message cost on PostgreSQL goes (a profile, not a test): statements
# PostgreSQL receives per CALL (pg_stat_statements, track=all, so foreign-key checks count too),
# commits, and CPU µs per message of serve and of the PostgreSQL cluster, for one `sat` run.
#
#   bash Benchmarks/pg_profile.sh        # writes Benchmarks/results/pg/statements_per_call.txt
#
# As pg.sh: release build, serve and PostgreSQL pinned to CPU 0, loadgen.py to CPU 1, a throwaway
# cluster (fsync on) with pg_stat_statements preloaded; 200 stations and tags, closed loop, mixed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench}
OUTFILE=${PG_PROFILE_OUT:-$ROOT/Benchmarks/results/pg/statements_per_call.txt}
VENV=${BENCH_VENV:-$ROOT/Benchmarks/.venv}
DURATION=${DURATION:-12}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check ocpp websockets uvloop
fi
PY="$VENV/bin/python"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product evctl
EVCTL=$ROOT/.build/release/evctl

WORK=$(mktemp -d /tmp/evbppXXXXXX)
chmod 755 "$WORK"
PGBASE=$WORK/pg
BINDIR=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
AS=()
if [ "$(id -u)" = 0 ]; then
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  AS=(runuser -u postgres --)
fi
mkdir -p "$PGBASE"; [ ${#AS[@]} -eq 0 ] || chown postgres "$PGBASE"
SPID=""
cleanup() {
  [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
  (cd "$PGBASE" && "${AS[@]}" "$BINDIR/pg_ctl" -D "$PGBASE/data" -m fast -w stop >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PG_INITDB="$BINDIR/initdb -D $PGBASE/data -U evctl --auth=trust -E UTF8 --locale=C.UTF-8"
PG_START="taskset -c 0 $BINDIR/pg_ctl -D $PGBASE/data -l $PGBASE/log -w -o \"-k $PGBASE -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on\" start"
(cd "$PGBASE" && "${AS[@]}" bash -c "$PG_INITDB" >/dev/null && "${AS[@]}" bash -c "$PG_START" >/dev/null)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGBASE" -U evctl)
POSTMASTER=$(head -1 "$PGBASE/data/postmaster.pid")
pg_cpu() {
  local total=0 p
  for p in $POSTMASTER $(ps -o pid= --ppid "$POSTMASTER"); do
    total=$((total + $(awk '{print $14 + $15 + ($1 == '"$POSTMASTER"' ? $16 + $17 : 0)}' /proc/$p/stat 2>/dev/null || echo 0)))
  done
  echo "$total"
}

T=$WORK/t.db
"$PY" -c 'print("identity,name,connectors,security_profile"); [print(f"CP{i:06d},Bench {i},2,0") for i in range(200)]' > "$WORK/s.csv"
"$PY" -c 'print("id_tag,user"); [print(f"TAG{i:07d},bench@example.com") for i in range(200)]' > "$WORK/t.csv"
"$EVCTL" --db "$T" -q station import "$WORK/s.csv"
"$EVCTL" --db "$T" -q user create bench@example.com --first Bench --last Load
"$EVCTL" --db "$T" -q token import "$WORK/t.csv"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE b OWNER evctl"
URL="postgresql://evctl@/b?host=$PGBASE"
"$EVCTL" db copy --from "sqlite:$T" --to "$URL" >/dev/null
"${PSQL[@]}" -d b -c "VACUUM ANALYZE" -c "CREATE EXTENSION pg_stat_statements"

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
taskset -c 0 "$EVCTL" --db "$URL" serve --listen "127.0.0.1:$PORT" --log-level error > "$WORK/serve.log" 2>&1 &
SPID=$!
sleep 1.5
"${PSQL[@]}" -d b -c "SELECT pg_stat_statements_reset()" >/dev/null
c0=$("${PSQL[@]}" -At -d b -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'b'")
s0=$(awk '{print $14 + $15}' "/proc/$SPID/stat"); p0=$(pg_cpu)
"$PY" "$BENCH/loadgen.py" --url "ws://127.0.0.1:$PORT/ocpp" --server-pid "$SPID" --label profile \
  --out "$WORK/lg.json" --stations 200 --duration "$DURATION" --rate 0 --scenario mixed --cpu-affinity 1 --procs 1 \
  > "$WORK/lg.stdout" 2> "$WORK/lg.log"
s1=$(awk '{print $14 + $15}' "/proc/$SPID/stat"); p1=$(pg_cpu)
c1=$("${PSQL[@]}" -At -d b -c "SELECT xact_commit FROM pg_stat_database WHERE datname = 'b'")
HZ=$(getconf CLK_TCK)
{
  echo "# $(date -u +%FT%TZ), bash Benchmarks/pg_profile.sh (uptime:$(uptime | sed 's/.*load average/ load average/'))"
  echo "# Cluster: initdb as pg.sh; $PG_START"
  echo "# Store: 200 stations CP000000…, 200 tags TAG0000000…, evctl db copy --from sqlite:T --to $URL; CREATE EXTENSION pg_stat_statements"
  echo "# taskset -c 0 evctl --db URL serve --listen 127.0.0.1:PORT --log-level error; pg_stat_statements_reset() 1.5 s later; then"
  echo "# loadgen.py --url ws://127.0.0.1:PORT/ocpp --stations 200 --duration $DURATION --rate 0 --scenario mixed --cpu-affinity 1 --procs 1"
  "$PY" - "$WORK/lg.json" "$s0" "$s1" "$p0" "$p1" "$HZ" "$c0" "$c1" \
    "$("${PSQL[@]}" -At -d b -c "SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s0, s1, p0, p1, hz, c0, c1, statements = map(int, sys.argv[2:])
calls = d["whole_run"]["calls_ok"]
print(f"# {statements:,} statements / {calls:,} CALLs answered = {statements / calls:.1f} statements per CALL; "
      f"{c1 - c0:,} commits = {calls / max(1, c1 - c0):.0f} CALLs per commit")
print(f"# CPU per message (whole loadgen run): serve {1e6 * (s1 - s0) / hz / calls:.0f} µs, "
      f"PostgreSQL {1e6 * (p1 - p0) / hz / calls:.0f} µs; steady {d['steady']['msgs_per_s']:,.0f} msg/s, errors {d['error_total']}")
PY
  echo
  "${PSQL[@]}" -d b -c "SELECT sum(calls) AS statements, round(sum(total_exec_time))::int AS exec_ms, round(sum(total_plan_time))::int AS plan_ms,
    sum(plans) AS plans FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'"
  "${PSQL[@]}" -d b -c "SELECT calls, plans, round(total_exec_time)::int AS exec_ms, round(total_plan_time)::int AS plan_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 30"
} | tee "$OUTFILE"
