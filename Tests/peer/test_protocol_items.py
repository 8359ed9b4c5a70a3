"""Issue 9 items 10, 12, 14, 16, 17, 18, 19 and issue 11 items 9 and 17 against the built serve,
played by the Python `ocpp` package and raw `websockets` clients."""
import asyncio
import json
import socket

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from test_charge_point import Station, connect, query, run


def raw(evctl, identity, frames, subprotocols=("ocpp1.6",)):
    """Sends OCPP-J frames as text and returns the answers."""
    async def scenario():
        async with connect(evctl, identity, subprotocols=subprotocols) as ws:
            answers = []
            for frame in frames:
                await ws.send(json.dumps(frame))
                answers.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
            return ws.subprotocol, answers
    return run(scenario())


@pytest.mark.parametrize("offered", ["OCPP1.6", "Ocpp1.6"])
def test_the_offered_subprotocol_is_echoed_verbatim_for_a_strict_client(evctl, offered):
    # websockets aborts the handshake when the answer is not one of the offered values.
    chosen, answers = raw(evctl, "CP-2", [[2, "h", "Heartbeat", {}]], subprotocols=(offered,))
    assert chosen == offered
    assert answers[0][0] == 3


def http(evctl, request):
    with socket.create_connection(("127.0.0.1", evctl.port), timeout=10) as s:
        s.sendall(request.encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode()


def test_identities_with_nul_or_control_characters_are_404(evctl):
    for target in ["/ocpp/CP-1%00x", "/ocpp/CP-1%00", "/ocpp/CP-1%0d"]:
        line = http(evctl, f"GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
        assert line == "HTTP/1.1 404 Not Found", target
    assert query(evctl, "SELECT count(*) FROM events WHERE kind = 'connected'") == [(0,)]


@pytest.mark.parametrize("code", [0, 999, 1005, 1006, 1015, 2999, 5000])
def test_invalid_close_codes_are_answered_with_1002(evctl, code):
    # A raw socket: websockets itself refuses to send these codes.
    with socket.create_connection(("127.0.0.1", evctl.port), timeout=10) as s:
        s.sendall(("GET /ocpp/CP-2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        rest = head.split(b"\r\n\r\n", 1)[1]
        mask = bytes([1, 2, 3, 4])
        payload = bytes([code >> 8 & 0xFF, code & 0xFF])
        s.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        data = rest
        while len(data) < 4:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data[0] == 0x88
    assert data[2:4] == bytes([0x03, 0xEA])


def test_length_required_has_its_reason_phrase(evctl, tmp_path):
    evctl.stop()
    files = tmp_path / "files"
    files.mkdir()
    evctl.start("--files-dir", str(files))
    token = "0123456789abcdef0123456789abcdef"
    evctl.sql("INSERT INTO file_grants (token, station_id, kind, created_at, expires_at) "
              "SELECT ?, id, 'upload', '2026-01-01T00:00:00Z', '2999-01-01T00:00:00Z' FROM stations "
              "WHERE identity = 'CP-1'", (token,))
    line = http(evctl, f"PUT /files/u/{token}/x.log HTTP/1.1\r\nHost: x\r\n\r\n")
    assert line == "HTTP/1.1 411 Length Required"


def test_enumerations_in_any_case(evctl):
    _, answers = raw(evctl, "CP-1", [
        [2, "s", "StatusNotification", {"connectorId": 1, "status": "faulted", "errorCode": "groundFailure"}],
        [2, "t", "StartTransaction", {"connectorId": 2, "idTag": "GOOD1", "meterStart": 0,
                                      "timestamp": "2026-11-21T10:00:00Z"}],
    ])
    tx = answers[1][2]["transactionId"]
    raw(evctl, "CP-1", [[2, "m", "MeterValues", {"connectorId": 2, "transactionId": tx, "meterValue": [
        {"timestamp": "2026-11-21T10:10:00Z", "sampledValue": [
            {"value": "1.5", "measurand": "Energy.Active.Import.Register", "unit": "kwh"}]}]}]])
    assert query(evctl, "SELECT status, error_code FROM connectors WHERE connector_id = 1 AND station_id = "
                        "(SELECT id FROM stations WHERE identity = 'CP-1')") == [("Faulted", "GroundFailure")]
    assert query(evctl, "SELECT energy_wh, unit FROM meter_values") == [(1500.0, "kWh")]
    alarms = json.loads(evctl.run("alarm", "list", "-o", "json").stdout)
    assert [a["kind"] for a in alarms] == ["connector_faulted"]


def test_an_open_connector_accepts_any_tag_as_an_anonymous_session(evctl):
    evctl.run("station", "connector", "update", "CP-1", "2", "--mode", "open")

    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            station = Station("CP-1", ws)
            open_start = await station.call(call.StartTransaction(
                connector_id=2, id_tag="STRANGER", meter_start=0, timestamp="2026-11-21T10:00:00Z"))
            rfid_start = await station.call(call.StartTransaction(
                connector_id=1, id_tag="STRANGER", meter_start=0, timestamp="2026-11-21T10:00:00Z"))
            authorize = await station.call(call.Authorize(id_tag="STRANGER"))
            station.close()
            return open_start, rfid_start, authorize

    open_start, rfid_start, authorize = run(scenario())
    assert open_start.id_tag_info["status"] == "Accepted"
    assert rfid_start.id_tag_info["status"] == "Invalid"
    assert authorize.id_tag_info["status"] == "Invalid"  # a mixed station: the token rules decide
    sessions = json.loads(evctl.run("report", "sessions", "-o", "json").stdout)
    open_session = [s for s in sessions if s.get("connector") == 2 or s.get("connector_id") == 2]
    assert open_session and open_session[0]["authorization"] == "anonymous"
    assert query(evctl, "SELECT anonymous, token_id FROM transactions WHERE connector_id = 2") == [(1, None)]


@pytest.mark.parametrize("policy,status", [("pending", "Pending"), ("reject", "Rejected")])
def test_registration_is_enforced_until_accepted(evctl, policy, status):
    evctl.run("station", "update", "CP-2", "--registration", policy)
    boot = [2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]
    _, answers = raw(evctl, "CP-2", [
        boot, [2, "a", "Authorize", {"idTag": "GOOD1"}],
        [2, "s", "StartTransaction", {"connectorId": 1, "idTag": "GOOD1", "meterStart": 0,
                                      "timestamp": "2026-11-21T10:00:00Z"}],
    ])
    assert answers[0][2]["status"] == status
    assert [a[0] for a in answers[1:]] == [4, 4]
    assert {a[2] for a in answers[1:]} == {"SecurityError"}
    assert query(evctl, "SELECT count(*) FROM transactions") == [(0,)]
    evctl.run("station", "update", "CP-2", "--registration", "accept")
    _, released = raw(evctl, "CP-2", [[2, "a2", "Authorize", {"idTag": "GOOD1"}],
                                      [2, "b2", "BootNotification", boot[3]]])
    assert released[0][2]["idTagInfo"]["status"] == "Accepted"
    assert released[1][2]["status"] == "Accepted"


class Configured(ChargePoint):
    def __init__(self, identity, ws):
        super().__init__(identity, ws)
        self.asked = []

    @on(Action.get_configuration)
    async def get_configuration(self, **p):
        self.asked.append(p)
        return call_result.GetConfiguration(configuration_key=[
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "LocalAuthListMaxLength", "readonly": True, "value": "50"}])


def boot_and_wait(evctl, identity, firmware, seconds=3.0):
    async def scenario():
        async with connect(evctl, identity) as ws:
            station = Configured(identity, ws)
            task = asyncio.create_task(station.start())
            await station.call(call.BootNotification(
                charge_point_vendor="V", charge_point_model="M", firmware_version=firmware))
            for _ in range(int(seconds / 0.05)):
                if station.asked:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            task.cancel()
            return station.asked
    return run(scenario())


def test_configuration_is_fetched_after_the_first_accepted_boot_and_new_firmware(evctl):
    assert boot_and_wait(evctl, "CP-2", "1.0") == [{}]
    shown = json.loads(evctl.run("station", "config", "show", "CP-2", "-o", "json").stdout)
    assert {row["key"] for row in shown} >= {"HeartbeatInterval", "LocalAuthListMaxLength"}
    assert boot_and_wait(evctl, "CP-2", "1.0", seconds=1.0) == []
    assert boot_and_wait(evctl, "CP-2", "2.0") == [{}]


def test_no_auto_config_fetches_nothing(evctl):
    evctl.stop()
    evctl.start("--no-auto-config")
    assert boot_and_wait(evctl, "CP-2", "1.0", seconds=1.0) == []
    assert query(evctl, "SELECT count(*) FROM commands") == [(0,)]


def test_events_show_the_station_time_ours_and_vendor_error_codes(evctl):
    raw(evctl, "CP-1", [
        [2, "s", "StatusNotification", {"connectorId": 1, "status": "Faulted", "errorCode": "OtherError",
                                        "vendorErrorCode": "E-4711", "timestamp": "2026-11-21T09:00:00Z"}],
        [2, "e", "SecurityEventNotification", {"type": "FirmwareUpdated", "timestamp": "2026-11-21T08:00:00Z"}],
    ])
    events = json.loads(evctl.run("station", "events", "CP-1", "-o", "json").stdout)
    status = [e for e in events if e["event"] == "Faulted"][0]
    assert status["at"] == "2026-11-21T09:00:00.000Z"
    assert status["received_at"] != status["at"]
    assert status["vendor_error_code"] == "E-4711"
    security = [e for e in events if e["event"] == "security"][0]
    assert security["at"] == "2026-11-21T08:00:00.000Z"
    table = evctl.run("event", "list", "--station", "CP-1", "-o", "table").stdout
    assert "E-4711" in table and "RECEIVED AT" in table and "VENDOR ERROR CODE" in table
    table = evctl.run("station", "events", "CP-1", "-o", "table").stdout
    assert "E-4711" in table and "RECEIVED AT" in table


def test_not_registered_clears_on_creation_and_is_found_by_station(evctl):
    async def scenario():
        try:
            async with connect(evctl, "NEW-1"):
                pass
        except websockets.exceptions.InvalidStatus as error:
            return error.response.status_code
    assert run(scenario()) == 404
    found = json.loads(evctl.run("alarm", "list", "--history", "--station", "NEW-1", "-o", "json").stdout)
    assert [a["kind"] for a in found] == ["not_registered"]
    evctl.run("station", "create", "NEW-1", "--name", "New", "--security-profile", "0")
    assert json.loads(evctl.run("alarm", "list", "-o", "json").stdout) == []
    history = json.loads(evctl.run("alarm", "list", "--history", "--station", "NEW-1", "-o", "json").stdout)
    assert [a["kind"] for a in history] == ["not_registered"] and history[0]["cleared_at"]
    missing = evctl.run("alarm", "list", "--station", "NOBODY", check=False)
    assert missing.returncode != 0


@pytest.mark.parametrize("answer,code,says", [
    ({"status": "accepted"}, 0, "Accepted"),
    (None, 1, "'status'"),
    ({}, 1, "'status'"),
])
def test_answers_are_read_in_any_case_and_must_carry_their_required_fields(evctl, answer, code, says):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            command = asyncio.create_task(asyncio.to_thread(
                evctl.run, "station", "clear-cache", "CP-2", "--timeout", "10", check=False))
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert frame[0] == 2 and frame[2] == "ClearCache"
            await ws.send(json.dumps([3, frame[1], answer]))
            return await command

    result = run(scenario())
    assert result.returncode == code, result.stderr
    assert says in (result.stdout + result.stderr)
    state = query(evctl, "SELECT state, status, error FROM commands")[0]
    assert state[0] == ("accepted" if code == 0 else "failed")
