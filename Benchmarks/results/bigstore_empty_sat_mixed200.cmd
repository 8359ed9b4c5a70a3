# 2026-12-03T13:27:20Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec /work/wt-perf/.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: /work/wt-perf/Benchmarks/.venv/bin/python /work/shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 19360 --label bigstore_empty_sat_mixed200 --out /work/wt-perf/Benchmarks/results/bigstore_empty_sat_mixed200.json --stations 200 --duration 30 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
