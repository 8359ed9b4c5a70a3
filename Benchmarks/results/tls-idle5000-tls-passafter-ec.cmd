# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 /tmp/tlsperf-after-evctl serve --listen 127.0.0.1:48201 --tls-listen 127.0.0.1:34147 --tls-cert $TLS_BENCH_DIR/certs-ec/server.pem --tls-key $TLS_BENCH_DIR/certs-ec/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 /tmp/tlsperf-after-evctl simulate --url wss://127.0.0.1:34147/ocpp --tls-ca $TLS_BENCH_DIR/certs-ec/ca.pem -q -o json --stations 5000 --rate 0.001 --duration 45s --ramp 10s
