"""`evctl simulate` over wss:// keeps its TLS handshakes bounded, as a connection pool would (issue 12's
cold-connect benchmark): without the bound 10,000 stations started together all handshake at once
and all pass their connect timeout together. Certificates come from the `openssl` command."""
import json
import subprocess

from conftest import BINARY, Evctl, free_port
from test_tls import make_ca, make_server_cert, wait_for_port


def test_many_stations_started_together_over_wss_all_connect_with_at_most_64_handshakes_at_once(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    stations = 300
    csv = tmp_path / "stations.csv"
    csv.write_text("identity,name,connectors,security_profile\n"
                   + "".join(f"CP{i:06d},Pool {i},1,0\n" for i in range(stations)))
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "import", str(csv))
    tls_port = free_port()
    server.start("--tls-listen", f"127.0.0.1:{tls_port}", "--tls-cert", cert, "--tls-key", key)
    try:
        wait_for_port(tls_port)
        result = subprocess.run(
            [BINARY, "simulate", "--url", f"wss://127.0.0.1:{tls_port}/ocpp", "--tls-ca", ca, "-q", "-o", "json",
             "--stations", str(stations), "--rate", "0.01", "--duration", "15s"],
            capture_output=True, text=True, timeout=120, env=server.env)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    connections = summary["connections"]
    assert connections["all_connected"], summary
    assert connections["established"] == stations
    assert 1 <= connections["max_tls_handshakes_in_flight"] <= 64, connections
    assert summary["error_total"] == 0, summary["errors"]
