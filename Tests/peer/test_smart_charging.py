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


def fleet(evctl):
    """A fleet card several cars charge with at once (a shared tag would be ConcurrentTx, refused)."""
    evctl.run("token", "add", "FLEET1", "--user", "eva@example.com", "--allow-concurrent")


def test_capacity_is_shared_alternated_and_never_exceeded(evctl):
    fleet(evctl)
    assert evctl.run("group", "capacity", "set", "HQ", "--max-current", "20").returncode == 0

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        history = []

        async def start(cp, connector, tag, when):
            return (await cp.call(call.StartTransaction(
                connector_id=connector, id_tag=tag, meter_start=0, timestamp=when))).transaction_id

        tx1 = await start(cp1, 1, "FLEET1", "2026-11-21T10:00:00Z")
        history.append(await settle(stations, 1, lambda l: l.get(("CP-1", 1)) == 20))
        tx2 = await start(cp2, 1, "FLEET1", "2026-11-21T10:01:00Z")
        history.append(await settle(stations, 2, lambda l: l.get(("CP-1", 1)) == 10 and l.get(("CP-2", 1)) == 10))
        tx3 = await start(cp1, 2, "FLEET1", "2026-11-21T10:02:00Z")
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


async def start_tx(cp, connector, tag, when):
    result = await cp.call(call.StartTransaction(connector_id=connector, id_tag=tag, meter_start=0, timestamp=when))
    return result.transaction_id, result.id_tag_info["status"]


async def current_import(cp, connector, tx, amps, when):
    await cp.call(call.MeterValues(connector_id=connector, transaction_id=tx, meter_value=[{
        "timestamp": when, "sampledValue": [
            {"value": str(amps), "measurand": "Current.Import", "unit": "A", "phase": phase}
            for phase in ("L1", "L2", "L3")]}]))


async def close_all(tasks, sockets):
    for task in tasks:
        task.cancel()
    for ws in sockets:
        await ws.close()


def test_a_paused_car_stays_paused_a_whole_turn(evctl):
    """Issue 9 item 1: one change per car per turn boundary, no second flip a few seconds later."""
    turn = 10
    fleet(evctl)
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "16", "--safe-current", "8",
              "--alternate-every", f"{turn}s", "--hand-on-after", "0")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        await start_tx(cp1, 1, "FLEET1", "2026-11-21T10:00:00Z")
        await start_tx(cp2, 1, "FLEET1", "2026-11-21T10:00:01Z")
        await start_tx(cp1, 2, "FLEET1", "2026-11-21T10:00:02Z")
        await settle(stations, 3, lambda l: sorted(l.values()) == [0, 8, 8])
        loop = asyncio.get_running_loop()
        began, samples = loop.time(), []
        counts_before = {key: 0 for key in limits(stations)}
        for station in stations:
            for action, payload in station.received:
                if action == "SetChargingProfile":
                    counts_before[(station.id, payload["connector_id"])] += 1
        while loop.time() - began < 3.2 * turn:
            samples.append((loop.time(), limits(stations)))
            await asyncio.sleep(0.1)
        counts = {key: -value for key, value in counts_before.items()}
        for station in stations:
            for action, payload in station.received:
                if action == "SetChargingProfile":
                    counts[(station.id, payload["connector_id"])] += 1
        await close_all((t1, t2), (ws1, ws2))
        return samples, counts

    samples, counts = asyncio.run(scenario())
    keys = list(samples[0][1])
    pauses = {key: [] for key in keys}
    for key in keys:
        since = None
        for when, current in samples:
            if current[key] == 0 and since is None:
                since = when
            elif current[key] != 0 and since is not None:
                pauses[key].append(when - since)
                since = None
    # Cars really took turns, and every pause that ended lasted (about) a whole turn.
    assert sum(len(p) for p in pauses.values()) >= 2, pauses
    for key, durations in pauses.items():
        assert all(d >= turn - 2.5 for d in durations), (key, durations)
    # At most one profile change per car per boundary (3 boundaries in the window, and one spare).
    for key, count in counts.items():
        assert count <= 4, counts
    # Two cars charge and one waits (but for the moment a boundary's two profiles are on their way).
    settled = [current for _, current in samples if sorted(current.values()) == [0, 8, 8]]
    assert len(settled) >= 0.8 * len(samples), samples[-1]


def test_unused_current_is_handed_on_and_given_back(evctl):
    """Issue 9 item 3: a car drawing well below its limit gives the rest to a capped car."""
    fleet(evctl)
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "20", "--hand-on-after", "2s")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        tx1, _ = await start_tx(cp1, 1, "FLEET1", "2026-11-21T10:00:00Z")
        tx2, _ = await start_tx(cp2, 1, "FLEET1", "2026-11-21T10:00:01Z")
        steps = [await settle(stations, 2, lambda l: l.get(("CP-1", 1)) == 10 and l.get(("CP-2", 1)) == 10)]
        await current_import(cp1, 1, tx1, 2, "2026-11-21T10:01:00Z")
        await current_import(cp2, 1, tx2, 10, "2026-11-21T10:01:00Z")
        steps.append(await settle(stations, 2, lambda l: l.get(("CP-1", 1)) == 6 and l.get(("CP-2", 1)) == 14))
        plan = json.loads((await cli(evctl, "group", "allocation", "HQ", "-o", "json")).stdout)
        await current_import(cp1, 1, tx1, 9, "2026-11-21T10:02:00Z")
        steps.append(await settle(stations, 2, lambda l: l.get(("CP-1", 1)) == 10 and l.get(("CP-2", 1)) == 10))
        await close_all((t1, t2), (ws1, ws2))
        return steps, plan

    steps, plan = asyncio.run(scenario())
    assert steps[0] == {("CP-1", 1): 10, ("CP-2", 1): 10}
    # 2 A drawn against a 10 A limit: lowered to 6 A (never below it), the freed 4 A go to CP-2.
    assert steps[1] == {("CP-1", 1): 6, ("CP-2", 1): 14}
    notes = {c["station"]: c["note"] for c in plan["charges"]}
    assert "handed on" in notes["CP-1"], notes
    # Drawing more again: it gets its share back.
    assert steps[2] == {("CP-1", 1): 10, ("CP-2", 1): 10}


def test_refused_sessions_get_no_share_and_superseded_ones_are_closed(evctl):
    """Issue 9 item 7."""
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "20")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        _, refused = await start_tx(cp1, 1, "BLOCKED1", "2026-11-21T10:00:00Z")
        first, _ = await start_tx(cp2, 1, "GOOD1", "2026-11-21T10:00:01Z")
        steps = [await settle(stations, 2, lambda l: l.get(("CP-2", 1)) == 20 and l.get(("CP-1", 1)) == 0)]
        # The station starts a new session on the same connector without stopping the first.
        second, status = await start_tx(cp2, 1, "GOOD1", "2026-11-21T10:30:00Z")
        assert status == "Accepted"
        steps.append(await settle(stations, 1, lambda l: l.get(("CP-2", 1)) == 20))
        sessions = json.loads((await cli(evctl, "report", "sessions", "-o", "json")).stdout)
        await close_all((t1, t2), (ws1, ws2))
        return refused, steps, sessions, first, second

    refused, steps, sessions, first, second = asyncio.run(scenario())
    assert refused == "Blocked"
    # The refused session gets no share: 0 A (in case its station lets it charge anyway).
    assert steps[0] == {("CP-2", 1): 20, ("CP-1", 1): 0}
    assert steps[1] == {("CP-2", 1): 20, ("CP-1", 1): 0}
    by_id = {s["id"]: s for s in sessions}
    assert by_id[first]["state"] == "superseded" and by_id[first]["stop_reason"] == "superseded"
    assert by_id[first]["end"] is not None
    assert by_id[second]["state"] == "active" and by_id[second]["end"] is None


def test_a_capacity_change_reaches_the_stations_promptly(evctl):
    """Issue 9 item 8: the CLI bumps a change counter that serve polls every 0.1 s."""
    fleet(evctl)
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "20")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        await start_tx(cp1, 1, "FLEET1", "2026-11-21T10:00:00Z")
        await settle([cp1], 1, lambda l: l.get(("CP-1", 1)) == 20)
        # Right after a plan, so serve's 5 s timer is as far away as it gets.
        loop = asyncio.get_running_loop()
        await cli(evctl, "group", "capacity", "set", "HQ", "--max-current", "12")
        changed = loop.time()
        while limits([cp1]).get(("CP-1", 1)) != 12 and loop.time() - changed < 10:
            await asyncio.sleep(0.05)
        elapsed = loop.time() - changed
        await close_all((t1,), (ws1,))
        return elapsed, limits([cp1])

    elapsed, held = asyncio.run(scenario())
    assert held == {("CP-1", 1): 12}
    # Generous against the 1 s goal, but well below the 5 s timer the change used to wait for.
    assert elapsed < 3, elapsed


def test_export_profiles_at_now_and_the_named_safe_current(evctl):
    """Issue 9 items 4, 5 and 9 against a real charge point."""
    import datetime
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "16", "--safe-current", "8")
    two_hours_ago = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        await start_tx(cp1, 1, "GOOD1", "2026-11-21T10:00:00Z")
        steps = [await settle([cp1], 1, lambda l: l.get(("CP-1", 1)) == 16)]
        # PV exports 10 A: headroom.
        exported = await cli(evctl, "group", "load", "report", "HQ", "--l1", "-10", "--valid-for", "3s")
        steps.append(await settle([cp1], 1, lambda l: l.get(("CP-1", 1)) == 26))
        # The reading expires: the safe current, named.
        steps.append(await settle([cp1], 1, lambda l: l.get(("CP-1", 1)) == 8))
        shown = json.loads((await cli(evctl, "group", "capacity", "show", "HQ", "-o", "json")).stdout)[0]
        events = (await cli(evctl, "event", "list", "--kind", "allocation", "-o", "json")).stdout
        # A site profile of 16 A for an hour, then 6 A, started two hours ago: 6 A now.
        created = await cli(evctl, "profile", "create", "step", "--purpose", "ChargePointMaxProfile",
                            "--kind", "Absolute", "--start-schedule", two_hours_ago,
                            "--period", "0:16", "--period", "3600:6")
        sent = await cli(evctl, "profile", "set", "CP-1", "step")
        steps.append(await settle([cp1], 1, lambda l: l.get(("CP-1", 1)) == 6))
        plan = json.loads((await cli(evctl, "group", "allocation", "HQ", "-o", "json")).stdout)
        await close_all((t1,), (ws1,))
        return exported, steps, shown, events, created, sent, plan

    exported, steps, shown, events, created, sent, plan = asyncio.run(scenario())
    assert exported.returncode == 0, exported.stderr
    assert [s[("CP-1", 1)] for s in steps] == [16, 26, 8, 6]
    assert shown["other_load"] is None and shown["in_force"].startswith("safe current 8 A (readings expired at ")
    assert "safe current (readings expired at " in events
    assert created.returncode == 0 and sent.returncode == 0, (created.stderr, sent.stderr)
    profile_id = json.loads(evctl.run("profile", "show", "step", "-o", "json").stdout)["id"]
    assert plan["charges"][0]["note"].startswith(f"capped by profile {profile_id}"), plan


def test_a_station_maximum_is_shared_by_its_connectors(evctl):
    """Issue 16 item 5: a station-level maximum current (Alfen Station-MaxCurrent) holds for the
    sum of the station's cars, inside a capacity group that would give them more."""
    fleet(evctl)
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "63")
    assert evctl.run("station", "update", "CP-1", "--max-current", "16").returncode == 0

    async def scenario():
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        stations = [cp1, cp2]
        await start_tx(cp1, 1, "FLEET1", "2026-11-21T10:00:00Z")
        await start_tx(cp1, 2, "FLEET1", "2026-11-21T10:00:01Z")
        await start_tx(cp2, 1, "FLEET1", "2026-11-21T10:00:02Z")
        first = await settle(stations, 3, lambda l: l.get(("CP-1", 1)) == 8 and l.get(("CP-1", 2)) == 8)
        plan = json.loads((await cli(evctl, "group", "allocation", "HQ", "-o", "json")).stdout)
        # Raising the station's maximum reaches the station without a restart.
        await cli(evctl, "station", "update", "CP-1", "--max-current", "20")
        second = await settle(stations, 3, lambda l: l.get(("CP-1", 1)) == 10 and l.get(("CP-1", 2)) == 10)
        await close_all((t1, t2), (ws1, ws2))
        return first, plan, second

    first, plan, second = asyncio.run(scenario())
    assert first[("CP-1", 1)] == 8 and first[("CP-1", 2)] == 8, first
    assert first[("CP-2", 1)] > 16, first  # the other station is not held by CP-1's maximum
    notes = [c["note"] for c in plan["charges"] if c["station"] == "CP-1"]
    assert notes and all("station's maximum (16 A)" in n for n in notes), plan
    assert second[("CP-1", 1)] == 10 and second[("CP-1", 2)] == 10, second
