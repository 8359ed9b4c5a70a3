# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:54695 --tls-listen 127.0.0.1:49851 --tls-cert $TLS_BENCH_DIR/certs-rsa/server.pem --tls-key $TLS_BENCH_DIR/certs-rsa/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url ws://127.0.0.1:54695/ocpp -q -o json --stations 200 --rate 0 --duration 20s --warmup 3s
