# 2026-11-21T08:35:09Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 11292 --label ocpp_storm10000 --out ./Benchmarks/results/ocpp_storm10000.json --stations 10000 --duration 20 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --storm --storm-timeout 60
