#!/usr/bin/env bash
# TLS against plain ws in the same run (issue 12): `evctl simulate` as the generator (CPU 1)
# against a release `evctl serve` (CPU 0) on a fresh store, with both a plain and a TLS listener;
# each pair runs back to back, plain first. A benchmark, not a test: figures go to
# Benchmarks/results/tls-*.json (+ .cmd), the table to stdout and Benchmarks/results/tls-RESULTS.md.
#
#   bash Benchmarks/tls.sh                 # every pair: sat rtt1 rtt idle cold (about 6 minutes)
#   bash Benchmarks/tls.sh sat idle        # only some
#   PASS=2 bash Benchmarks/tls.sh sat      # a repetition: names get -pass2 (any PASS text: -passTEXT)
#   TLS_KEY=ec bash Benchmarks/tls.sh cold # an EC P-256 server key instead of RSA 2048
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${RESULTS_DIR:-$ROOT/Benchmarks/results}
WORK=${TLS_BENCH_DIR:-/tmp/evctl-tlsbench}
PASS=${PASS:-1}
TLS_KEY=${TLS_KEY:-rsa}
mkdir -p "$OUT" "$WORK"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(sat rtt1 rtt idle cold)

# EVCTL=path measures another binary (e.g. a copy of the one before a change) without building.
if [ -z "${EVCTL:-}" ]; then
  swift build -c release --product evctl
  EVCTL=$ROOT/.build/release/evctl
fi
ulimit -n "$(ulimit -Hn)"

# A CA and a server certificate for 127.0.0.1, made by the openssl command.
CERTS=$WORK/certs-$TLS_KEY
if [ ! -f "$CERTS/server.pem" ]; then
  mkdir -p "$CERTS"
  case "$TLS_KEY" in
    rsa) keyargs=(-newkey rsa:2048) ;;
    ec)  keyargs=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    *) echo "TLS_KEY is rsa or ec" >&2; exit 64 ;;
  esac
  (cd "$CERTS"
   openssl req -x509 "${keyargs[@]}" -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=evctl bench CA" 2>/dev/null
   openssl req "${keyargs[@]}" -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
   echo "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext
   openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 \
     -extfile server.ext 2>/dev/null)
fi

# One store that knows the stations CP000000… (profile 0: no Basic auth on either listener).
TEMPLATE=$WORK/template.db
if [ ! -f "$TEMPLATE" ]; then
  python3 -c 'print("identity,name,connectors,security_profile"); [print(f"CP{i:06d},Bench {i},2,0") for i in range(20000)]' \
    > "$WORK/stations.csv"
  "$EVCTL" --db "$TEMPLATE" -q station import "$WORK/stations.csv"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
established() { ss -Htn state established "( sport = :$1 )" | wc -l; }

# start_serve: a fresh store and serve with both listeners on CPU 0; sets SERVER PLAIN_PORT TLS_PORT.
start_serve() {
  rm -f "$WORK"/bench.db*
  cp "$TEMPLATE" "$WORK/bench.db"
  PLAIN_PORT=$(free_port); TLS_PORT=$(free_port)
  SERVE_CMD="$EVCTL serve --listen 127.0.0.1:$PLAIN_PORT --tls-listen 127.0.0.1:$TLS_PORT --tls-cert $CERTS/server.pem --tls-key $CERTS/server.key --db $WORK/bench.db --log-level error"
  taskset -c 0 $SERVE_CMD 2> "$WORK/serve.log" &
  SERVER=$!
  for port in $PLAIN_PORT $TLS_PORT; do
    for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  done
  sleep 0.5
}

stop_serve() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; }

# url MODE: the generator's endpoint and TLS option for plain or tls.
url_args() {
  if [ "$1" = tls ]; then echo "--url wss://127.0.0.1:$TLS_PORT/ocpp --tls-ca $CERTS/ca.pem"
  else echo "--url ws://127.0.0.1:$PLAIN_PORT/ocpp"; fi
}

# save NAME MODE EXTRA_JSON: the generator's summary plus the server's figures into tls-NAME-MODE.json.
save() {
  local name=$1 mode=$2 extra=$3 file
  file="$OUT/tls-$name-$mode$([ "$PASS" = 1 ] || echo "-pass$PASS")$([ "$TLS_KEY" = rsa ] || echo "-$TLS_KEY")"
  printf '%s\n%s\n' "# serve (CPU 0), then the generator (CPU 1)" "taskset -c 0 $SERVE_CMD" > "$file.cmd"
  printf '%s\n' "taskset -c 1 $EVCTL simulate $SIM_ARGS" >> "$file.cmd"
  sed -i -e "s|$ROOT|.|g" -e "s|$WORK|\$TLS_BENCH_DIR|g" "$file.cmd"
  python3 - "$WORK/sim.json" "$WORK/sim.time" "$file.json" "$name" "$mode" "$TLS_KEY" "$extra" <<'PY'
import json, os, sys
sim, times, out, name, mode, key, extra = sys.argv[1:]
# The generator's summary at the top (loadgen.py's field names, so ../shared/bench/report.py
# renders these files beside run.sh's), the server's figures under "server".
result = json.load(open(sim))
result.pop("url", None)
user, system, wall = map(float, open(times).read().split())
result.update({"label": os.path.basename(out)[:-5], "transport": mode, "server_key": key if mode == "tls" else None,
               "server": json.loads(extra),
               "loadgen": {"tool": "evctl simulate", "cpu_pct_steady": round(100 * (user + system) / wall, 1)}})
json.dump(result, open(out, "w"), indent=2)
PY
  echo "$name $mode: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["steady"]["msgs_per_s"], "msg/s, latency", s["steady"]["latency_ms"], ", connected", s["connections"]["time_to_all_connected_s"], "s, errors", s["error_total"], s["server"])' "$file.json")"
}

# load NAME MODE SIM_ARGS...: one generator run against a fresh serve; server CPU over the run.
load() {
  local name=$1 mode=$2; shift 2
  start_serve
  SIM_ARGS="$(url_args "$mode") -q -o json $*"
  local ticks0 ticks1 t0 t1 rss0
  ticks0=$(cpu_ticks "$SERVER"); rss0=$(rss_kib "$SERVER"); t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S %e" -o "$WORK/sim.time" taskset -c 1 "$EVCTL" simulate $SIM_ARGS > "$WORK/sim.json"
  ticks1=$(cpu_ticks "$SERVER"); t1=$(date +%s.%N)
  local rss1; rss1=$(rss_kib "$SERVER")
  stop_serve
  save "$name" "$mode" "$(python3 -c "import json; print(json.dumps({'cpu_pct_steady': round(100 * ($ticks1 - $ticks0) / $(getconf CLK_TCK) / ($t1 - $t0), 1), 'cpu_pct_is': 'whole run', 'rss_before_kib': $rss0, 'rss_steady_mib': round($rss1 / 1024, 1)}))")"
}

# idle MODE N: VmRSS of serve before and after N stations connected, booted and idle.
idle() {
  local mode=$1 n=$2 port
  start_serve
  port=$([ "$mode" = tls ] && echo "$TLS_PORT" || echo "$PLAIN_PORT")
  SIM_ARGS="$(url_args "$mode") -q -o json --stations $n --rate 0.001 --duration 45s --ramp 10s"
  local before; before=$(rss_kib "$SERVER")
  # shellcheck disable=SC2086
  /usr/bin/time -f "%U %S %e" -o "$WORK/sim.time" taskset -c 1 "$EVCTL" simulate $SIM_ARGS > "$WORK/sim.json" &
  local sim=$! count=0
  for _ in $(seq 1 300); do
    count=$(established "$port"); [ "$count" -ge "$n" ] && break; sleep 0.1
  done
  sleep 10   # boots and status notifications answered, handshake buffers released
  local after held; after=$(rss_kib "$SERVER"); held=$(established "$port")
  wait "$sim" || true
  stop_serve
  save "idle$n" "$mode" "{\"rss_before_kib\": $before, \"rss_idle_kib\": $after, \"rss_steady_mib\": $(python3 -c "print(round($after / 1024, 1))"), \"connections_held_when_measured\": $held, \"rss_per_conn_kib\": $(python3 -c "print(round(($after - $before) / max(1, $held), 2))")}"
}

for r in "${runs[@]}"; do
  case "$r" in
    sat)  for m in plain tls; do load sat_hb200 "$m" --stations 200 --rate 0 --duration 20s --warmup 3s; done ;;
    rtt1) for m in plain tls; do load rtt_hb1 "$m" --stations 1 --rate 0 --duration 10s --warmup 1s; done ;;
    rtt)  for m in plain tls; do load rtt_hb1000_r4 "$m" --stations 1000 --rate 4 --duration 30s --warmup 5s; done ;;
    idle) for m in plain tls; do idle "$m" 5000; done ;;
    cold) for m in plain tls; do load cold_hb10000 "$m" --stations 10000 --rate 0.0333 --duration 30s --warmup 5s; done ;;
    *) echo "unknown run '$r' (sat rtt1 rtt idle cold)" >&2; exit 64 ;;
  esac
done

python3 - "$OUT" > "$OUT/tls-RESULTS.md" <<'PY'
import glob, json, os, sys
rows = {}
for path in sorted(glob.glob(os.path.join(sys.argv[1], "tls-*.json"))):
    r = json.load(open(path))
    key = os.path.basename(path)[4:-5].replace(f"-{r['transport']}", "", 1)
    rows.setdefault(key, {})[r["transport"]] = r
print("| run | plain | TLS | TLS / plain |\n|---|---|---|---|")
for key, pair in rows.items():
    def fig(r):
        s, srv = r, r["server"]
        if "rss_per_conn_kib" in srv:
            return srv["rss_per_conn_kib"], f"{srv['rss_per_conn_kib']} KiB/conn ({srv['connections_held_when_measured']} held, {srv['rss_before_kib']} → {srv['rss_idle_kib']} KiB)"
        if key.startswith("cold"):
            c = s["connections"]
            t = c["time_to_all_connected_s"]
            ms = c["connect_ms"]
            if t is None:
                return None, f"{c['established']} of {s['stations']} connected in the run (connect p50 {ms.get('p50')} / p99 {ms.get('p99')} ms)"
            return t, f"all connected in {t} s (connect p50 {ms.get('p50')} / p99 {ms.get('p99')} ms, at most {c.get('max_tls_handshakes_in_flight', 'n/a')} TLS handshakes at once)"
        lat = s["steady"]["latency_ms"]
        return s["steady"]["msgs_per_s"], f"{s['steady']['msgs_per_s']} msg/s, p50 {lat.get('p50')} / p99 {lat.get('p99')} ms, serve CPU {srv.get('cpu_pct_steady')} %"
    if "plain" in pair and "tls" in pair:
        (a, ta), (b, tb) = fig(pair["plain"]), fig(pair["tls"])
        ratio = f"{b / a:.2f}" if a and b is not None else "n/a"
        print(f"| {key} | {ta} | {tb} | {ratio} |")
PY
cat "$OUT/tls-RESULTS.md"
