"""Smart charging end to end: real charge points under one capacity group."""
import asyncio
import json

from ocpp.v16 import call

from test_remote_commands import cli, online


def limits(stations):
    """The latest limit each (station, connector) received, from its SetChargingProfile calls."""
    latest = {}
    for station in stations:
        for action, payload in station.received:
            if action != "SetChargingProfile":
                continue
            profile = payload["cs_charging_profiles"]
            limit = profile["charging_schedule"]["charging_schedule_period"][0]["limit"]
            latest[(station.id, payload["connector_id"])] = float(limit)
    return latest


def profile_count(stations):
    return sum(1 for s in stations for a, _ in s.received if a == "SetChargingProfile")


async def settle(stations, expected_count, check, timeout=10):
    """Waits until the limits satisfy `check` and no new profile has arrived for a second."""
    seen, quiet = profile_count(stations), 0
    for _ in range(int(timeout / 0.2)):
        await asyncio.sleep(0.2)
        count = profile_count(stations)
        quiet = quiet + 1 if count == seen else 0
        seen = count
        current = limits(stations)
        if quiet >= 5 and len(current) >= expected_count and check(current):
            return current
    return limits(stations)


def test_capacity_is_shared_alternated_and_never_exceeded(evctl):
    assert evctl.run("group", "capacity", "set", "HQ", "--max-current", "20").returncode == 0

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        history = []

        async def start(cp, connector, tag, when):
            return (await cp.call(call.StartTransaction(
                connector_id=connector, id_tag=tag, meter_start=0, timestamp=when))).transaction_id

        tx1 = await start(cp1, 1, "GOOD1", "2026-11-21T10:00:00Z")
        history.append(await settle(stations, 1, lambda l: l.get(("CP-1", 1)) == 20))
        tx2 = await start(cp2, 1, "GOOD1", "2026-11-21T10:01:00Z")
        history.append(await settle(stations, 2, lambda l: l.get(("CP-1", 1)) == 10 and l.get(("CP-2", 1)) == 10))
        tx3 = await start(cp1, 2, "GOOD1", "2026-11-21T10:02:00Z")
        history.append(await settle(stations, 3, lambda l: all(v == 6.6 for v in l.values())))
        # Less capacity than three minimums: one car waits at 0 A for its turn.
        await cli(evctl, "group", "capacity", "set", "HQ", "--max-current", "15")
        history.append(await settle(stations, 3, lambda l: sorted(l.values()) == [0, 7.5, 7.5]))
        plan = json.loads((await cli(evctl, "group", "allocation", "HQ", "-o", "json")).stdout)
        # A car reporting a single phase frees the other phases (the capacity is per phase).
        await cp2.call(call.MeterValues(connector_id=1, transaction_id=tx2, meter_value=[{
            "timestamp": "2026-11-21T10:03:00Z", "sampledValue": [
                {"value": "7.4", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                {"value": "0", "measurand": "Current.Import", "unit": "A", "phase": "L2"},
                {"value": "0", "measurand": "Current.Import", "unit": "A", "phase": "L3"}]}]))
        await asyncio.sleep(1.5)
        # A grid operator's signal pauses everything, and resuming brings it back.
        await cli(evctl, "group", "suspend", "HQ")
        history.append(await settle(stations, 3, lambda l: all(v == 0 for v in l.values())))
        await cli(evctl, "group", "resume", "HQ")
        history.append(await settle(stations, 3, lambda l: any(v > 0 for v in l.values())))
        resumed = json.loads((await cli(evctl, "group", "allocation", "HQ", "-o", "json")).stdout)
        await cp1.call(call.StopTransaction(transaction_id=tx1, meter_stop=100, timestamp="2026-11-21T10:10:00Z"))
        history.append(await settle(stations, 3, lambda l: l.get(("CP-2", 1), 0) >= 6 and l.get(("CP-1", 2), 0) >= 6))
        events = (await cli(evctl, "event", "list", "--kind", "allocation")).stdout
        for task in (t1, t2):
            task.cancel()
        for ws in (ws1, ws2):
            await ws.close()
        return stations, history, plan, events, (tx1, tx2, tx3), resumed

    stations, history, plan, events, txs, resumed = asyncio.run(scenario())
    assert history[0] == {("CP-1", 1): 20}
    assert history[1] == {("CP-1", 1): 10, ("CP-2", 1): 10}
    assert history[2] == {("CP-1", 1): 6.6, ("CP-2", 1): 6.6, ("CP-1", 2): 6.6}
    assert sorted(history[3].values()) == [0, 7.5, 7.5]
    assert all(v == 0 for v in history[4].values())
    # While every car drew on all three phases, the sum of limits never exceeded the capacity.
    for step, capacity in zip(history[:5], [20, 20, 20, 15, 15]):
        assert sum(step.values()) <= capacity + 1e-9, step
    for step in history:
        assert all(v == 0 or v >= 6 for v in step.values()), step
    # After CP-2 reported drawing on L1 only, the plan is per phase, and what the stations hold
    # is the plan: two cars share L1 (7.5 A each), the third waits for its turn. The car that
    # waited at the 15 A step has waited longest, so it charges now and CP-2 waits.
    assert all(a <= 15 + 1e-9 for a in resumed["allocated_per_phase"]), resumed
    held = {(c["station"], c["connector"]): c["limit"] for c in resumed["charges"]}
    assert held == history[5]
    assert sorted(held.values()) == [0, 7.5, 7.5]
    cp2 = [c for c in resumed["charges"] if c["station"] == "CP-2"][0]
    waited_longest = [k for k, v in history[3].items() if v == 0][0]
    assert held[waited_longest] == 7.5
    assert cp2["phases"] == [1]
    assert [c["state"] for c in plan["charges"]].count("paused") == 1
    assert plan["capacity"]["max_current"] == 15
    # Every profile was a TxProfile for the right transaction, and each change is an event.
    for station in stations:
        for action, payload in station.received:
            if action == "SetChargingProfile":
                assert payload["cs_charging_profiles"]["charging_profile_purpose"] == "TxProfile"
                assert payload["cs_charging_profiles"]["transaction_id"] in txs
    assert "start" in events and "→" in events
