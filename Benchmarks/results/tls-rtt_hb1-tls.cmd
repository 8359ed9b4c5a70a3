# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:55439 --tls-listen 127.0.0.1:36265 --tls-cert $TLS_BENCH_DIR/certs-rsa/server.pem --tls-key $TLS_BENCH_DIR/certs-rsa/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url wss://127.0.0.1:36265/ocpp --tls-ca $TLS_BENCH_DIR/certs-rsa/ca.pem -q -o json --stations 1 --rate 0 --duration 10s --warmup 1s
