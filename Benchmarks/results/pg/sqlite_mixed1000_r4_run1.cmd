# 2026-12-04T03:11:58Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl --db '/tmp/evbpgddINVB/store.db' serve --listen 127.0.0.1:34977 --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:34977/ocpp --server-pid 20618 --label sqlite_mixed1000_r4_run1 --out ./Benchmarks/results/pg/sqlite_mixed1000_r4_run1.json --stations 1000 --duration 30 --rate 4 --scenario mixed --cpu-affinity 1 --procs 1
template: ./.build/release/evctl --db TEMPLATE -q station import stations.csv (CP000000…CP019999, 2 connectors); user create bench@example.com; token import tokens.csv (TAG0000000…TAG0019999)
store: cp TEMPLATE /tmp/evbpgddINVB/store.db
