# 2026-12-03T13:23:57Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 14436 --label evctl_hb1000_r1 --out ./Benchmarks/results/evctl_hb1000_r1.json --stations 1000 --duration 30 --rate 1 --scenario heartbeat --cpu-affinity 1 --procs 1 --warmup 5
