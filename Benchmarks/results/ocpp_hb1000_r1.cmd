# 2026-12-03T13:24:29Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 15385 --label ocpp_hb1000_r1 --out ./Benchmarks/results/ocpp_hb1000_r1.json --stations 1000 --duration 30 --rate 1 --scenario heartbeat --cpu-affinity 1 --procs 1 --warmup 5
