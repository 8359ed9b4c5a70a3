# 2026-11-21T08:34:02Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 11017 --label ocpp_hb10000_cold --out ./Benchmarks/results/ocpp_hb10000_cold.json --stations 10000 --duration 30 --rate 0.0333 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5
