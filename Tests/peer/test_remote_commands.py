"""Every OCPP 1.6 operation a central system can send, from the shell, against a real peer.

The Python `ocpp` charge point validates each of our CALLs against the official schemas before
its handler runs; a payload that is off-schema gets a CALLERROR and the test fails.
"""
import asyncio
import json
import re
import time
import urllib.error

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from test_charge_point import connect, query


class Station(ChargePoint):
    """A charge point that answers every CSMS-initiated action and remembers what it got."""

    def __init__(self, identity, ws, slow=0):
        super().__init__(identity, ws)
        self.received = []
        self.local_version = 0
        self.local_list = {}
        self.slow = slow

    def got(self, action, **payload):
        self.received.append((action, payload))

    @on(Action.reset)
    async def reset(self, **p):
        self.got("Reset", **p)
        await asyncio.sleep(self.slow)
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    async def change_availability(self, **p):
        self.got("ChangeAvailability", **p)
        return call_result.ChangeAvailability(status="Scheduled" if p["connector_id"] == 2 else "Accepted")

    @on(Action.unlock_connector)
    async def unlock_connector(self, **p):
        self.got("UnlockConnector", **p)
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.remote_start_transaction)
    async def remote_start(self, **p):
        self.got("RemoteStartTransaction", **p)
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    async def remote_stop(self, **p):
        self.got("RemoteStopTransaction", **p)
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.clear_cache)
    async def clear_cache(self, **p):
        self.got("ClearCache", **p)
        return call_result.ClearCache(status="Rejected")

    @on(Action.get_configuration)
    async def get_configuration(self, **p):
        self.got("GetConfiguration", **p)
        known = {"HeartbeatInterval": ("300", False), "LocalAuthListMaxLength": ("50", True),
                 "SendLocalListMaxLength": ("2", True), "SupportedFeatureProfiles":
                 ("Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger", True),
                 "ChargeProfileMaxStackLevel": ("5", True)}
        keys = p.get("key") or list(known)
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": known[k][1], "value": known[k][0]} for k in keys if k in known],
            unknown_key=[k for k in keys if k not in known] or None)

    @on(Action.change_configuration)
    async def change_configuration(self, **p):
        self.got("ChangeConfiguration", **p)
        return call_result.ChangeConfiguration(status="Accepted" if p["key"] == "HeartbeatInterval" else "NotSupported")

    @on(Action.data_transfer)
    async def data_transfer(self, **p):
        self.got("DataTransfer", **p)
        return call_result.DataTransfer(status="Accepted", data="pong")

    @on(Action.get_diagnostics)
    async def get_diagnostics(self, **p):
        self.got("GetDiagnostics", **p)
        return call_result.GetDiagnostics(file_name="diag-cp.zip")

    @on(Action.update_firmware)
    async def update_firmware(self, **p):
        self.got("UpdateFirmware", **p)
        return call_result.UpdateFirmware()

    @on(Action.get_local_list_version)
    async def get_local_list_version(self, **p):
        self.got("GetLocalListVersion", **p)
        return call_result.GetLocalListVersion(list_version=self.local_version)

    @on(Action.send_local_list)
    async def send_local_list(self, **p):
        self.got("SendLocalList", **p)
        if p["update_type"] == "Full":
            self.local_list = {}
        for entry in p.get("local_authorization_list") or []:
            if entry.get("id_tag_info"):
                self.local_list[entry["id_tag"]] = entry["id_tag_info"]
            else:
                self.local_list.pop(entry["id_tag"], None)
        self.local_version = p["list_version"]
        return call_result.SendLocalList(status="Accepted")

    @on(Action.reserve_now)
    async def reserve_now(self, **p):
        self.got("ReserveNow", **p)
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    async def cancel_reservation(self, **p):
        self.got("CancelReservation", **p)
        return call_result.CancelReservation(status="Accepted")

    @on(Action.set_charging_profile)
    async def set_charging_profile(self, **p):
        self.got("SetChargingProfile", **p)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    async def clear_charging_profile(self, **p):
        self.got("ClearChargingProfile", **p)
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    async def get_composite_schedule(self, **p):
        self.got("GetCompositeSchedule", **p)
        return call_result.GetCompositeSchedule(
            status="Accepted", connector_id=p["connector_id"], schedule_start="2026-11-21T10:00:00Z",
            charging_schedule={"chargingRateUnit": "A", "duration": p["duration"], "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0}, {"startPeriod": 1800, "limit": 8.0}]})

    @on(Action.trigger_message)
    async def trigger_message(self, **p):
        self.got("TriggerMessage", **p)
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.extended_trigger_message)
    async def extended_trigger_message(self, **p):
        self.got("ExtendedTriggerMessage", **p)
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @on(Action.get_log)
    async def get_log(self, **p):
        self.got("GetLog", **p)
        return call_result.GetLog(status="Accepted", filename="security.log")

    @on(Action.signed_update_firmware)
    async def signed_update_firmware(self, **p):
        self.got("SignedUpdateFirmware", **p)
        return call_result.SignedUpdateFirmware(status="Accepted")

    @on(Action.install_certificate)
    async def install_certificate(self, **p):
        self.got("InstallCertificate", **p)
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.delete_certificate)
    async def delete_certificate(self, **p):
        self.got("DeleteCertificate", **p)
        return call_result.DeleteCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    async def get_installed_certificate_ids(self, **p):
        self.got("GetInstalledCertificateIds", **p)
        return call_result.GetInstalledCertificateIds(status="NotFound")

    @on(Action.certificate_signed)
    async def certificate_signed(self, **p):
        self.got("CertificateSigned", **p)
        return call_result.CertificateSigned(status="Accepted")


PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUX\n-----END CERTIFICATE-----\n"


async def online(evctl, identity, slow=0):
    ws = await connect(evctl, identity)
    station = Station(identity, ws, slow=slow)
    task = asyncio.create_task(station.start())
    await station.call(call.BootNotification(charge_point_vendor="Test", charge_point_model="Peer"))
    return station, ws, task


async def cli(evctl, *args, stdin=None):
    return await asyncio.to_thread(evctl.run, *args, stdin=stdin, check=False)


def test_every_operation_reaches_the_station_and_is_audited(evctl, tmp_path):
    pem = tmp_path / "root.pem"
    pem.write_text(PEM)

    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        start = await station.call(call.StartTransaction(
            connector_id=1, id_tag="GOOD1", meter_start=0, timestamp="2026-11-21T10:00:00Z"))
        commands = [
            ("station", "reset", "CP-1", "--hard"),
            ("station", "availability", "CP-1", "inoperative", "--connector", "2"),
            ("station", "unlock", "CP-1", "--connector", "1"),
            ("station", "start", "CP-1", "--connector", "2", "--id-tag", "good1"),
            ("station", "stop", "CP-1", "--connector", "1"),
            ("station", "config", "get", "CP-1"),
            ("station", "config", "set", "CP-1", "HeartbeatInterval", "600"),
            ("station", "data-transfer", "CP-1", "--vendor", "com.example", "--message-id", "ping", "--data", "x"),
            ("station", "diagnostics", "CP-1", "--location", "ftp://logs.example.com/", "--retries", "2"),
            ("station", "firmware", "update", "CP-1", "--location", "https://fw.example.com/a.bin"),
            ("station", "trigger", "CP-1", "StatusNotification", "--connector", "1"),
            ("local-list", "version", "CP-1"),
            ("local-list", "push", "--station", "CP-1"),
            ("reservation", "create", "--station", "CP-1", "--connector", "2", "--id-tag", "GOOD1", "--expires", "30m"),
            ("reservation", "cancel", "1"),
            ("profile", "create", "cap", "--purpose", "ChargePointMaxProfile", "--kind", "Absolute", "--period", "0:32"),
            ("profile", "set", "CP-1", "cap"),
            ("profile", "create", "tx", "--purpose", "TxProfile", "--kind", "Relative", "--period", "0:16", "--period", "3600:10.5:1"),
            ("profile", "set", "CP-1", "tx", "--connector", "1"),
            ("profile", "composite", "CP-1", "--connector", "1", "--duration", "3600", "--chart"),
            ("profile", "clear", "CP-1", "--purpose", "ChargePointMaxProfile"),
            ("station", "trigger", "CP-1", "SignChargePointCertificate", "--extended"),
            ("station", "log", "CP-1", "--type", "SecurityLog", "--location", "https://logs.example.com/up"),
            ("station", "firmware", "signed-update", "CP-1", "--location", "https://fw.example.com/s.bin",
             "--signing-certificate", str(pem), "--signature", "c2lnbmF0dXJl"),
            ("station", "certificate", "install", "CP-1", "--type", "CentralSystemRootCertificate", "--file", str(pem)),
            ("station", "certificate", "delete", "CP-1", "--issuer-name-hash", "aa", "--issuer-key-hash", "bb", "--serial-number", "01"),
            ("station", "certificate", "signed", "CP-1", "--file", str(pem)),
        ]
        results = []
        for args in commands:
            results.append((args, await cli(evctl, *args)))
        listed = await cli(evctl, "station", "certificate", "list", "CP-1", "--type", "ManufacturerRootCertificate")
        clear = await cli(evctl, "station", "clear-cache", "CP-1")
        task.cancel()
        await ws.close()
        return station, start.transaction_id, results, listed, clear

    station, tx, results, listed, clear = asyncio.run(scenario())
    for args, result in results:
        assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}{result.stdout}"
    # NotFound means the station holds none of that type: the inventory lists nothing.
    assert listed.returncode == 0 and listed.stdout.strip() == "", listed.stderr
    assert clear.returncode == 1 and "Rejected" in clear.stdout
    actions = {action for action, _ in station.received}
    assert actions == {
        "Reset", "ChangeAvailability", "UnlockConnector", "RemoteStartTransaction", "RemoteStopTransaction",
        "ClearCache", "GetConfiguration", "ChangeConfiguration", "DataTransfer", "GetDiagnostics",
        "UpdateFirmware", "GetLocalListVersion", "SendLocalList", "ReserveNow", "CancelReservation",
        "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "TriggerMessage",
        "ExtendedTriggerMessage", "GetLog", "SignedUpdateFirmware", "InstallCertificate",
        "DeleteCertificate", "GetInstalledCertificateIds", "CertificateSigned"}
    got = dict((a, p) for a, p in station.received)
    assert got["Reset"] == {"type": "Hard"}
    assert got["RemoteStopTransaction"] == {"transaction_id": tx}
    assert got["RemoteStartTransaction"] == {"connector_id": 2, "id_tag": "GOOD1"}
    tx_profile = [p for a, p in station.received if a == "SetChargingProfile"][-1]
    assert tx_profile["cs_charging_profiles"]["transaction_id"] == tx
    # The answers taught the store: configuration snapshot, local list, reservation, profiles.
    assert query(evctl, "SELECT value FROM station_configuration WHERE key = 'HeartbeatInterval'") == [("600",)]
    assert station.local_list and set(station.local_list) == {"GOOD1"}
    shown = json.loads(evctl.run("local-list", "show", "CP-1", "-o", "json").stdout)
    assert shown["version"] == station.local_version
    assert query(evctl, "SELECT state FROM reservations") == [("cancelled",)]
    installed = json.loads(evctl.run("profile", "installed", "CP-1", "-o", "json").stdout)
    assert [p["purpose"] for p in installed] == ["TxProfile"]
    composite = [r for a, r in results if a[:2] == ("profile", "composite")][0]
    assert "1800" in composite.stdout and "█" in composite.stderr  # piped: the chart goes to stderr
    audit = json.loads(evctl.run("command", "list", "--station", "CP-1", "-o", "json").stdout)
    assert len(audit) >= len(results)
    assert all(c["requested_by"] == "local" for c in audit)
    assert {c["state"] for c in audit} <= {"accepted", "rejected"}


def test_local_list_push_is_differential_split_and_idempotent(evctl):
    for n in range(5):
        evctl.run("token", "add", f"EXTRA{n}", "--user", "eva@example.com")

    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        first = await cli(evctl, "local-list", "push", "--station", "CP-2")
        sends_after_first = [p for a, p in station.received if a == "SendLocalList"]
        again = await cli(evctl, "local-list", "push", "--station", "CP-2")
        sends_after_again = [p for a, p in station.received if a == "SendLocalList"]
        evctl.run("token", "block", "EXTRA0")
        changed = await cli(evctl, "local-list", "push", "--station", "CP-2")
        settled = await cli(evctl, "local-list", "push", "--station", "CP-2")
        evctl.run("token", "delete", "EXTRA1")
        deleted = await cli(evctl, "local-list", "push", "--station", "CP-2")
        task.cancel()
        await ws.close()
        return station, first, sends_after_first, again, sends_after_again, changed, settled, deleted

    station, first, sends1, again, sends2, changed, settled, deleted = asyncio.run(scenario())
    assert first.returncode == 0, first.stderr
    # 6 valid tokens with SendLocalListMaxLength 2: a Full message then two Differential ones.
    assert [p["update_type"] for p in sends1] == ["Full", "Differential", "Differential"]
    assert all(len(p["local_authorization_list"]) <= 2 for p in sends1)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert len(sends2) == len(sends1)
    # A blocked token is sent as Blocked (not just removed), so a station that cached it stops
    # accepting it; once it holds Blocked, the list is up to date. A deleted token likewise.
    assert changed.returncode == 0, changed.stderr
    assert "1 blocked" in changed.stdout
    sends = [p for a, p in station.received if a == "SendLocalList"]
    blocked = sends[len(sends2)]
    assert blocked["update_type"] == "Differential"
    assert blocked["local_authorization_list"] == [{"id_tag": "EXTRA0", "id_tag_info": {"status": "Blocked"}}]
    assert station.local_list["EXTRA0"] == {"status": "Blocked"} and len(station.local_list) == 6
    assert settled.returncode == 0 and "up to date" in settled.stdout
    assert deleted.returncode == 0, deleted.stderr
    assert sends[-1]["local_authorization_list"] == [{"id_tag": "EXTRA1", "id_tag_info": {"status": "Blocked"}}]
    assert station.local_list["EXTRA1"] == {"status": "Blocked"}


def test_block_with_clear_cache_reaches_the_stations_that_saw_the_token(evctl):
    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        await station.call(call.Authorize(id_tag="GOOD1"))
        result = await cli(evctl, "token", "block", "GOOD1", "--clear-cache")
        for _ in range(100):
            if any(a == "ClearCache" for a, _ in station.received):
                break
            await asyncio.sleep(0.05)
        task.cancel()
        await ws.close()
        return station, result

    station, result = asyncio.run(scenario())
    assert result.returncode == 0, result.stderr
    assert "station/CP-2 ClearCache queued" in result.stdout
    assert "CP-1" not in result.stdout
    assert [a for a, _ in station.received].count("ClearCache") == 1
    none = evctl.run("token", "block", "OLD1", "--clear-cache")
    assert "no station was told about OLD1" in none.stdout


def test_local_list_that_cannot_fit_fails_clearly(evctl):
    evctl.run("token", "add", "EXTRA9", "--user", "eva@example.com")
    for key, value in (("LocalAuthListMaxLength", "1"), ("SendLocalListMaxLength", "10")):
        evctl.sql("""INSERT INTO station_configuration (station_id, key, value, readonly, known, fetched_at)
                     SELECT id, ?, ?, TRUE, TRUE, '2026-01-01T00:00:00.000Z' FROM stations
                     WHERE identity = 'CP-2'""", (key, value))

    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        result = await cli(evctl, "local-list", "push", "--station", "CP-2")
        task.cancel()
        await ws.close()
        return station, result

    station, result = asyncio.run(scenario())
    assert result.returncode == 1
    assert "LocalAuthListMaxLength" in result.stderr
    assert not [a for a, _ in station.received if a == "SendLocalList"]


def test_offline_station_is_an_immediate_clear_error(evctl):
    result = evctl.run("station", "reset", "CP-2", check=False)
    assert result.returncode == 69
    assert "station CP-2 is offline (never connected)" in result.stderr
    assert result.stdout == ""


def test_queued_command_is_delivered_on_the_next_connection(evctl):
    queued = evctl.run("station", "reset", "CP-2", "--queue", "--expires", "1h")
    assert queued.returncode == 0 and "queued" in queued.stdout

    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        # Wait for the Reset itself to arrive and be answered: serve's own GetConfiguration may
        # come first, and the Reset's row stays queued or sent until its answer is stored.
        deadline = time.time() + 60
        while time.time() < deadline:
            if any(a == "Reset" for a, _ in station.received) and query(
                    evctl, "SELECT state FROM commands WHERE action = 'Reset'") not in ([("queued",)], [("sent",)]):
                break
            await asyncio.sleep(0.1)
        task.cancel()
        await ws.close()
        return station

    station = asyncio.run(scenario())
    # The boot also brings serve's own GetConfiguration (first accepted boot).
    assert [a for a, _ in station.received if a != "GetConfiguration"] == ["Reset"]
    assert query(evctl, "SELECT state FROM commands WHERE action = 'Reset'") == [("accepted",)]


def test_expired_queued_command_is_never_sent(evctl):
    evctl.run("station", "reset", "CP-2", "--queue", "--expires", "2026-01-01T00:00:00Z")

    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        # Until serve has decided the queued Reset's fate (under load that takes a while), then a
        # little longer, so a Reset sent late would still be seen.
        deadline = time.time() + 60
        while time.time() < deadline and query(
                evctl, "SELECT state FROM commands WHERE action = 'Reset'") == [("queued",)]:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        task.cancel()
        await ws.close()
        return station

    station = asyncio.run(scenario())
    assert [a for a, _ in station.received if a != "GetConfiguration"] == []
    assert query(evctl, "SELECT state FROM commands WHERE action = 'Reset'") == [("expired",)]


def test_fan_out_reports_each_station_and_fails_when_one_does(evctl):
    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        result = await cli(evctl, "station", "reset", "--group", "HQ")
        task.cancel()
        await ws.close()
        return result

    result = asyncio.run(scenario())
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("CP-1\tReset\taccepted") for line in lines)
    assert any(line.startswith("CP-2") and "offline" in line for line in lines)


def test_timeout_is_reported_as_outcome_unknown(evctl):
    async def scenario():
        station, ws, task = await online(evctl, "CP-1", slow=4)
        result = await cli(evctl, "station", "reset", "CP-1", "--timeout", "1")
        await asyncio.sleep(2)
        task.cancel()
        await ws.close()
        return result

    result = asyncio.run(scenario())
    assert result.returncode == 75
    assert "outcome unknown" in result.stderr
    assert query(evctl, "SELECT state FROM commands WHERE action = 'Reset'") == [("timed_out",)]


def test_basic_operator_cannot_update_firmware(evctl):
    evctl.run("operator", "create", "bob@example.com", "--name", "Bob", "--role", "basic",
              "--password-stdin", stdin="secret123\n")
    evctl.run("login", "bob@example.com", "--password-stdin", stdin="secret123\n")
    try:
        result = evctl.run("station", "firmware", "update", "CP-1", "--location", "https://x/y.bin", check=False)
        assert result.returncode == 77
        assert "may not update firmware" in result.stderr
    finally:
        evctl.run("logout")
    assert query(evctl, "SELECT count(*) FROM commands") == [(0,)]


def test_files_dir_serves_firmware_and_takes_diagnostics_uploads(evctl, tmp_path):
    import urllib.request
    evctl.stop()
    files = tmp_path / "files"
    evctl.start("--files-dir", str(files), "--public-url", "http://127.0.0.1:PORT")
    evctl.run("db", "path")
    evctl.sql("UPDATE settings SET value = ? WHERE key = 'public_url'", (f"http://127.0.0.1:{evctl.port}",))
    image = tmp_path / "eve-6.2.bin"
    image.write_bytes(b"\x00firmware\xff" * 100)

    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        update = await cli(evctl, "station", "firmware", "update", "CP-1", "--file", str(image))
        diagnostics = await cli(evctl, "station", "diagnostics", "CP-1", "--upload")
        task.cancel()
        await ws.close()
        return station, update, diagnostics

    station, update, diagnostics = asyncio.run(scenario())
    assert update.returncode == 0, update.stderr
    assert diagnostics.returncode == 0, diagnostics.stderr
    got = dict(station.received)
    location = got["UpdateFirmware"]["location"]
    # The image goes out only through this update's unguessable path (no --public-firmware).
    assert re.fullmatch(rf"http://127\.0\.0\.1:{evctl.port}/files/f/[0-9a-f]{{32}}/eve-6\.2\.bin", location), location
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == image.read_bytes()

    def status_of(url, **kwargs):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, **kwargs), timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
    assert status_of(f"http://127.0.0.1:{evctl.port}/files/eve-6.2.bin") == 404
    upload_to = got["GetDiagnostics"]["location"]
    assert re.fullmatch(rf"http://127\.0\.0\.1:{evctl.port}/files/u/[0-9a-f]{{32}}/", upload_to), upload_to
    assert status_of(f"http://127.0.0.1:{evctl.port}/files/uploads/CP-1/x.zip", data=b"x", method="PUT") == 404
    assert status_of(upload_to + "diag.zip", data=b"PK-diagnostics", method="PUT") == 201
    assert (files / "uploads" / "CP-1" / "diag.zip").read_bytes() == b"PK-diagnostics"
    # The path closed with its upload.
    assert status_of(upload_to + "more.zip", data=b"more", method="PUT") == 404
    status = evctl.run("station", "diagnostics", "status", "CP-1").stdout
    assert "diag.zip" in status and "GetDiagnostics" in status


def test_composite_chart_shows_clock_times(evctl):
    """Issue 16 item 3: `profile composite --chart` labels its bars with clock times in --tz and
    fits the terminal width."""
    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        evctl.env["COLUMNS"] = "60"
        result = await cli(evctl, "profile", "composite", "CP-1", "--connector", "1", "--duration", "3600",
                           "--chart", "-o", "table", "--tz", "Europe/Amsterdam")
        task.cancel()
        await ws.close()
        return result

    result = asyncio.run(scenario())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    title = lines.index("limit from 2026-11-21 11:00 (Europe/Amsterdam)")
    first, second = lines[title + 1], lines[title + 2]
    assert first.startswith("11:00–11:30  █") and first.endswith(" 16 A"), lines
    assert second.startswith("11:30–12:00  █") and second.endswith(" 8 A"), lines
    assert first.count("█") > second.count("█") and all(len(line) <= 60 for line in lines[title:]), lines
