"""`evctl simulate` against `evctl serve` and against a central system that is not ours."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import BINARY, free_port

HERE = os.path.dirname(os.path.abspath(__file__))


def simulate(evctl, *args, stdin=None, timeout=60):
    return subprocess.run([BINARY, "simulate", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=evctl.env)


def background(evctl, *args):
    return subprocess.Popen([BINARY, "simulate", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=evctl.env)


def base(evctl):
    return f"ws://127.0.0.1:{evctl.port}/ocpp"


def query(evctl, sql, args=()):
    # On PostgreSQL a '%' in the text is a placeholder to psycopg (LIKE patterns go in as
    # parameters), and LIKE refuses identity's nondeterministic collation (use substr).
    return evctl.sql(sql, args)


def wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_check_passes_against_serve_and_with_the_password(evctl):
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--connectors", "2",
                      "--id-tag", "GOOD1", "--check")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ok connect", "ok boot", "ok status", "ok authorize", "ok start", "ok meter", "ok stop"]
    assert lines[-1].startswith("check passed")
    assert query(evctl, "SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL") == [(1,)]
    secure = simulate(evctl, "--url", base(evctl) + "/", "--identity", "CP-SEC", "--id-tag", "GOOD1",
                      "--check", "--password-stdin", stdin="0123456789abcdef0123\n")
    assert secure.returncode == 0, secure.stderr


@pytest.mark.parametrize("args,stdin,message", [
    (["--identity", "NOPE"], None, "check failed at connect: HTTP 404"),
    (["--identity", "CP-SEC"], None, "check failed at connect: HTTP 401"),
    (["--identity", "CP-SEC", "--password-stdin"], "wrong-password-000000\n", "check failed at connect: HTTP 401"),
    (["--identity", "CP-1", "--id-tag", "BLOCKED1"], None, "check failed at authorize: id tag BLOCKED1 is Blocked"),
])
def test_check_names_the_failing_step(evctl, args, stdin, message):
    result = simulate(evctl, "--url", base(evctl), *args, "--check", stdin=stdin)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: " + message), result.stderr


def test_check_connection_refused_and_bad_urls(evctl):
    closed = free_port()
    result = simulate(evctl, "--url", f"ws://127.0.0.1:{closed}/ocpp", "--identity", "CP-1", "--check")
    assert result.returncode == 1
    assert "check failed at connect:" in result.stderr and "connection refused" in result.stderr
    tls = simulate(evctl, "--url", f"wss://127.0.0.1:{closed}/ocpp", "--identity", "CP-1", "--check")
    assert tls.returncode == 1 and "connection refused" in tls.stderr
    bad = simulate(evctl, "--url", "http://127.0.0.1/ocpp", "--identity", "CP-1")
    assert bad.returncode == 64 and "ws:// or wss://" in bad.stderr


def test_check_with_the_default_tag_points_to_id_tag(evctl):
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: check failed at authorize: id tag TAG0000000 is Invalid"), result.stderr
    assert "the default tag of a simulated station; pass a token the central system knows with --id-tag" in result.stderr


def test_check_with_a_client_key_that_does_not_match_fails_the_connect_step(evctl, tmp_path):
    cert, _ = certificate(tmp_path, "one", "CP-1")
    _, other_key = certificate(tmp_path, "two", "CP-1")
    result = simulate(evctl, "--url", f"wss://127.0.0.1:{free_port()}/ocpp", "--identity", "CP-1", "--check",
                      "--client-cert", cert, "--client-key", other_key)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: check failed at connect: TLS: cannot use client key"), result.stderr


def test_scenario_file_errors_are_line_numbered(evctl, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("# a session\nplug 1\nauth GOOD1\ncharge 1 lots 30m\n")
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--scenario", str(path))
    assert result.returncode == 65
    assert result.stderr.startswith(f"error: {path}:4: invalid power 'lots'"), result.stderr
    path.write_text("plug 1\nplug 2\n")
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--scenario", str(path))
    assert result.returncode == 65 and f"{path}:2: connector 2 does not exist" in result.stderr
    unknown = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--scenario", "nosuch")
    assert unknown.returncode == 64 and "unknown scenario 'nosuch'" in unknown.stderr


def test_scenario_session_is_stored_with_meter_values_and_a_curve(evctl, tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("plug 2\nauth GOOD1\ncharge 2 11kW 20m  # twenty minutes\nfault 1 GroundFailure\nunplug 2\n")
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--connectors", "2",
                      "--scenario", str(path), "--speed", "300", "--until-done", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "StartTransaction: Accepted" in result.stdout and "scenario done" in result.stdout
    tx = json.loads(evctl.run("transaction", "list", "-o", "json").stdout)
    assert len(tx) == 1 and tx[0]["connector"] == 2 and tx[0]["id_tag"] == "GOOD1"
    # 20 minutes at up to 11 kW with a one-minute ramp: between 3 and 3.7 kWh.
    kwh = float(tx[0]["energy_kwh"])
    assert 3.0 < kwh < 3.7, tx
    statuses = [s for (s,) in query(evctl, "SELECT status FROM status_events WHERE connector_id = 2 ORDER BY id")]
    assert statuses[:3] == ["Available", "Preparing", "Charging"] and "Finishing" in statuses
    assert query(evctl, "SELECT error_code FROM status_events WHERE connector_id = 1 AND status = 'Faulted'") == [("GroundFailure",)]


class Foreign:
    """Tests/peer/foreign_csms.py: the `ocpp` library's central system, schema validation on."""

    def __init__(self, tmp_path, *extra):
        self.port = free_port()
        self.log = tmp_path / "foreign.jsonl"
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "foreign_csms.py"), "--port", str(self.port),
             "--log", str(self.log), "--max-seconds", "90", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("foreign CSMS did not start")

    def url(self):
        return f"ws://127.0.0.1:{self.port}/ocpp16"

    def received(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def stop(self):
        self.process.terminate()
        _, err = self.process.communicate(timeout=60)
        return err


def test_session_against_the_python_ocpp_central_system(evctl, tmp_path):
    foreign = Foreign(tmp_path, "--remote-start")
    try:
        result = simulate(evctl, "--url", foreign.url(), "--identity", "FOREIGN-1", "--connectors", "2",
                          "--scenario", "session", "--speed", "300", "--until-done",
                          "--vendor", "Acme", "--model", "X1", "--serial", "SN-7")
        assert result.returncode == 0, result.stderr
        check = simulate(evctl, "--url", foreign.url(), "--identity", "FOREIGN-2", "--check", "--wait", "10s")
        assert check.returncode == 0, check.stderr
        assert "ok remote command: RemoteStartTransaction Accepted" in check.stdout
    finally:
        err = foreign.stop()
    got = foreign.received()
    first = [m for m in got if m["identity"] == "FOREIGN-1"]
    actions = [m["action"] for m in first]
    assert actions[0] == "BootNotification"
    assert first[0]["payload"]["charge_point_vendor"] == "Acme"
    assert first[0]["payload"]["charge_point_serial_number"] == "SN-7"
    assert actions.count("StatusNotification") >= 3
    for action in ["Authorize", "StartTransaction", "MeterValues", "StopTransaction"]:
        assert action in actions, actions
    start = next(m for m in first if m["action"] == "StartTransaction")["payload"]
    assert start["id_tag"] == "TAG0000000"
    stop = next(m for m in first if m["action"] == "StopTransaction")["payload"]
    assert stop["transaction_id"] == 101 and stop["meter_stop"] > 3000
    measurands = {v.get("measurand") for m in first if m["action"] == "MeterValues"
                  for mv in m["payload"]["meter_value"] for v in mv["sampled_value"]}
    assert measurands == {"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "SoC"}
    assert {"Transaction.Begin", "Transaction.End"} <= {v["context"] for td in stop["transaction_data"]
                                                       for v in td["sampled_value"]}
    # The remote start was obeyed: a second transaction on FOREIGN-2 with the CSMS's tag.
    remote = [m for m in got if m["identity"] == "FOREIGN-2" and m["action"] == "StartTransaction"]
    assert [m["payload"]["id_tag"] for m in remote][-1] == "REMOTE1"
    assert "ValidationError" not in err and "FormatViolation" not in err, err


def test_check_fails_on_a_rejected_boot(evctl, tmp_path):
    foreign = Foreign(tmp_path, "--boot-status", "Rejected", "--interval", "5")
    try:
        result = simulate(evctl, "--url", foreign.url(), "--identity", "CP-1", "--check")
    finally:
        foreign.stop()
    assert result.returncode == 1
    assert result.stderr.startswith("error: check failed at boot: the central system answered Rejected"), result.stderr


def test_load_mode_summary_has_loadgen_fields(evctl):
    for n in range(3):
        evctl.run("station", "create", f"LD00000{n}", "--name", f"load {n}", "--group", "HQ",
                  "--security-profile", "0")
    result = simulate(evctl, "--url", base(evctl), "--stations", "3", "--id-prefix", "LD", "--rate", "5",
                      "--duration", "3s", "-o", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["connections"]["established"] == 3 and summary["connections"]["all_connected"]
    assert summary["steady"]["calls_ok"] > 10 and summary["steady"]["msgs_per_s"] > 0
    for key in ["n", "mean", "p50", "p95", "p99", "max"]:
        assert key in summary["steady"]["latency_ms"]
    assert summary["error_total"] == 0 and summary["reconnects"] == 0
    text = simulate(evctl, "--url", base(evctl), "--stations", "3", "--id-prefix", "LD", "--rate", "2",
                    "--duration", "1s", "-q")
    assert text.returncode == 0 and "msg/s" in text.stdout and "latency ms  p50" in text.stdout


def test_the_simulated_station_obeys_every_operation_from_the_cli(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    evctl.start("--files-dir", str(files))
    evctl.sql("UPDATE settings SET value = ? WHERE key = 'public_url'", (f"http://127.0.0.1:{evctl.port}",))
    image = tmp_path / "fw-2.0.bin"
    image.write_bytes(b"\x00firmware\xff" * 1000)
    sim = background(evctl, "--url", base(evctl), "--identity", "CP-1", "--connectors", "2", "--speed", "10")

    def cli(*args):
        return evctl.run(*args, check=False)

    def boots():
        return query(evctl, "SELECT COUNT(*) FROM message_log m JOIN stations s ON s.id = m.station_id "
                            "WHERE s.identity = 'CP-1' AND m.frame LIKE ? AND m.direction = 'in'", ('%"BootNotification"%',))[0][0]

    try:
        wait_for(lambda: query(evctl, "SELECT COUNT(*) FROM status_events")[0][0] >= 3)
        config = cli("station", "config", "get", "CP-1", "-o", "json")
        assert config.returncode == 0, config.stderr
        keys = {k["key"]: k for k in json.loads(config.stdout)["keys"]} if config.stdout.strip().startswith("{") \
            else {k["key"]: k for k in json.loads(config.stdout)}
        for key in ["HeartbeatInterval", "MeterValueSampleInterval", "SendLocalListMaxLength",
                    "LocalAuthListMaxLength", "ChargeProfileMaxStackLevel", "NumberOfConnectors"]:
            assert key in keys, keys
        assert cli("station", "config", "set", "CP-1", "MeterValueSampleInterval", "10").returncode == 0
        refused = cli("station", "config", "set", "CP-1", "NumberOfConnectors", "9")
        assert refused.returncode == 1 and "Rejected" in refused.stdout + refused.stderr
        unknown = cli("station", "config", "set", "CP-1", "NoSuchKey", "1")
        assert unknown.returncode == 1 and "NotSupported" in unknown.stdout + unknown.stderr
        # Smart charging: a 10 A default profile, then a remote start; the current follows the limit.
        assert cli("profile", "create", "cap10", "--purpose", "TxDefaultProfile", "--kind", "Relative",
                   "--period", "0:10").returncode == 0
        set_profile = cli("profile", "set", "CP-1", "cap10", "--connector", "1")
        assert set_profile.returncode == 0, set_profile.stderr
        start = cli("station", "start", "CP-1", "--connector", "1", "--id-tag", "GOOD1")
        assert start.returncode == 0, start.stderr
        wait_for(lambda: query(evctl, "SELECT COUNT(*) FROM meter_values WHERE measurand = 'Current.Import' "
                                      "AND transaction_id IS NOT NULL AND numeric_value > 9")[0][0] >= 3, timeout=30)
        currents = [v for (v,) in query(evctl, "SELECT numeric_value FROM meter_values WHERE measurand = 'Current.Import'")]
        assert max(currents) <= 10.0, currents
        composite = cli("profile", "composite", "CP-1", "--connector", "1", "--duration", "3600")
        assert composite.returncode == 0, composite.stderr
        assert cli("station", "trigger", "CP-1", "MeterValues", "--connector", "1").returncode == 0
        busy = cli("reservation", "create", "--station", "CP-1", "--connector", "1", "--id-tag", "GOOD1", "--expires", "30m")
        assert busy.returncode == 1 and "Occupied" in busy.stdout + busy.stderr
        assert cli("reservation", "create", "--station", "CP-1", "--connector", "2", "--id-tag", "GOOD1",
                   "--expires", "30m").returncode == 0
        assert cli("reservation", "cancel", "2").returncode == 0
        stop = cli("station", "stop", "CP-1", "--connector", "1")
        assert stop.returncode == 0, stop.stderr
        wait_for(lambda: query(evctl, "SELECT stop_reason FROM transactions WHERE stopped_at IS NOT NULL") == [("Remote",)])
        assert cli("station", "availability", "CP-1", "inoperative", "--connector", "2").returncode == 0
        wait_for(lambda: ("Unavailable",) in query(evctl, "SELECT status FROM status_events WHERE connector_id = 2"))
        assert cli("station", "unlock", "CP-1", "--connector", "1").returncode == 0
        assert cli("local-list", "push", "--station", "CP-1").returncode == 0
        version = cli("local-list", "version", "CP-1")
        assert version.returncode == 0 and "1" in version.stdout, version.stdout
        assert cli("station", "clear-cache", "CP-1").returncode == 0
        transfer = cli("station", "data-transfer", "CP-1", "--vendor", "com.example")
        assert "UnknownVendorId" in transfer.stdout + transfer.stderr
        # Firmware over HTTP from serve --files-dir, then a reboot; diagnostics PUT back.
        update = cli("station", "firmware", "update", "CP-1", "--file", str(image))
        assert update.returncode == 0, update.stderr
        wait_for(lambda: "Installed" in cli("station", "firmware", "status", "CP-1").stdout, timeout=30)
        diagnostics = cli("station", "diagnostics", "CP-1", "--upload")
        assert diagnostics.returncode == 0, diagnostics.stderr
        wait_for(lambda: list((files / "uploads" / "CP-1").glob("*")) if (files / "uploads" / "CP-1").exists() else None)
        uploaded = next((files / "uploads" / "CP-1").glob("*")).read_text()
        assert "identity: CP-1" in uploaded and "MeterValueSampleInterval=10" in uploaded
        before = boots()
        assert cli("station", "reset", "CP-1", "--hard").returncode == 0
        wait_for(lambda: boots() > before)
    finally:
        sim.terminate()
        out, err = sim.communicate(timeout=60)
    assert sim.returncode == 0, err
    assert "central system sent RemoteStartTransaction: Accepted" in out
    assert "central system sent Reset: Accepted" in out and "rebooting" in out
    assert "firmware downloaded: 10000 bytes" in out


def test_check_retries_a_pending_boot_at_its_interval_then_gives_up(evctl, tmp_path):
    foreign = Foreign(tmp_path, "--boot-status", "Pending", "--interval", "1")
    try:
        result = simulate(evctl, "--url", foreign.url(), "--identity", "CP-1", "--check", "--timeout", "4s")
    finally:
        foreign.stop()
    assert result.returncode == 1
    assert "ok boot: Pending, retrying after 1 s" in result.stdout
    assert result.stderr.startswith("error: check failed at boot: still Pending after 4 s"), result.stderr
    boots = [m for m in foreign.received() if m["action"] == "BootNotification"]
    assert 3 <= len(boots) <= 6, boots


def test_misbehaving_station_shows_that_serve_tolerates_field_quirks(evctl):
    result = simulate(evctl, "--url", base(evctl), "--identity", "CP-2", "--scenario", "session", "--speed", "600",
                      "--id-tag", "GOOD1", "--until-done",
                      "--misbehave", "numbers-as-strings,zone-less-times,no-subprotocol,decimal-commas")
    assert result.returncode == 0, result.stderr
    assert "StopTransaction: Accepted" in result.stdout
    frames = [f for (f,) in query(evctl, "SELECT frame FROM message_log WHERE direction = 'in'")]
    assert any('"connectorId":"1"' in f for f in frames), frames[:5]
    assert not any('Z"' in f for f in frames if '"StatusNotification"' in f)
    assert query(evctl, "SELECT lenient_count FROM stations WHERE identity = 'CP-2'")[0][0] >= 3
    tx = json.loads(evctl.run("transaction", "list", "-o", "json").stdout)
    assert len(tx) == 1 and tx[0]["state"] == "completed"
    unknown = simulate(evctl, "--url", base(evctl), "--identity", "CP-2", "--misbehave", "sloppy")
    assert unknown.returncode == 64 and "unknown quirk 'sloppy'" in unknown.stderr


def test_demo_provisions_charges_stops_and_is_removed_with_one_command(evctl):
    sim = background(evctl, "--demo", "--speed", "600")
    try:
        wait_for(lambda: query(evctl, "SELECT COUNT(*) FROM transactions t JOIN stations s ON s.id = t.station_id "
                                      "WHERE substr(s.identity, 1, 5) = 'demo-' AND t.stopped_at IS NOT NULL")[0][0] >= 2, timeout=40)
        listed = evctl.run("station", "list", "-o", "json").stdout
        assert "demo-CP-1" in listed and "demo-CP-2" in listed
    finally:
        sim.terminate()
        out, err = sim.communicate(timeout=60)
    assert sim.returncode == 0, err
    assert out.startswith("created group demo-site\ncreated station demo-CP-1\n"), out
    assert "playing demo-CP-1, demo-CP-2 against ws://127.0.0.1:" in out
    assert query(evctl, "SELECT COUNT(*) FROM transactions WHERE stopped_at IS NULL") == [(0,)]
    removed = simulate(evctl, "--demo", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert "removed station demo-CP-2" in removed.stdout and "removed group demo-site" in removed.stdout
    assert "demo-" not in evctl.run("station", "list", "-o", "json").stdout
    assert "demo-site" not in evctl.run("group", "list", "-o", "json").stdout
    again = simulate(evctl, "--demo", "--remove")
    assert again.returncode == 0 and "no demo objects to remove" in again.stdout


def certificate(tmp_path, name, cn):
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={cn}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_wss_with_a_trusted_ca_and_a_client_certificate(evctl, tmp_path):
    server_cert, server_key = certificate(tmp_path, "server", "127.0.0.1")
    client_cert, client_key = certificate(tmp_path, "client", "CP-1")
    foreign = Foreign(tmp_path, "--tls-cert", server_cert, "--tls-key", server_key, "--client-ca", client_cert)
    url = f"wss://127.0.0.1:{foreign.port}/ocpp16"
    try:
        untrusted = simulate(evctl, "--url", url, "--identity", "CP-1", "--check")
        no_client = simulate(evctl, "--url", url, "--identity", "CP-1", "--check", "--tls-ca", server_cert)
        ok = simulate(evctl, "--url", url, "--identity", "CP-1", "--check", "--tls-ca", server_cert,
                      "--client-cert", client_cert, "--client-key", client_key)
    finally:
        foreign.stop()
    assert untrusted.returncode == 1
    assert untrusted.stderr.startswith(f"error: check failed at connect: {url}: TLS: certificate not trusted"), untrusted.stderr
    assert no_client.returncode == 1 and "check failed at" in no_client.stderr, no_client.stderr
    assert ok.returncode == 0, ok.stderr
    assert "check passed" in ok.stdout
    assert any(m["action"] == "StopTransaction" for m in foreign.received())
    plain = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--tls-ca", server_cert)
    assert plain.returncode == 64 and "--tls-ca needs a wss:// URL" in plain.stderr


def test_serve_demo_provisions_the_demo_network_that_simulate_demo_plays(tmp_path):
    """The quickstart's `evctl serve --demo`: demo-… objects exist before any simulator runs, serve
    says what to run in a second terminal, and one command removes everything again."""
    from conftest import Evctl
    server = Evctl(str(tmp_path / "evctl.db"))
    server.start("--demo")
    try:
        stations = json.loads(server.run("station", "list", "-o", "json").stdout)
        assert sorted(s["identity"] for s in stations) == ["demo-CP-1", "demo-CP-2"]
        assert "demo-site" in server.run("group", "list", "-o", "json").stdout
        assert "DEMO-TAG-1" in server.run("token", "list", "-o", "json").stdout
        sim = background(server, "--demo", "--speed", "600")
        try:
            wait_for(lambda: query(server, "SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL")[0][0] >= 1,
                     timeout=40)
        finally:
            sim.terminate()
            out, err = sim.communicate(timeout=20)
        assert sim.returncode == 0, err
        assert "created" not in out, out  # serve --demo already made everything
        removed = simulate(server, "--demo", "--remove")
        assert removed.returncode == 0 and "removed group demo-site" in removed.stdout, removed.stderr
        assert json.loads(server.run("station", "list", "-o", "json").stdout) == []
    finally:
        code, err = server.stop()
    assert code == 0, err
    assert ("evctl: demo network created: group demo-site, stations demo-CP-1 and demo-CP-2, "
            "user demo-driver@example.com, token DEMO-TAG-1\n") in err, err
    line = next(l for l in err.splitlines() if l.startswith("evctl: demo network"))
    assert line.count("demo-site") == 1 and line.count("DEMO-TAG-1") == 1, line
    assert "evctl: in a second terminal: evctl simulate --demo" in err
    assert "evctl: remove the demo with: evctl simulate --demo --remove" in err


def test_load_mode_keeps_a_fixed_schedule_whatever_the_answer_time(tmp_path):
    """`--rate R` sends one CALL every 1/R s on a fixed schedule, like loadgen.py: with answers
    that take 0.3 s, 2 CALLs a second still go out (timing the next CALL from the answer gave
    1/(0.5 + 0.3) = 1.25 a second, and made stations answered together send together again)."""
    port, log = free_port(), tmp_path / "arrivals.jsonl"
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "slow_csms.py"), "--port", str(port),
                               "--delay", "0.3", "--log", str(log)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline, "slow_csms.py did not start"
                time.sleep(0.05)
        result = subprocess.run([BINARY, "simulate", "--url", f"ws://127.0.0.1:{port}/ocpp", "--stations", "2",
                                 "--rate", "2", "--duration", "6s", "-q", "-o", "json"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    finally:
        server.terminate()
        server.communicate(timeout=20)
    arrivals = [json.loads(line) for line in log.read_text().splitlines()]
    for identity in ("CP000000", "CP000001"):
        times = [a["t"] for a in arrivals if a["identity"] == identity and a["action"] == "Heartbeat"]
        assert len(times) >= 6, (identity, len(times))
        gaps = sorted(b - a for a, b in zip(times, times[1:]))
        median = gaps[len(gaps) // 2]
        assert 0.4 <= median <= 0.65, (identity, gaps)


def test_demo_remove_while_a_demo_station_charges_removes_nothing(evctl):
    """`--demo --remove` is all or nothing: refused while the demo charges, the demo user and
    token stay, so the running demo keeps being authorized."""
    sim = background(evctl, "--demo")
    try:
        wait_for(lambda: query(evctl, "SELECT COUNT(*) FROM transactions t JOIN stations s ON s.id = t.station_id "
                                      "WHERE substr(s.identity, 1, 5) = 'demo-' AND t.stopped_at IS NULL")[0][0] >= 1, timeout=60)
        refused = simulate(evctl, "--demo", "--remove")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "has an active transaction; nothing was removed" in refused.stderr, refused.stderr
        assert "Stop 'evctl simulate --demo' first" in refused.stderr, refused.stderr
        assert "removed" not in refused.stdout, refused.stdout
        assert query(evctl, "SELECT COUNT(*) FROM tokens WHERE id_tag = 'DEMO-TAG-1'") == [(1,)]
        assert query(evctl, "SELECT COUNT(*) FROM charging_users WHERE email = 'demo-driver@example.com'") == [(1,)]
        assert query(evctl, "SELECT COUNT(*) FROM stations WHERE substr(identity, 1, 5) = 'demo-'") == [(2,)]
    finally:
        sim.terminate()
        out, err = sim.communicate(timeout=60)
    assert "Authorize: Invalid" not in out, out
    removed = simulate(evctl, "--demo", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert "removed token DEMO-TAG-1" in removed.stdout and "removed group demo-site" in removed.stdout


def test_load_mode_exits_1_when_no_station_connected(evctl):
    result = simulate(evctl, "--url", base(evctl), "--stations", "3", "--rate", "1", "--duration", "3s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 connected" in result.stdout, result.stdout
    assert "error: no station connected to ws://127.0.0.1:" in result.stderr, result.stderr
    assert "CP000000 to CP000002 must exist on the central system" in result.stderr, result.stderr
    assert "evctl station import" in result.stderr and "--id-prefix" in result.stderr
    ok = simulate(evctl, "--url", base(evctl), "--identity", "CP-1", "--rate", "1", "--duration", "2s")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    help_text = subprocess.run([BINARY, "simulate", "--help"], capture_output=True, text=True, env=evctl.env).stdout
    assert "load mode exits 1 when no station connected" in " ".join(help_text.split())


def test_demo_says_which_serve_it_plays_against_and_refuses_a_stopped_one(evctl):
    sim = background(evctl, "--demo", "--duration", "2s")
    out, err = sim.communicate(timeout=60)
    assert sim.returncode == 0, err
    assert f"evctl: using ws://127.0.0.1:{evctl.port}/ocpp, where this store's 'evctl serve' (pid " in err, err
    evctl.stop()
    stopped = simulate(evctl, "--demo", timeout=30)
    assert stopped.returncode == 69, stopped.stdout + stopped.stderr
    assert "'evctl serve' is not running on this store: start it with evctl serve --demo" in stopped.stderr
    assert "connect failed" not in stopped.stdout
    evctl.start()
