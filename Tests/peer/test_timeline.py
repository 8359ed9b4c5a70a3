"""`evctl station timeline`: one station's story with causes (issue 16 item 2)."""
import asyncio
import json
import re

from ocpp.v16 import call

from test_remote_commands import cli, online
from test_smart_charging import fleet, settle


def test_the_timeline_tells_a_stations_story_with_its_causes(evctl):
    fleet(evctl)
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "10", "--alternate-every", "15m")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        for cp in (cp1, cp2):
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        auth = await cp1.call(call.Authorize(id_tag="GOOD1"))
        await cp1.call(call.StartTransaction(connector_id=1, id_tag="FLEET1", meter_start=0, timestamp="2026-12-03T10:00:00Z"))
        await cp1.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        await settle([cp1, cp2], 1, lambda l: l.get(("CP-1", 1)) == 10)
        await cp2.call(call.StartTransaction(connector_id=1, id_tag="FLEET1", meter_start=0, timestamp="2026-12-03T10:01:00Z"))
        await cp2.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        # 10 A is less than two cars' 6 A minimums: one of them waits at 0 A for its turn.
        limits = await settle([cp1, cp2], 2, lambda l: sorted(l.values()) == [0, 10])
        waiting = [cp for cp in (cp1, cp2) if limits[(cp.id, 1)] == 0][0]
        await waiting.call(call.StatusNotification(connector_id=1, error_code="NoError", status="SuspendedEVSE"))
        reset = await cli(evctl, "station", "reset", waiting.id, "--hard")
        await cp1.call(call.StatusNotification(connector_id=2, error_code="GroundFailure", status="Faulted",
                                               vendor_error_code="E42"))
        for task in (t1, t2):
            task.cancel()
        await ws1.close()
        await ws2.close()
        await asyncio.sleep(0.5)
        return waiting.id, auth, reset

    waiting, auth, reset = asyncio.run(scenario())
    assert reset.returncode == 0, reset.stderr
    story = evctl.run("station", "timeline", waiting, "-o", "table", "--tz", "UTC").stdout
    print(story)
    lines = story.strip().split("\n")
    assert re.match(r"^\d{4}-\d\d-\d\d \(\+00:00\)$", lines[0]), lines[0]
    assert all(re.match(r"^\d\d:\d\d:\d\d ", line) for line in lines[1:]), story
    assert "connected" in story and "booted: Test Peer" in story
    assert re.search(r"GetConfiguration sent by \S+, answered in \d+ ms", story), story
    assert "connector 1 Preparing → Charging" in story
    assert re.search(
        r"connector 1 Charging → SuspendedEVSE: limit 0 A from group HQ \(waiting for its turn[^)]*, rotation every 15m\)",
        story), story
    assert re.search(r"connector 1 limit \S+ → 0 A: from group HQ: waiting for its turn", story), story
    assert re.search(r"Reset Hard sent by \S+, Accepted in \d+ ms \(command \d+\)", story), story
    assert re.search(r"disconnected: closed by station \(1000\)", story), story
    assert re.search(r"connector 1 transaction \d+ started for tag FLEET1: Accepted", story), story
    # The order is the order things happened in.
    assert story.index("Preparing → Charging") < story.index("Charging → SuspendedEVSE") < story.index("Reset Hard")
    assert story.index("Reset Hard") < story.index("disconnected")

    one = evctl.run("station", "timeline", "CP-1", "-o", "table").stdout
    assert "Authorize tag GOOD1: Accepted" in one, one
    assert "connector 2 Faulted: GroundFailure; vendor code E42" in one, one

    entries = json.loads(evctl.run("station", "timeline", waiting, "-o", "json").stdout)
    kinds = {e["kind"] for e in entries}
    assert {"status", "connection", "boot", "command", "allocation", "transaction"} <= kinds, kinds
    suspended = [e for e in entries if e["text"].endswith("Charging → SuspendedEVSE")][0]
    assert suspended["connector"] == 1 and suspended["cause"].startswith("limit 0 A from group HQ")
    assert all(e["at"].endswith("Z") for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    # Periods: an hour ago is before all of it; --around now holds it all.
    assert "nothing happened" in evctl.run("station", "timeline", waiting, "--to", "1h", "-o", "table").stdout
    around = json.loads(evctl.run("station", "timeline", waiting, "--around", "now", "-o", "json").stdout)
    assert around == entries
    newest = json.loads(evctl.run("station", "timeline", waiting, "--limit", "2", "-o", "json").stdout)
    assert newest == entries[-2:]
    bad = evctl.run("station", "timeline", waiting, "--around", "now", "--from", "1h", check=False)
    assert bad.returncode == 64 and "'--around' cannot be combined" in bad.stderr
    assert evctl.run("station", "timeline", "NOPE", check=False).returncode == 66
    assert evctl.run("station", "timeline", waiting, "--from", "1h", "--to", "2h", check=False).returncode == 64
