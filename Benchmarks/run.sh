#!/usr/bin/env bash
# Measures `evctl serve` against the Python `ocpp`+SQLite peer in the same run, with the shared
# load generator (../../shared/bench/loadgen.py through run_one.sh): server pinned to CPU 0, the
# generator to CPU 1. A benchmark, not a test: figures go to Benchmarks/results/.
#
#   bash Benchmarks/run.sh            # every run (about 15 minutes)
#   bash Benchmarks/run.sh sat rtt    # only some: sat rtt hold cold storm locallist reports simgen
#                                     # big-store sat-native cli-scale
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench}
OUT=${RESULTS_DIR:-$ROOT/Benchmarks/results}
VENV=${BENCH_VENV:-$ROOT/Benchmarks/.venv}
mkdir -p "$OUT"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(sat rtt hold cold storm)

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check ocpp websockets uvloop
fi
export PY="$VENV/bin/python" RESULTS_DIR="$OUT"

swift build -c release --product evctl
EVCTL=$ROOT/.build/release/evctl

# One store that knows the generator's stations CP000000… and their tags TAG0000000…
TEMPLATE=/tmp/evctl-bench-template.db
if [ ! -f "$TEMPLATE" ]; then
  rm -f "$TEMPLATE"*
  "$PY" - <<'PY' > /tmp/evctl-bench-stations.csv
print("identity,name,connectors,security_profile")
for i in range(20000): print(f"CP{i:06d},Bench {i},2,0")
for i in range(2000): print(f"SM{i:06d},Simulated {i},2,0")
PY
  "$PY" - <<'PY' > /tmp/evctl-bench-tokens.csv
print("id_tag,user")
for i in range(20000): print(f"TAG{i:07d},bench@example.com")
PY
  "$EVCTL" --db "$TEMPLATE" -q station import /tmp/evctl-bench-stations.csv
  "$EVCTL" --db "$TEMPLATE" -q user create bench@example.com --first Bench --last Load
  "$EVCTL" --db "$TEMPLATE" -q token import /tmp/evctl-bench-tokens.csv
fi

# run NAME LOADGEN_ARGS...: evctl first, then the peer, with the same arguments.
run() {
  local name=$1; shift
  rm -f /tmp/evctl-bench.db*
  cp "$TEMPLATE" /tmp/evctl-bench.db
  SERVER_CMD="$EVCTL serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error" PORT=9003 \
    bash "$BENCH/run_one.sh" "evctl_$name" cmd 0 "$@"
  bash "$BENCH/run_one.sh" "ocpp_$name" ocpp 0 "$@"
}

# locallist: push a 10,000-token local list to 1,000 connected stations; time to the last ack.
local_list_push() {
  local db=/tmp/evctl-bench-locallist.db out="$OUT/locallist/evctl_1000x10000.json"; mkdir -p "$OUT/locallist"
  rm -f "$db"*
  "$PY" -c 'print("identity,name,security_profile"); [print(f"CP{i:06d},Bench {i},0") for i in range(1000)]' > /tmp/evctl-ll-stations.csv
  "$PY" -c 'print("id_tag,user"); [print(f"TAG{i:07d},bench@example.com") for i in range(10000)]' > /tmp/evctl-ll-tokens.csv
  "$EVCTL" --db "$db" -q station import /tmp/evctl-ll-stations.csv
  "$EVCTL" --db "$db" -q user create bench@example.com --first Bench --last Load
  "$EVCTL" --db "$db" -q token import /tmp/evctl-ll-tokens.csv
  taskset -c 0 "$EVCTL" serve --listen 127.0.0.1:9004 --db "$db" --log-level error &
  local server=$!
  sleep 1
  coproc SIM { taskset -c 1 "$PY" "$ROOT/Benchmarks/local_list_stations.py" --stations 1000 --max-message 1000; }
  read -r ready <&"${SIM[0]}"
  local start end
  start=$(date +%s.%N)
  "$EVCTL" --db "$db" -q local-list push --all --timeout 120 || echo "push failed" >&2
  end=$(date +%s.%N)
  echo >&"${SIM[1]}"; exec {SIM[1]}>&-
  read -r summary <&"${SIM[0]}"
  local rss; rss=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
  kill -TERM $server; wait $server 2>/dev/null || true
  "$PY" - "$start" "$end" "$summary" "$rss" "$out" <<'PY'
import json, sys
start, end, summary, rss, out = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
result = {"stations": 1000, "tokens": 10000, "send_local_list_max_length": 1000,
          "seconds_to_last_ack": round(end - start, 2), "server_peak_rss_mib": round(rss / 1024, 1), **summary}
result.pop("last_ack", None)
json.dump(result, open(out, "w"), indent=2)
print("locallist", json.dumps(result))
PY
}

# reports: `report sessions` over 1,000,000 sessions to CSV, against `sqlite3 -csv` running the
# equivalent query on the same file (the floor); wall time and peak memory of each.
report_sessions() {
  local db=/tmp/evctl-bench-reports.db out="$OUT/reports/sessions_1000000.json"
  mkdir -p "$OUT/reports"
  if [ ! -f "$db" ]; then
    "$EVCTL" --db "$db" -q group create Site --kind site
    "$PY" -c 'print("identity,name,group,connectors,security_profile"); [print(f"R{i:04d},Bay {i},Site,2,0") for i in range(200)]' > /tmp/evctl-r-stations.csv
    "$EVCTL" --db "$db" -q station import /tmp/evctl-r-stations.csv
    "$EVCTL" --db "$db" -q user create fleet@example.com --first Fleet --last Owner
    "$PY" -c 'print("id_tag,user"); [print(f"CARD{i:05d},fleet@example.com") for i in range(1000)]' > /tmp/evctl-r-tokens.csv
    "$EVCTL" --db "$db" -q token import /tmp/evctl-r-tokens.csv
    sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
      INSERT INTO transactions (id, station_id, connector_id, id_tag, token_id, authorization_status,
        meter_start, started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
      SELECT i, 1 + i % 200, 1 + i % 2, printf('CARD%05d', i % 1000), 1 + i % 1000, 'Accepted', 1000,
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'),
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds'),
        1000 + (i % 50000), strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30 + 3600) || ' seconds'),
        'EVDisconnected', 'completed', strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 30) || ' seconds')
      FROM n;"
  fi
  local floor_sql
  floor_sql=$("$PY" - "$ROOT/Sources/EvctlCore/Store/ReportStore.swift" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
body = text.split('static func sessionSelect(', 1)[1]
sql = body.split('"""', 2)[1]
# The two forms that differ by dialect, written as SQLDialect.sqlite writes them
# (Sources/EvctlCore/Backend/SQLDialect+Forms.swift).
sql = re.sub(r'\\\(dialect\.jsonText\("([^"]+)", key: "([^"]+)"\)\)',
             lambda m: f"json_extract({m.group(1)}, '$.{m.group(2)}')", sql)
sql = re.sub(r'\\\(dialect\.time\("([^"]+)", minusSeconds: "([^"]+)"\)\)',
             lambda m: f"strftime('%Y-%m-%dT%H:%M:%fZ', {m.group(1)}, '-' || ({m.group(2)}) || ' seconds')", sql)
if "\\(" in sql:
    sys.exit("Benchmarks/run.sh: sessionSelect has an interpolation this script does not know: " + sql)
for n in range(1, 7):
    sql = sql.replace(f"?{n}", "NULL")
print(" ".join(line.strip() for line in sql.strip().splitlines()))
PY
)
  /usr/bin/time -f "%e %M" -o /tmp/evctl-r-time "$EVCTL" --db "$db" report sessions -o csv > /tmp/evctl-r.csv
  read -r evctl_s evctl_kib < /tmp/evctl-r-time
  /usr/bin/time -f "%e %M" -o /tmp/evctl-r-time sqlite3 -csv -header "$db" "$floor_sql" > /tmp/evctl-r-floor.csv
  read -r floor_s floor_kib < /tmp/evctl-r-time
  # report energy --by day over the same sessions (summed by SQL), in the operator's zone.
  /usr/bin/time -f "%e %M" -o /tmp/evctl-r-time "$EVCTL" --db "$db" report energy --by day --tz Europe/Amsterdam -o csv > /tmp/evctl-r-days.csv
  read -r days_s days_kib < /tmp/evctl-r-time
  "$PY" - "$evctl_s" "$evctl_kib" "$floor_s" "$floor_kib" "$(wc -l < /tmp/evctl-r.csv)" "$(wc -l < /tmp/evctl-r-floor.csv)" "$out" "$days_s" "$days_kib" "$(wc -l < /tmp/evctl-r-days.csv)" <<'PY'
import json, sys
e_s, e_k, f_s, f_k, e_lines, f_lines, out, d_s, d_k, d_lines = sys.argv[1:]
result = {"sessions": 1000000, "evctl_seconds": float(e_s), "evctl_peak_rss_mib": round(int(e_k) / 1024, 1),
          "sqlite3_seconds": float(f_s), "sqlite3_peak_rss_mib": round(int(f_k) / 1024, 1),
          "ratio": round(float(e_s) / float(f_s), 2), "evctl_lines": int(e_lines), "sqlite3_lines": int(f_lines),
          "energy_by_day_seconds": float(d_s), "energy_by_day_peak_rss_mib": round(int(d_k) / 1024, 1),
          "energy_by_day_lines": int(d_lines)}
json.dump(result, open(out, "w"), indent=2)
print("reports", json.dumps(result))
PY
}

# simgen: `evctl simulate` as the generator (pinned to CPU 1) against the same servers (CPU 0),
# beside loadgen.py with the same load; sim/NAME.json holds its summary plus its own CPU use.
sim_run() {
  local name=$1 peer=$2; shift 2
  local port=9005 server
  mkdir -p "$OUT/sim"
  case "$peer" in
    evctl) rm -f /tmp/evctl-bench.db*; cp "$TEMPLATE" /tmp/evctl-bench.db
           taskset -c 0 "$EVCTL" serve --listen 127.0.0.1:$port --db /tmp/evctl-bench.db --log-level error & ;;
    null)  taskset -c 0 "$PY" "$BENCH/null_csms_raw.py" --port $port --max-seconds 300 >/dev/null 2>&1 & ;;
    ocpp)  taskset -c 0 "$PY" "$BENCH/peer_csms_ocpp.py" --port $port --db /tmp/evctl-bench-peer.db --fresh-db --max-seconds 300 >/dev/null 2>&1 & ;;
    *) echo "unknown peer $peer" >&2; exit 64 ;;
  esac
  server=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  ulimit -n "$(ulimit -Hn)"
  /usr/bin/time -f "%U %S %e" -o /tmp/evctl-sim-time taskset -c 1 "$EVCTL" simulate \
    --url ws://127.0.0.1:$port/ocpp -q -o json "$@" > /tmp/evctl-sim.json
  kill -TERM $server; wait $server 2>/dev/null || true
  "$PY" - "$OUT/sim/$name.json" "$*" <<'PY'
import json, sys
user, system, wall = map(float, open("/tmp/evctl-sim-time").read().split())
summary = json.load(open("/tmp/evctl-sim.json"))
summary["label"] = sys.argv[1].rsplit("/", 1)[-1][:-5]
summary["command"] = "evctl simulate " + sys.argv[2]
summary["generator"] = {"cpu_pct_whole_run": round(100 * (user + system) / wall, 1), "wall_s": wall}
json.dump(summary, open(sys.argv[1], "w"), indent=2)
s = summary["steady"]
print(summary["label"], s["msgs_per_s"], "msg/s", s["latency_ms"], "generator CPU", summary["generator"]["cpu_pct_whole_run"], "%")
PY
}

# big-store: the same `sat` run on a store that already holds 1,000,000 transactions, 20,000,000
# message-log rows (older than the 7-day retention, so serve prunes them during the run) and
# 200,000 tokens, beside the empty store, in the same minute (sizes: BIG_TX, BIG_LOG, BIG_TOKENS).
big_store() {
  local big=/tmp/evctl-bench-big.db tx=${BIG_TX:-1000000} log=${BIG_LOG:-20000000} tokens=${BIG_TOKENS:-200000}
  if [ ! -f "$big" ]; then
    cp "$TEMPLATE" "$big"
    "$PY" -c "import sys; n=int(sys.argv[1]); print('id_tag,user'); [print(f'BIG{i:07d},bench@example.com') for i in range(n)]" \
      "$tokens" > /tmp/evctl-big-tokens.csv
    "$EVCTL" --db "$big" -q token import /tmp/evctl-big-tokens.csv
    sqlite3 "$big" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $tx)
      INSERT INTO transactions (id, station_id, connector_id, id_tag, authorization_status, meter_start,
        started_at, start_timestamp_raw, meter_stop, stopped_at, stop_reason, state, received_at)
      SELECT i, 1 + i % 20000, 1 + i % 2, printf('BIG%07d', i % $tokens), 'Accepted', 0,
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 20) || ' seconds'),
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 20) || ' seconds'), 1000 + i % 50000,
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 20 + 3600) || ' seconds'), 'EVDisconnected',
        'completed', strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || (i * 20) || ' seconds') FROM n;"
    sqlite3 "$big" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $log)
      INSERT INTO message_log (id, station_id, direction, at, frame)
      SELECT i, 1 + i % 20000, CASE i % 2 WHEN 0 THEN 'in' ELSE 'out' END,
        strftime('%Y-%m-%dT%H:%M:%fZ', '2025-06-01', '+' || (i / 50) || ' seconds'),
        CASE i % 2 WHEN 0 THEN '[2,\"' || i || '\",\"Heartbeat\",{}]'
          ELSE '[3,\"' || i || '\",{\"currentTime\":\"2025-06-01T00:00:00.000Z\"}]' END FROM n;
      PRAGMA wal_checkpoint(TRUNCATE);"
  fi
  local run_name
  for run_name in empty big; do
    rm -f /tmp/evctl-bench.db*
    if [ $run_name = empty ]; then cp "$TEMPLATE" /tmp/evctl-bench.db; else cp "$big" /tmp/evctl-bench.db; fi
    SERVER_CMD="$EVCTL serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error" PORT=9003 \
      bash "$BENCH/run_one.sh" "bigstore_${run_name}_sat_mixed200" cmd 0 \
      --stations 200 --duration 30 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
  done
  sqlite3 /tmp/evctl-bench.db "SELECT 'message_log rows left after the run: ' || count(*) FROM message_log" \
    > "$OUT/bigstore_big_sat_mixed200.rows.txt"
}

# sat-native: `evctl simulate` (one core) as the closed-loop generator, fast enough to go past
# loadgen.py's ceiling: 200 stations, Heartbeat, against serve, the peer and the null responder.
sat_native() {
  sim_run native_evctl_sat_hb200 evctl --stations 200 --rate 0 --duration 20 --warmup 5
  sim_run native_ocpp_sat_hb200 ocpp --stations 200 --rate 0 --duration 20 --warmup 5
  sim_run native_null_sat_hb200 null --stations 200 --rate 0 --duration 20 --warmup 5
}

# cli-scale: the CLI on a store with 20,000 stations and 200,000 tokens (wall seconds, best of 3).
cli_scale() {
  local db=/tmp/evctl-bench-cli.db out="$OUT/cli/cli_scale.json"; mkdir -p "$OUT/cli"
  rm -f "$db"*
  cp "$TEMPLATE" "$db"
  "$PY" -c 'print("id_tag,user"); [print(f"CLI{i:07d},bench@example.com") for i in range(180000)]' > /tmp/evctl-cli-tokens.csv
  "$PY" -c 'print("id_tag,user"); [print(f"NEW{i:07d},bench@example.com") for i in range(100000)]' > /tmp/evctl-cli-new.csv
  "$EVCTL" --db "$db" -q token import /tmp/evctl-cli-tokens.csv
  "$PY" - "$EVCTL" "$db" "$out" <<'PY'
import json, shutil, subprocess, sys, time
evctl, db, out = sys.argv[1:]
def best(args, reset=None, n=3):
    times = []
    for _ in range(n):
        if reset: reset()
        t = time.perf_counter()
        r = subprocess.run([evctl, "--db", db, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t)
        if r.returncode != 0: raise SystemExit(f"{args} failed: {r.stderr}")
    return round(min(times), 4)
shutil.copy(db, db + ".orig")
def restore(): shutil.copy(db + ".orig", db); subprocess.run(["rm", "-f", db + "-wal", db + "-shm"])
result = {"stations": 20000, "tokens": 200000,
          "startup_version_s": best(["version"]),
          "startup_group_list_s": best(["group", "list", "-o", "json"]),
          "station_list_json_s": best(["station", "list", "-o", "json"]),
          "local_list_push_all_dry_run_s": best(["local-list", "push", "--all", "--dry-run"]),
          "token_import_100000_s": best(["-q", "token", "import", "/tmp/evctl-cli-new.csv"], reset=restore)}
json.dump(result, open(out, "w"), indent=2)
print("cli-scale", json.dumps(result))
PY
}

# sim_both NAME STATIONS RATE: evctl simulate (SM… stations) and loadgen.py (CP…) at the same time
# against one serve, so that both measure the same server in the same seconds (issue 13 item 5).
sim_both() {
  local name=$1 stations=$2 rate=$3 port=9006 server sim
  mkdir -p "$OUT/sim"
  rm -f /tmp/evctl-bench.db*; cp "$TEMPLATE" /tmp/evctl-bench.db
  taskset -c 0 "$EVCTL" serve --listen 127.0.0.1:$port --db /tmp/evctl-bench.db --log-level error &
  server=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  ulimit -n "$(ulimit -Hn)"
  taskset -c 1 "$EVCTL" simulate --url ws://127.0.0.1:$port/ocpp -q -o json --stations "$stations" --id-prefix SM \
    --rate "$rate" --duration 25 --warmup 5 > "$OUT/sim/${name}_simulate.json" &
  sim=$!
  taskset -c 1 "$PY" "$BENCH/loadgen.py" --url ws://127.0.0.1:$port/ocpp --server-pid $server --stations "$stations" \
    --duration 20 --rate "$rate" --scenario heartbeat --cpu-affinity 1 --procs 1 --warmup 5 \
    --out "$OUT/sim/${name}_loadgen.json" > /dev/null 2>&1
  wait $sim
  kill -TERM $server; wait $server 2>/dev/null || true
  "$PY" - "$OUT/sim/${name}" <<'PY'
import json, sys
rows = {g: json.load(open(f"{sys.argv[1]}_{g}.json"))["steady"] for g in ("simulate", "loadgen")}
for g, s in rows.items():
    l = s["latency_ms"]
    print(f"{g:8} msg/s {s['msgs_per_s']}  p50 {l['p50']}  p95 {l['p95']}  p99 {l['p99']}")
PY
}

for r in "${runs[@]}"; do
  case "$r" in
    sat)   run sat_mixed200 --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
           # The Python null responder (persists nothing, validates nothing) in the same run.
           bash "$BENCH/run_one.sh" null_sat_mixed200 null 0 --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1 ;;
    rtt)   run mixed1000_r4 --stations 1000 --duration 30 --rate 4 --scenario mixed --cpu-affinity 1 --procs 1
           run mixed5000_r1 --stations 5000 --duration 30 --rate 1 --scenario mixed --cpu-affinity 1 --procs 1 --warmup 8 ;;
    hold)  run hb19500_every60s --stations 19500 --duration 80 --rate 0.01667 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --connect-timeout 30 ;;
    cold)  run hb10000_cold --stations 10000 --duration 30 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 ;;
    storm) run storm10000 --stations 10000 --duration 20 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --storm --storm-timeout 60 ;;
    locallist) local_list_push ;;
    reports) report_sessions ;;
    big-store) big_store ;;
    sat-native) sat_native ;;
    cli-scale) cli_scale ;;
    tls)   bash "$ROOT/Benchmarks/tls.sh" ;;
    simgen)
      sim_run null_sat_hb200 null --stations 200 --rate 0 --duration 20
      sim_run evctl_sat_hb200 evctl --stations 200 --rate 0 --duration 20
      sim_run evctl_hb1000_r1 evctl --stations 1000 --rate 1 --duration 30 --warmup 5
      run hb1000_r1 --stations 1000 --duration 30 --rate 1 --scenario heartbeat --cpu-affinity 1 --procs 1 --warmup 5
      sim_both both_hb500_r1 500 1 ;;
    *) echo "unknown run '$r' (sat rtt hold cold storm locallist reports simgen big-store sat-native cli-scale)" >&2; exit 64 ;;
  esac
done

"$PY" "$BENCH/report.py" "$OUT/*.json" > "$OUT/RESULTS.md"
# Results are committed: name paths relative to the repository, not this machine's.
for f in "$OUT"/*.* "$OUT"/*/*.*; do
  [ -f "$f" ] || continue
  sed -i -e "s|$ROOT/Benchmarks/.venv|Benchmarks/.venv|g" -e "s|$VENV|Benchmarks/.venv|g" \
    -e "s|$(cd "$BENCH" && pwd)|../shared/bench|g" -e "s|$ROOT|.|g" "$f"
done
echo "figures: $OUT/RESULTS.md"
