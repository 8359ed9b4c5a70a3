#!/usr/bin/env bash
# Instructions per CALL of `evctl serve` under callgrind (repeatable while the machine is busy,
# unlike wall-clock figures): loadgen.py sends 4,000 mixed CALLs from 20 stations to a serve run
# by valgrind, then the inclusive cost of its main parts is printed per CALL. A benchmark, not a test.
#
#   bash Benchmarks/profile.sh [OUT.cg]     # about 2 minutes; needs valgrind and a release build
#   EVCTL=/path/to/old/evctl PORT=9121 PROFILE_DB=/tmp/old.db bash Benchmarks/profile.sh /tmp/old.cg
#                                           # another binary, port and store: two profiles at once
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH:-$ROOT/../shared/bench}
PY=${BENCH_VENV:-$ROOT/Benchmarks/.venv}/bin/python
EVCTL=${EVCTL:-$ROOT/.build/release/evctl}
out=${1:-/tmp/evctl-serve.cg}
TEMPLATE=/tmp/evctl-bench-template.db
[ -f "$TEMPLATE" ] || { echo "run 'bash Benchmarks/run.sh sat' once first (it makes $TEMPLATE)" >&2; exit 66; }
db=${PROFILE_DB:-/tmp/evctl-profile.db} port=${PORT:-9007}
rm -f "$db"*; cp "$TEMPLATE" "$db"
valgrind --tool=callgrind --callgrind-out-file="$out" "$EVCTL" serve --listen 127.0.0.1:$port --db "$db" \
  --log-level error 2>"$out.valgrind.log" &
server=$!
for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
"$PY" "$BENCH/loadgen.py" --url ws://127.0.0.1:$port/ocpp --stations 20 --duration 120 --rate 0 --scenario mixed \
  --procs 1 --max-messages 4000 --connect-timeout 60 --call-timeout 60 --out "$out.json" > /dev/null 2>&1
kill -TERM $server; wait $server || true
calls=$("$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['whole_run']['calls_ok'])" "$out.json")
callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | "$PY" -c '
import re, sys
calls = int(sys.argv[1])
parts = {"whole process": "PROGRAM TOTALS", "CALL handling": "ConnectionSessionC10handleText",
         "handler dispatch": "CentralSystemC6handle6action", "OCPP decode": "OCPPMessageDecoderO6decode",
         "message log + liveness": "CentralSystemC13flushLivenessyyKF", "Connection.execute": "ConnectionC7executeyySSKF",
         "Statement.bind": "StatementC4bindyySayAA14SQLiteBindable", "JSONValue.compact": "JSONValueO7compactSSvg",
         "sqlite3_step": "???:sqlite3_step ", "malloc": "malloc.c:malloc ", "free": "malloc.c:free "}
text = sys.stdin.read().splitlines()
for name, key in parts.items():
    cost = max([int(m.group(1).replace(",", "")) for line in text if key in line
                for m in [re.match(r"\s*([\d,]+)", line)] if m] or [0])
    print(f"{name:24} {cost / calls:10.0f} instructions per CALL")
' "$calls"
echo "profile: $out ($calls CALLs; callgrind_annotate --inclusive=yes $out)"
