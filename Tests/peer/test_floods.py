"""Connection attempts from made-up identities cost bounded alarms, events and hook runs."""
import asyncio
import json
import time

import websockets
from ocpp.v16 import call

from test_charge_point import Station, connect, query


def test_a_flood_of_unknown_identities_is_aggregated(evctl, tmp_path):
    hook = tmp_path / "hook.jsonl"
    evctl.stop()
    evctl.start("--alarm-command", f"cat >> {hook}")

    async def attempt(identity):
        try:
            async with websockets.connect(evctl.url(identity), subprotocols=["ocpp1.6"], open_timeout=10):
                return 101
        except websockets.exceptions.InvalidStatus as error:
            return error.response.status_code

    async def scenario():
        async with connect(evctl, "CP-1") as ws:
            cp = Station("CP-1", ws)
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            await cp.call(call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted"))
            statuses = []
            for index in range(300):
                statuses.append(await attempt(f"MADE-UP-{index}"))
            for _ in range(20):
                statuses.append(await attempt("MADE-UP-3"))
            cp.task.cancel()
            return statuses

    statuses = asyncio.run(scenario())
    assert statuses == [404] * 320
    time.sleep(1.5)  # repeats are written once a second
    active = json.loads(evctl.run("alarm", "list", "-o", "json").stdout)
    unknown = [a for a in active if a["kind"] == "not_registered"]
    assert 2 <= len(unknown) <= 101
    assert any(a["kind"] == "connector_faulted" for a in active)
    repeated = [a for a in unknown if a["station"] == "MADE-UP-3"]
    assert repeated and repeated[0]["count"] == 21
    summary = [a for a in unknown if a["station"] == "*"]
    assert summary and summary[0]["count"] == 200
    (events,) = query(evctl, "SELECT count(*) FROM events WHERE kind = 'not_registered'")[0]
    assert events <= 101
    runs = hook.read_text().splitlines() if hook.exists() else []
    assert 1 <= len(runs) <= 10
    _, err = evctl.stop()
    assert err.count("refused connection") <= 101


def test_event_retention_is_range_checked(evctl):
    for value in ("99999999999999w", "200000d", "soon"):
        result = evctl.run("serve", "--listen", "127.0.0.1:0", "--event-retention", value, check=False)
        assert result.returncode == 64, (value, result.stderr)
        assert "--event-retention" in result.stderr
