# 2026-12-03T13:44:31Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 9483 --label ocpp_mixed1000_r4 --out ./Benchmarks/results/ocpp_mixed1000_r4.json --stations 1000 --duration 30 --rate 4 --scenario mixed --cpu-affinity 1 --procs 1
