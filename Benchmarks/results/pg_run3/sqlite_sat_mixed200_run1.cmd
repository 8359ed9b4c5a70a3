# 2026-12-04T22:32:25Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl --db '/tmp/evbpgN2hv3l/store.db' serve --listen 127.0.0.1:32809 --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:32809/ocpp --server-pid 9435 --label sqlite_sat_mixed200_run1 --out Benchmarks/results/pg_run3/sqlite_sat_mixed200_run1.json --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
template: ./.build/release/evctl --db TEMPLATE -q station import stations.csv (CP000000…CP019999, 2 connectors); user create bench@example.com; token import tokens.csv (TAG0000000…TAG0019999)
store: cp TEMPLATE /tmp/evbpgN2hv3l/store.db
