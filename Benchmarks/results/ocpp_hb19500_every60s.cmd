# 2026-11-21T08:32:03Z  2 CPUs, 23 GiB
server: taskset -c 0 Benchmarks/.venv/bin/python ../shared/bench/peer_csms_ocpp.py --port 9000 --db /tmp/peer_csms_ocpp_bench.db --fresh-db --max-seconds 300
loadgen: Benchmarks/.venv/bin/python ../shared/bench/loadgen.py --url ws://127.0.0.1:9000/ocpp --server-pid 10680 --label ocpp_hb19500_every60s --out ./Benchmarks/results/ocpp_hb19500_every60s.json --stations 19500 --duration 80 --rate 0.01667 --scenario heartbeat --cpu-affinity 1 --procs 2 --warmup 5 --connect-timeout 30
