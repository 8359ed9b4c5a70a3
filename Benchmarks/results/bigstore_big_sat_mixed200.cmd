# 2026-12-03T13:28:06Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec /work/wt-perf/.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: /work/wt-perf/Benchmarks/.venv/bin/python /work/shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 20253 --label bigstore_big_sat_mixed200 --out /work/wt-perf/Benchmarks/results/bigstore_big_sat_mixed200.json --stations 200 --duration 30 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
