"""The Python `ocpp` package plays real charge points against the built `evctl serve`.

The library validates every answer of ours against the official OCPP 1.6 JSON schemas.
"""
import asyncio
import base64
import json

import pytest
import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import AuthorizationStatus, RegistrationStatus


def connect(evctl, identity, password=None, subprotocols=("ocpp1.6",)):
    headers = {}
    if password is not None:
        token = base64.b64encode(f"{identity}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return websockets.connect(
        evctl.url(identity), subprotocols=list(subprotocols), additional_headers=headers,
        open_timeout=10)


class Station:
    """A charge point: the library's ChargePoint with its receive loop running."""

    def __init__(self, identity, ws):
        self.cp = ChargePoint(identity, ws)
        self.task = asyncio.create_task(self.cp.start())

    async def call(self, payload):
        return await asyncio.wait_for(self.cp.call(payload), timeout=10)

    def close(self):
        self.task.cancel()


def query(evctl, sql, *args):
    return evctl.sql(sql, args)


def run(coro):
    return asyncio.run(coro)


def test_full_charging_session_is_stored_and_visible(evctl):
    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            station = Station("CP-1", ws)
            boot = await station.call(call.BootNotification(
                charge_point_vendor="Alfen", charge_point_model="Eve Single",
                firmware_version="6.1.0", charge_point_serial_number="ACE0001"))
            assert boot.status == RegistrationStatus.accepted
            assert boot.interval == 300
            await station.call(call.Heartbeat())
            await station.call(call.StatusNotification(
                connector_id=1, error_code="NoError", status="Preparing"))
            auth = await station.call(call.Authorize(id_tag="good1"))
            assert auth.id_tag_info["status"] == AuthorizationStatus.accepted
            assert "expiry_date" in auth.id_tag_info
            start = await station.call(call.StartTransaction(
                connector_id=1, id_tag="GOOD1", meter_start=1000,
                timestamp="2026-11-21T10:00:00Z"))
            assert start.transaction_id > 0
            assert start.id_tag_info["status"] == AuthorizationStatus.accepted
            await station.call(call.MeterValues(
                connector_id=1, transaction_id=start.transaction_id,
                meter_value=[{"timestamp": "2026-11-21T10:15:00Z", "sampledValue": [
                    {"value": "2.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                    {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                ]}]))
            stop = await station.call(call.StopTransaction(
                transaction_id=start.transaction_id, meter_stop=4000,
                timestamp="2026-11-21T10:30:00Z", id_tag="GOOD1", reason="EVDisconnected"))
            assert stop.id_tag_info["status"] == AuthorizationStatus.accepted
            station.close()
            return start.transaction_id

    tx = run(scenario())
    rows = query(evctl, "SELECT meter_start, meter_stop, state, stop_reason FROM transactions WHERE id = ?", tx)
    assert rows == [(1000, 4000, "completed", "EVDisconnected")]
    energy = query(evctl, "SELECT energy_wh FROM meter_values WHERE transaction_id = ? AND energy_wh IS NOT NULL", tx)
    assert energy == [(2500.0,)]
    phase = query(evctl, "SELECT phase FROM meter_values WHERE measurand = 'Current.Import'")
    assert phase == [("L1",)]
    shown = json.loads(evctl.run("station", "show", "CP-1", "-o", "json").stdout)
    assert shown["vendor"] == "Alfen"
    assert shown["firmware_version"] == "6.1.0"
    assert shown["registration_status"] == "Accepted"
    connectors = {c["connector_id"]: c for c in shown["connector_list"]}
    assert connectors[1]["status"] == "Preparing"
    messages = evctl.run("station", "messages", "CP-1", "-o", "json").stdout
    frames = json.loads(messages)
    assert any('"StartTransaction"' in f["frame"] for f in frames if f["direction"] == "in")
    assert any(f["direction"] == "out" for f in frames)


@pytest.mark.parametrize("tag,expected", [
    ("GOOD1", "Accepted"), ("good1", "Accepted"), ("BLOCKED1", "Blocked"), ("OLD1", "Expired"),
    ("FUTURE1", "Invalid"), ("NOBODY", "Invalid"),
])
def test_authorize_uses_the_token_rules(evctl, tag, expected):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            result = await station.call(call.Authorize(id_tag=tag))
            station.close()
            return result.id_tag_info["status"]

    assert run(scenario()) == expected


def test_retried_start_transaction_gets_the_same_id(evctl):
    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            station = Station("CP-1", ws)
            request = call.StartTransaction(
                connector_id=2, id_tag="GOOD1", meter_start=5, timestamp="2026-11-21T11:00:00Z")
            first = await station.call(request)
            second = await station.call(request)
            station.close()
            return first.transaction_id, second.transaction_id

    first, second = run(scenario())
    assert first == second
    assert query(evctl, "SELECT count(*) FROM transactions") == [(1,)]


def test_reconnect_keeps_registration_without_a_new_boot(evctl):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            await station.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            station.close()
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            beat = await station.call(call.Heartbeat())
            station.close()
            return beat

    assert run(scenario()).current_time
    evctl.stop()
    evctl.start()
    shown = json.loads(evctl.run("station", "show", "CP-2", "-o", "json").stdout)
    assert shown["registration_status"] == "Accepted"
    assert shown["last_boot_at"] is not None


def test_newer_connection_replaces_the_older(evctl):
    async def scenario():
        old = await connect(evctl, "CP-1")
        new = await connect(evctl, "CP-1")
        station = Station("CP-1", new)
        await station.call(call.Heartbeat())
        await asyncio.wait_for(old.wait_closed(), timeout=5)
        code = old.close_code
        station.close()
        await new.close()
        return code

    assert run(scenario()) == 1008


def test_wrong_password_gets_401_and_a_security_event(evctl):
    async def scenario(password):
        try:
            async with connect(evctl, "CP-SEC", password=password) as ws:
                station = Station("CP-SEC", ws)
                await station.call(call.Heartbeat())
                station.close()
                return 101
        except websockets.exceptions.InvalidStatus as error:
            return error.response.status_code

    assert run(scenario("wrong-password-000000")) == 401
    assert run(scenario(None)) == 401
    assert run(scenario("0123456789abcdef0123")) == 101
    kinds = [k for (k,) in query(evctl, "SELECT kind FROM events WHERE identity = 'CP-SEC'")]
    assert "security" in kinds


def test_unknown_identity_gets_404_and_a_not_registered_event(evctl):
    async def scenario():
        try:
            async with connect(evctl, "GHOST"):
                return 101
        except websockets.exceptions.InvalidStatus as error:
            return error.response.status_code

    assert run(scenario()) == 404
    assert query(evctl, "SELECT kind FROM events WHERE identity = 'GHOST'") == [("not_registered",)]


def test_numbers_as_strings_are_accepted_and_counted(evctl):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            await ws.send(json.dumps([2, "42", "StartTransaction", {
                "connectorId": "1", "idTag": "GOOD1", "meterStart": "250",
                "timestamp": "2026-11-21T12:00:00"}]))
            return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))

    reply = run(scenario())
    assert reply[0] == 3 and reply[1] == "42"
    assert reply[2]["idTagInfo"]["status"] == "Accepted"
    assert query(evctl, "SELECT meter_start FROM transactions") == [(250,)]
    assert query(evctl, "SELECT lenient_count FROM stations WHERE identity = 'CP-2'")[0][0] >= 3


def test_bad_frames_get_callerrors_and_lose_nothing(evctl):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            replies = []
            for frame in ["this is not json", json.dumps([2, "a1", "Frobnicate", {}]),
                          json.dumps([2, "a2", "StartTransaction", {"connectorId": 1}]),
                          json.dumps([2, "a3", "Heartbeat", {}])]:
                await ws.send(frame)
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
            return replies

    bad_json, unknown, incomplete, heartbeat = run(scenario())
    assert bad_json[0] == 4 and bad_json[2] == "FormationViolation"
    assert unknown == [4, "a1", "NotImplemented", unknown[3], {}]
    assert incomplete[0] == 4 and incomplete[2] == "ProtocolError"
    assert heartbeat[0] == 3 and "currentTime" in heartbeat[2]
    assert query(evctl, "SELECT count(*) FROM transactions") == [(0,)]


def test_stop_for_unknown_transaction_is_confirmed_and_kept(evctl):
    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            result = await station.call(call.StopTransaction(
                transaction_id=-1, meter_stop=10, timestamp="2026-11-21T12:00:00Z"))
            station.close()
            return result

    run(scenario())
    assert query(evctl, "SELECT transaction_id FROM orphan_stops") == [(-1,)]


def test_acknowledged_transaction_survives_a_crash(evctl):
    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            station = Station("CP-1", ws)
            start = await station.call(call.StartTransaction(
                connector_id=1, id_tag="GOOD1", meter_start=7, timestamp="2026-11-21T13:00:00Z"))
            station.close()
            return start.transaction_id

    tx = run(scenario())
    evctl.stop(kill=True)
    assert query(evctl, "SELECT id, state FROM transactions") == [(tx, "active")]
    evctl.start()


def test_sigterm_stops_cleanly_with_1001(evctl):
    async def scenario():
        ws = await connect(evctl, "CP-1")
        code, err = evctl.stop()
        await asyncio.wait_for(ws.wait_closed(), timeout=5)
        return code, ws.close_code, err

    status, close_code, err = run(scenario())
    assert status == 0
    assert close_code == 1001
    assert "evctl: stopped" in err


def test_abrupt_disconnects_leave_the_server_serving(evctl):
    import socket as sockets
    for _ in range(3):
        raw = sockets.create_connection(("127.0.0.1", evctl.port), timeout=5)
        raw.sendall(b"GET /ocpp/CP-2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    b"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 101")
        raw.sendall(bytes([0x81, 0xFE, 0x01, 0x00, 1, 2, 3, 4]) + b"half a frame")
        raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()

    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            beat = await station.call(call.Heartbeat())
            station.close()
            return beat

    assert asyncio.run(scenario()).current_time
    kinds = [k for (k,) in query(evctl, "SELECT kind FROM events WHERE identity = 'CP-2' ORDER BY id")]
    assert kinds.count("disconnected") >= 3


@pytest.mark.sqlite_only("another process holding SQLite's write lock")
def test_a_long_lock_by_another_process_delays_but_does_not_stop_serve(evctl):
    import sqlite3 as lite
    import threading
    import time as clock
    holder = lite.connect(evctl.db, timeout=1, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(7, lambda: holder.execute("COMMIT"))
    release.start()
    started = clock.time()

    async def scenario():
        async with connect(evctl, "CP-2") as ws:
            station = Station("CP-2", ws)
            beat = await asyncio.wait_for(station.cp.call(call.Heartbeat()), timeout=20)
            station.close()
            return beat

    try:
        beat = asyncio.run(scenario())
    finally:
        release.join()
        holder.close()
    assert beat.current_time
    assert clock.time() - started >= 6
    assert evctl.process.poll() is None, "serve must still be running"
