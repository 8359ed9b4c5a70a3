# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:49741 --tls-listen 127.0.0.1:51279 --tls-cert $TLS_BENCH_DIR/certs-rsa/server.pem --tls-key $TLS_BENCH_DIR/certs-rsa/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url wss://127.0.0.1:51279/ocpp --tls-ca $TLS_BENCH_DIR/certs-rsa/ca.pem -q -o json --stations 5000 --rate 0.001 --duration 45s --ramp 10s
