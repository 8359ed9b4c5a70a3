# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:59553 --tls-listen 127.0.0.1:44329 --tls-cert $TLS_BENCH_DIR/certs-rsa/server.pem --tls-key $TLS_BENCH_DIR/certs-rsa/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url ws://127.0.0.1:59553/ocpp -q -o json --stations 1 --rate 0 --duration 10s --warmup 1s
