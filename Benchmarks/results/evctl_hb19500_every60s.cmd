# 2026-11-21T08:30:40Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 10456 --label evctl_hb19500_every60s --out ./Benchmarks/results/evctl_hb19500_every60s.json --stations 19500 --duration 80 --rate 0.01667 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --connect-timeout 30
