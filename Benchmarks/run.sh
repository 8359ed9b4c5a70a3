#!/usr/bin/env bash
# Measures `evctl serve` against the Python `ocpp`+SQLite peer in the same run, with the shared
# load generator (../../shared/bench/loadgen.py through run_one.sh): server pinned to CPU 0, the
# generator to CPU 1. A benchmark, not a test: figures go to Benchmarks/results/.
#
#   bash Benchmarks/run.sh            # every run (about 15 minutes)
#   bash Benchmarks/run.sh sat rtt    # only some: sat rtt hold cold storm locallist
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
print("identity,name,connectors")
for i in range(20000): print(f"CP{i:06d},Bench {i},2")
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
  "$PY" -c 'print("identity,name"); [print(f"CP{i:06d},Bench {i}") for i in range(1000)]' > /tmp/evctl-ll-stations.csv
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

for r in "${runs[@]}"; do
  case "$r" in
    sat)   run sat_mixed200 --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1 ;;
    rtt)   run mixed1000_r4 --stations 1000 --duration 30 --rate 4 --scenario mixed --cpu-affinity 1 --procs 1 ;;
    hold)  run hb19500_every60s --stations 19500 --duration 80 --rate 0.01667 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --connect-timeout 30 ;;
    cold)  run hb10000_cold --stations 10000 --duration 30 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 ;;
    storm) run storm10000 --stations 10000 --duration 20 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --storm --storm-timeout 60 ;;
    locallist) local_list_push ;;
    *) echo "unknown run '$r' (sat rtt hold cold storm locallist)" >&2; exit 64 ;;
  esac
done

"$PY" "$BENCH/report.py" "$OUT/*.json" > "$OUT/RESULTS.md"
echo "figures: $OUT/RESULTS.md"
