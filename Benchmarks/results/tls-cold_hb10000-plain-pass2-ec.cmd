# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:46569 --tls-listen 127.0.0.1:48033 --tls-cert $TLS_BENCH_DIR/certs-ec/server.pem --tls-key $TLS_BENCH_DIR/certs-ec/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url ws://127.0.0.1:46569/ocpp -q -o json --stations 10000 --rate 0.0333 --duration 30s --warmup 5s
