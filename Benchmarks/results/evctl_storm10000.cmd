# 2026-11-21T08:34:35Z  2 CPUs, 23 GiB
server: taskset -c 0 bash -c exec ./.build/release/evctl serve --listen 127.0.0.1:9003 --db /tmp/evctl-bench.db --log-level error
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9003/ocpp --server-pid 11198 --label evctl_storm10000 --out ./Benchmarks/results/evctl_storm10000.json --stations 10000 --duration 20 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --storm --storm-timeout 60
