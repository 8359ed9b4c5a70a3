# 2026-12-03T13:34:35Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/null_csms_raw.py --port 9002 --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9002/ocpp --server-pid 30493 --label null_sat_mixed200 --out ./Benchmarks/results/null_sat_mixed200.json --stations 200 --duration 20 --rate 0 --scenario mixed --cpu-affinity 1 --procs 1
