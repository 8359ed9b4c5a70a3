# serve (CPU 0), then the generator (CPU 1)
taskset -c 0 ./.build/release/evctl serve --listen 127.0.0.1:33371 --tls-listen 127.0.0.1:56891 --tls-cert $TLS_BENCH_DIR/certs-rsa/server.pem --tls-key $TLS_BENCH_DIR/certs-rsa/server.key --db $TLS_BENCH_DIR/bench.db --log-level error
taskset -c 1 ./.build/release/evctl simulate --url wss://127.0.0.1:56891/ocpp --tls-ca $TLS_BENCH_DIR/certs-rsa/ca.pem -q -o json --stations 10000 --rate 0.0333 --duration 30s --warmup 5s
