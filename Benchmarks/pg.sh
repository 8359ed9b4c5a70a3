#!/usr/bin/env bash
# Issue 14: `sat` and `rtt` on one `serve` node with PostgreSQL against the same runs on SQLite,
# in the same run (a benchmark, not a test; figures go to Benchmarks/results/pg/).
#
#   bash Benchmarks/pg.sh                 # sat + rtt, each side twice, alternating (about 8 min)
#   ROUNDS=3 PG_RTT5000=1 bash Benchmarks/pg.sh   # more rounds; also rtt's 5,000 × 1/s run
#   PG_CPUS=all RUNS=sat PG_OUT=Benchmarks/results/pg_unpinned bash Benchmarks/pg.sh
#
# Release build. serve (and, on the PostgreSQL side, the PostgreSQL server too) pinned to CPU 0,
# the generator (../shared/bench/loadgen.py through run_one.sh) to CPU 1: both sides get the same
# one core for the server and its database. PostgreSQL is a throwaway cluster of our own
# (initdb + pg_ctl on a fresh /tmp folder, unix socket only, no TCP port) with fsync ON and
# synchronous_commit on: every acknowledged commit is on disk, as SQLite's synchronous=FULL that
# serve sets. Every run gets a fresh copy of one template store: `cp` of the file for SQLite,
# `evctl db copy --from sqlite:TEMPLATE --to postgresql://…` into a new database for PostgreSQL.
# Needs the Debian packages postgresql and sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench}
OUT=${PG_OUT:-$ROOT/Benchmarks/results/pg}
# PG_CPUS: where the PostgreSQL server runs: 0 (default, serve's core) or all (unpinned; it then
# competes with the generator on CPU 1). RUNS: sat rtt (default) or one of them.
PG_CPUS=${PG_CPUS:-0}
VENV=${BENCH_VENV:-$ROOT/Benchmarks/.venv}
ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check ocpp websockets uvloop
fi
export PY="$VENV/bin/python"

swift build -c release --product evctl
EVCTL=$ROOT/.build/release/evctl

# Our own folder: other benchmarks use fixed /tmp names. Short, for the socket path.
WORK=$(mktemp -d /tmp/evbpgXXXXXX)
chmod 755 "$WORK"
PGBASE=$WORK/pg
BINDIR=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
AS=()
if [ "$(id -u)" = 0 ]; then
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  AS=(runuser -u postgres --)
fi
mkdir -p "$PGBASE"; [ ${#AS[@]} -eq 0 ] || chown postgres "$PGBASE"
cleanup() {
  (cd "$PGBASE" && "${AS[@]}" "$BINDIR/pg_ctl" -D "$PGBASE/data" -m fast -w stop >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PG_INITDB="$BINDIR/initdb -D $PGBASE/data -U evctl --auth=trust -E UTF8 --locale=C.UTF-8"
PIN=""; [ "$PG_CPUS" = all ] || PIN="taskset -c $PG_CPUS "
PG_START="$PIN$BINDIR/pg_ctl -D $PGBASE/data -l $PGBASE/log -w -o \"-k $PGBASE -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c full_page_writes=on\" start"
(cd "$PGBASE" && "${AS[@]}" bash -c "$PG_INITDB" >/dev/null && "${AS[@]}" bash -c "$PG_START" >/dev/null)
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGBASE" -U evctl)
"${PSQL[@]}" -d postgres -c "SHOW fsync" -c "SHOW synchronous_commit" \
  -c "SHOW wal_sync_method" -c "SHOW server_version" \
  | paste -sd' ' | sed 's/^/postgresql fsync synchronous_commit wal_sync_method version: /' > "$OUT/postgresql.settings.txt"
POSTMASTER=$(head -1 "$PGBASE/data/postmaster.pid")

# The template: the generator's stations CP000000… and tags TAG0000000… (as Benchmarks/run.sh).
TEMPLATE=$WORK/template.db
"$PY" -c 'print("identity,name,connectors,security_profile"); [print(f"CP{i:06d},Bench {i},2,0") for i in range(20000)]' > "$WORK/stations.csv"
"$PY" -c 'print("id_tag,user"); [print(f"TAG{i:07d},bench@example.com") for i in range(20000)]' > "$WORK/tokens.csv"
"$EVCTL" --db "$TEMPLATE" -q station import "$WORK/stations.csv"
"$EVCTL" --db "$TEMPLATE" -q user create bench@example.com --first Bench --last Load
"$EVCTL" --db "$TEMPLATE" -q token import "$WORK/tokens.csv"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# CPU seconds of the whole PostgreSQL cluster: the postmaster, its live children, and the children
# it has reaped (a backend's time moves into the postmaster's cutime/cstime when it exits).
pg_cpu() {
  local total=0 p
  for p in $POSTMASTER $(ps -o pid= --ppid "$POSTMASTER"); do
    total=$((total + $(awk '{print $14 + $15 + ($1 == '"$POSTMASTER"' ? $16 + $17 : 0)}' /proc/$p/stat 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# one SIDE NAME ROUND LOADGEN_ARGS...: a fresh store, serve on it, loadgen against it.
one() {
  local side=$1 name=$2 round=$3; shift 3
  local label="${side}_${name}_run${round}" port db setup=""
  port=$(free_port)
  if [ "$side" = sqlite ]; then
    db=$WORK/store.db; rm -f "$db"*; cp "$TEMPLATE" "$db"
    setup="store: cp TEMPLATE $db"
  else
    local dbname="bench_${name}_${round}"
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname OWNER evctl"
    db="postgresql://evctl@/$dbname?host=$PGBASE"
    local t0=$SECONDS
    "$EVCTL" db copy --from "sqlite:$TEMPLATE" --to "$db" >/dev/null
    "${PSQL[@]}" -d "$dbname" -c "VACUUM ANALYZE"
    setup="postgresql: (as postgres) $PG_INITDB; $PG_START
store: $EVCTL db copy --from sqlite:TEMPLATE --to '$db'; psql -c 'VACUUM ANALYZE' ($((SECONDS - t0)) s)"
  fi
  local cpu0 t0n
  cpu0=$(pg_cpu); t0n=$(date +%s.%N)
  SERVER_CMD="$EVCTL --db '$db' serve --listen 127.0.0.1:$port --log-level error" PORT=$port RESULTS_DIR=$OUT \
    bash "$BENCH/run_one.sh" "$label" cmd 0 "$@"
  local cpu1 t1n
  cpu1=$(pg_cpu); t1n=$(date +%s.%N)
  { echo "template: $EVCTL --db TEMPLATE -q station import stations.csv (CP000000…CP019999, 2 connectors); user create bench@example.com; token import tokens.csv (TAG0000000…TAG0019999)"
    echo "$setup"; } >> "$OUT/$label.cmd"
  if [ "$side" = pg ]; then
    "$PY" - "$OUT/$label.json" "$cpu0" "$cpu1" "$t0n" "$t1n" "$(getconf CLK_TCK)" <<'PY'
import json, sys
path, c0, c1, t0, t1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
d = json.load(open(path))
d["postgresql"] = {"cpu_s_whole_run": round((c1 - c0) / hz, 2), "wall_s_whole_run": round(t1 - t0, 2),
                   "cpu_pct_whole_run": round(100 * (c1 - c0) / hz / (t1 - t0), 1)}
json.dump(d, open(path, "w"), indent=2)
PY
  fi
}

read -r -a runs <<<"${RUNS:-sat rtt}"
for r in "${runs[@]}"; do
  for round in $(seq 1 "$ROUNDS"); do
    for side in sqlite pg; do
      case "$r" in
        sat) one $side sat_mixed200 "$round" --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1 ;;
        rtt) one $side mixed1000_r4 "$round" --stations 1000 --duration 30 --rate 4 --scenario mixed --cpu-affinity 1 --procs 1
             if [ -n "${PG_RTT5000:-}" ]; then
               one $side mixed5000_r1 "$round" --stations 5000 --duration 30 --rate 1 --scenario mixed --cpu-affinity 1 --procs 1 --warmup 8
             fi ;;
      esac
    done
  done
done

"$PY" - "$OUT" "$ROUNDS" <<'PY' | tee "$OUT/SUMMARY.md"
import glob, json, os, sys
out, rounds = sys.argv[1], int(sys.argv[2])
names = sorted({os.path.basename(f).split("_", 1)[1].rsplit("_run", 1)[0] for f in glob.glob(f"{out}/*_run*.json")})
summary = {}
print("| run | side | msg/s (each run) | p50 / p95 / p99 ms (each run) | serve CPU % | PostgreSQL CPU % (whole run) | errors |")
print("|---|---|---|---|---|---|---|")
for name in names:
    for side in ("sqlite", "pg"):
        rs = []
        for i in range(1, rounds + 1):
            try: rs.append(json.load(open(f"{out}/{side}_{name}_run{i}.json")))
            except FileNotFoundError: pass
        if not rs: continue
        mps = [d["steady"]["msgs_per_s"] for d in rs]
        lat = [d["steady"]["latency_ms"] for d in rs]
        cpu = [(d.get("server") or {}).get("cpu_pct_steady") for d in rs]
        pgc = [d.get("postgresql", {}).get("cpu_pct_whole_run") for d in rs]
        err = [d["error_total"] for d in rs]
        summary.setdefault(name, {})[side] = {"msgs_per_s": mps, "latency_ms": [{k: l[k] for k in ("p50", "p95", "p99")} for l in lat],
                                             "serve_cpu_pct": cpu, "postgresql_cpu_pct_whole_run": pgc, "errors": err,
                                             "duplicate_tx_ids": [d["transaction_ids"]["duplicates"] for d in rs],
                                             "all_connected": [d["connections"]["all_connected"] for d in rs]}
        print(f"| {name} | {side} | {' / '.join(f'{m:,.0f}' for m in mps)} | "
              f"{'; '.join('%s / %s / %s' % (l['p50'], l['p95'], l['p99']) for l in lat)} | {' / '.join(map(str, cpu))} | "
              f"{' / '.join('-' if c is None else str(c) for c in pgc)} | {' / '.join(map(str, err))} |")
    s = summary.get(name, {})
    if "sqlite" in s and "pg" in s:
        a, b = s["sqlite"]["msgs_per_s"], s["pg"]["msgs_per_s"]
        pairs = [round(y / x, 3) for x, y in zip(a, b)]
        s["pg_over_sqlite_msgs_per_s"] = {"per_round": pairs, "of_means": round(sum(b) / len(b) / (sum(a) / len(a)), 3)}
print()
for name, s in summary.items():
    if "pg_over_sqlite_msgs_per_s" in s:
        r = s["pg_over_sqlite_msgs_per_s"]
        print(f"{name}: PostgreSQL/SQLite msg/s per round {r['per_round']}, of the means {r['of_means']}")
json.dump(summary, open(f"{out}/SUMMARY.json", "w"), indent=2)
PY
# Results are committed: name paths relative to the repository, not this machine's.
for f in "$OUT"/*.*; do
  sed -i -e "s|$VENV|Benchmarks/.venv|g" -e "s|$(cd "$BENCH" && pwd)|../shared/bench|g" -e "s|$ROOT|.|g" "$f"
done
echo "figures: $OUT/SUMMARY.md"
