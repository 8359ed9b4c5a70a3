# 2026-12-03T13:34:13Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 30200 --label ocpp_sat_mixed200 --out ./Benchmarks/results/ocpp_sat_mixed200.json --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
