#!/usr/bin/env bash
# Imports beside `evctl serve` (issue 11 items 12 and 13). A benchmark, not a test.
#
#   bash Benchmarks/imports.sh            # both
#   bash Benchmarks/imports.sh linear     # token import: 20k, 100k, 1M rows, all for one user
#   bash Benchmarks/imports.sh beside     # serve's p99 idle, then while 100k-row imports run
#
# `beside`: serve pinned to CPU 0 and the shared load generator (../shared/bench/loadgen.py) to
# CPU 1, 100 stations x 4 msg/s (mixed scenario, every frame logged), 30 s steady window. The
# same run is made twice on a fresh copy of one store: idle, then with `token import` of
# 100,000 rows (alternately creating and renaming them, so every run writes 100,000 rows)
# running back to back for the whole window, unpinned, as a cron job would; IMPORT_NICE=19
# runs them at the lowest CPU priority (`nice -n 19`, as a cron job should), so that what is
# left is the lock, not the CPU the import takes from serve and the load generator on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench}
OUT=${RESULTS_DIR:-$ROOT/Benchmarks/results}/imports
VENV=${BENCH_VENV:-$ROOT/Benchmarks/.venv}
mkdir -p "$OUT"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(linear beside)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check ocpp websockets uvloop
fi
PY="$VENV/bin/python"
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product evctl
EVCTL=$ROOT/.build/release/evctl
tokens() { "$PY" -c "import sys
n, name, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print('id_tag,user,name')
for i in range(n): print(f'IMP{i:07d},{user},{name}{i}')" "$@"; }

linear() {
  local db=/tmp/evctl-imp-linear.db
  echo '{"rows_for_one_user": [' > "$OUT/linear.json"
  local first=1
  for n in 20000 100000 1000000; do
    tokens "$n" a one@example.com > /tmp/evctl-imp-$n.csv
    rm -f "$db"*
    "$EVCTL" --db "$db" -q user create one@example.com --first One --last User
    /usr/bin/time -f "%e %M" -o /tmp/evctl-imp-time "$EVCTL" --db "$db" -q token import /tmp/evctl-imp-$n.csv
    read -r created_s created_kib < /tmp/evctl-imp-time
    /usr/bin/time -f "%e %M" -o /tmp/evctl-imp-time "$EVCTL" --db "$db" -q token import /tmp/evctl-imp-$n.csv
    read -r unchanged_s _ < /tmp/evctl-imp-time
    tokens "$n" b one@example.com > /tmp/evctl-imp-$n-b.csv
    /usr/bin/time -f "%e %M" -o /tmp/evctl-imp-time "$EVCTL" --db "$db" -q token import /tmp/evctl-imp-$n-b.csv
    read -r updated_s _ < /tmp/evctl-imp-time
    local count; count=$(sqlite3 "$db" "SELECT count(*) FROM tokens")
    [ $first = 1 ] || echo ',' >> "$OUT/linear.json"
    first=0
    printf '{"rows": %d, "stored": %d, "create_s": %s, "unchanged_s": %s, "update_s": %s, "peak_rss_mib": %d}' \
      "$n" "$count" "$created_s" "$unchanged_s" "$updated_s" $((created_kib / 1024)) | tee -a "$OUT/linear.json"
    echo
    rm -f /tmp/evctl-imp-$n.csv /tmp/evctl-imp-$n-b.csv
  done
  echo ']}' >> "$OUT/linear.json"
}

# beside NAME WITH_IMPORT: one loadgen run against a fresh copy of the template.
one_run() {
  local name=$1 with_import=$2 db=/tmp/evctl-imp-beside.db port=9017
  rm -f "$db"*
  cp /tmp/evctl-imp-template.db "$db"
  taskset -c 0 "$EVCTL" serve --listen 127.0.0.1:$port --db "$db" > "$OUT/$name.server.log" 2>&1 &
  local server=$!
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  taskset -c 1 "$PY" "$BENCH/loadgen.py" --url ws://127.0.0.1:$port/ocpp --server-pid $server \
    --label "$name" --out "$OUT/$name.json" --stations 100 --duration 30 --rate 4 \
    --scenario mixed --cpu-affinity 1 --procs 1 --quiet > "$OUT/$name.stdout" 2> "$OUT/$name.loadgen.log" &
  local load=$!
  : > "$OUT/$name.imports.log"
  if [ "$with_import" = 1 ]; then
    sleep 2
    local i=0
    while kill -0 $load 2>/dev/null; do
      local file=/tmp/evctl-imp-100k-a.csv
      [ $((i % 2)) = 1 ] && file=/tmp/evctl-imp-100k-b.csv
      /usr/bin/time -f "%e s" -a -o "$OUT/$name.imports.log" \
        nice -n "${IMPORT_NICE:-0}" "$EVCTL" --db "$db" token import "$file" >> "$OUT/$name.imports.log" 2>&1 || echo "import failed" >> "$OUT/$name.imports.log"
      i=$((i + 1))
    done
  fi
  wait $load || true
  kill -TERM $server; wait $server 2>/dev/null || true
}

beside() {
  rm -f /tmp/evctl-imp-template.db*
  "$PY" -c 'print("identity,name,connectors,security_profile"); [print(f"CP{i:06d},Bench {i},2,0") for i in range(100)]' > /tmp/evctl-imp-stations.csv
  "$PY" -c 'print("id_tag,user"); [print(f"TAG{i:07d},bench@example.com") for i in range(100)]' > /tmp/evctl-imp-tags.csv
  "$EVCTL" --db /tmp/evctl-imp-template.db -q station import /tmp/evctl-imp-stations.csv
  "$EVCTL" --db /tmp/evctl-imp-template.db -q user create bench@example.com --first Bench --last Load
  "$EVCTL" --db /tmp/evctl-imp-template.db -q user create cron@example.com --first Nightly --last Import
  "$EVCTL" --db /tmp/evctl-imp-template.db -q token import /tmp/evctl-imp-tags.csv
  sqlite3 /tmp/evctl-imp-template.db "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
  tokens 100000 a cron@example.com > /tmp/evctl-imp-100k-a.csv
  tokens 100000 b cron@example.com > /tmp/evctl-imp-100k-b.csv
  one_run idle 0
  one_run import100k 1
  "$PY" - "$OUT" "${IMPORT_NICE:-0}" <<'PY'
import json, sys
out, nice = sys.argv[1], int(sys.argv[2])
def steady(name):
    return json.load(open(f"{out}/{name}.json"))["steady"]
idle, busy = steady("idle"), steady("import100k")
imports = [l for l in open(f"{out}/import100k.imports.log") if l.strip()]
summary = {
    "import_nice": nice,
    "idle": {"msgs_per_s": idle["msgs_per_s"], "latency_ms": idle["latency_ms"]},
    "import100k": {"msgs_per_s": busy["msgs_per_s"], "latency_ms": busy["latency_ms"]},
    "p99_ratio": round(busy["latency_ms"]["p99"] / idle["latency_ms"]["p99"], 2),
    "imports": imports,
}
json.dump(summary, open(f"{out}/beside_nice{nice}.json", "w"), indent=2)
print(json.dumps(summary, indent=2))
PY
}

for run in "${runs[@]}"; do "$run"; done
