# 2026-12-04T22:57:43Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl --db '/tmp/evbpgqBozl8/store.db' serve --listen 127.0.0.1:45343 --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:45343/ocpp --server-pid 18954 --label sqlite_sat_mixed200_run1 --out Benchmarks/results/pg_run4/sqlite_sat_mixed200_run1.json --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
template: ./.build/release/evctl --db TEMPLATE -q station import stations.csv (CP000000…CP019999, 2 connectors); user create bench@example.com; token import tokens.csv (TAG0000000…TAG0019999)
store: cp TEMPLATE /tmp/evbpgqBozl8/store.db
