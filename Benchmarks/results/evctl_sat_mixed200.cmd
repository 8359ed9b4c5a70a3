# 2026-12-03T13:33:51Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 29826 --label evctl_sat_mixed200 --out ./Benchmarks/results/evctl_sat_mixed200.json --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
