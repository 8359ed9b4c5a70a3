"""Reports, alarms and ghost transactions on data recorded by `evctl serve` from real peers."""
import asyncio
import json
import time

from ocpp.v16 import call

from test_charge_point import Station, connect, query


def test_alarms_reports_and_ghost_transactions_from_recorded_data(evctl, tmp_path):
    alarm_file = tmp_path / "alarms.jsonl"
    evctl.stop()
    evctl.start("--alarm-command", f"cat >> {alarm_file}")

    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            cp = Station("CP-1", ws)
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            done = await cp.call(call.StartTransaction(
                connector_id=1, id_tag="GOOD1", meter_start=1000, timestamp="2026-11-20T10:00:00Z"))
            await cp.call(call.StopTransaction(
                transaction_id=done.transaction_id, meter_stop=8500, timestamp="2026-11-20T11:00:00Z",
                id_tag="GOOD1", reason="Local"))
            ghost = await cp.call(call.StartTransaction(
                connector_id=2, id_tag="GOOD1", meter_start=0, timestamp="2026-11-20T12:00:00Z"))
            await cp.call(call.StatusNotification(connector_id=2, error_code="NoError", status="Available"))
            await cp.call(call.StatusNotification(
                connector_id=1, error_code="GroundFailure", status="Faulted", info="RCD tripped"))
            await cp.call(call.FirmwareStatusNotification(status="InstallationFailed"))
            cp.task.cancel()
            return done.transaction_id, ghost.transaction_id

    done, ghost = asyncio.run(scenario())
    active = json.loads(evctl.run("alarm", "list", "-o", "json").stdout)
    kinds = sorted(a["kind"] for a in active)
    assert kinds == ["connector_faulted", "firmware_failed", "stuck_transaction"]
    faulted = [a for a in active if a["kind"] == "connector_faulted"][0]
    assert faulted["code"] == "GroundFailure" and faulted["connector_id"] == 1
    for _ in range(50):
        if alarm_file.exists() and len(alarm_file.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    hooked = [json.loads(line)["kind"] for line in alarm_file.read_text().splitlines()]
    assert sorted(hooked) == kinds

    stuck = json.loads(evctl.run("transaction", "list", "--stuck", "-o", "json").stdout)
    assert [t["id"] for t in stuck] == [ghost]
    closed = evctl.run("transaction", "close", str(ghost), "--reason", "no StopTransaction after reboot")
    assert closed.returncode == 0
    assert evctl.run("transaction", "list", "--stuck", "-o", "json").stdout.strip() == "[]"
    assert "stuck_transaction" not in evctl.run("alarm", "list").stdout

    sessions = json.loads(evctl.run("report", "sessions", "-o", "json").stdout)
    by_id = {s["id"]: s for s in sessions}
    assert by_id[done]["energy_kwh"] == 7.5
    assert by_id[done]["authorization"] == "rfid" and by_id[done]["user"] == "eva@example.com"
    assert by_id[ghost]["state"] == "closed_by_operator" and by_id[ghost]["energy_kwh"] is None
    energy = json.loads(evctl.run("report", "energy", "--by", "station", "-o", "json").stdout)
    assert energy[0]["station"] == "CP-1" and energy[-1]["station"] == "total"
    status = json.loads(evctl.run("status", "-o", "json").stdout)
    assert len(status["active_alarms"]) == 2
    events = evctl.run("station", "events", "CP-1").stdout
    assert "Faulted" in events and "GroundFailure" in events and "connected" in events
    listed = evctl.run("event", "list", "--kind", "status", "-o", "json").stdout
    assert len(json.loads(listed)) == 2
    ack = evctl.run("alarm", "ack", str(faulted["id"]))
    assert ack.returncode == 0
    assert "acknowledged" in evctl.run("alarm", "list").stdout


def test_unknown_identity_raises_a_not_registered_alarm(evctl):
    async def scenario():
        try:
            async with connect(evctl, "INTRUDER-9"):
                pass
        except Exception:
            pass

    asyncio.run(scenario())
    alarms = json.loads(evctl.run("alarm", "list", "-o", "json").stdout)
    assert [(a["kind"], a["station"]) for a in alarms] == [("not_registered", "INTRUDER-9")]


def test_deleting_a_token_keeps_who_charged_in_past_sessions(evctl):
    """History is billing: a finished rfid session keeps its id tag and user after `token delete`
    (the token's foreign key is SET NULL; the session records the user itself)."""
    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            cp = Station("CP-1", ws)
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            done = await cp.call(call.StartTransaction(
                connector_id=1, id_tag="GOOD1", meter_start=0, timestamp="2026-11-20T10:00:00Z"))
            await cp.call(call.StopTransaction(
                transaction_id=done.transaction_id, meter_stop=5000, timestamp="2026-11-20T11:00:00Z",
                id_tag="GOOD1", reason="Local"))

    asyncio.run(scenario())
    evctl.run("token", "delete", "GOOD1")
    sessions = json.loads(evctl.run("report", "sessions", "-o", "json").stdout)
    assert len(sessions) == 1, sessions
    row = sessions[0]
    assert row["authorization"] == "rfid", row
    assert row["id_tag"] == "GOOD1" and row["user"] == "eva@example.com", row
    csv = evctl.run("report", "sessions", "-o", "csv").stdout
    assert "eva@example.com" in csv and "anonymous" not in csv, csv
    energy = evctl.run("report", "energy", "--by", "user").stdout
    assert "eva@example.com" in energy and "(anonymous)" not in energy, energy
    by_user = json.loads(evctl.run("report", "sessions", "--user", "eva@example.com", "-o", "json").stdout)
    assert len(by_user) == 1
