"""Acknowledged means durable: 20 `kill -9` restarts of serve while 200 stations run sessions.

Every StartTransaction id, StopTransaction and MeterValues that a station got an answer for must
be in the store exactly once afterwards, no transaction id may be given twice, and `db check`
must be clean. Kill points are random (seeded), mid-load.
"""
import asyncio
import collections
import json
import random
import time

import websockets

STATIONS = 200
CYCLES = 20


class Ledger:
    """What the stations were told: acknowledged messages only."""

    def __init__(self):
        self.counter = 0
        self.starts = []   # (identity, transaction id, meter_start)
        self.meters = []   # (identity, transaction id, value)
        self.stops = []    # (identity, transaction id, meter_stop)

    def unique(self):
        self.counter += 1
        return self.counter


async def station(port, identity, cycle, ledger):
    message = 0
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ocpp/{identity}", subprotocols=["ocpp1.6"],
                                      open_timeout=15, ping_interval=None, close_timeout=1) as ws:
            async def rpc(action, payload):
                nonlocal message
                message += 1
                mid = f"{cycle}-{message}"
                await ws.send(json.dumps([2, mid, action, payload]))
                while True:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
                    if reply[1] == mid:
                        assert reply[0] == 3, reply
                        return reply[2]

            await rpc("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
            while True:
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                start = ledger.unique()
                answer = await rpc("StartTransaction", {
                    "connectorId": 1, "idTag": f"T-{identity}", "meterStart": start, "timestamp": now})
                tx = answer["transactionId"]
                ledger.starts.append((identity, tx, start))
                for _ in range(2):
                    value = ledger.unique()
                    await rpc("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
                        "timestamp": now, "sampledValue": [{
                            "value": str(value), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
                    ledger.meters.append((identity, tx, value))
                stop = ledger.unique()
                await rpc("StopTransaction", {"transactionId": tx, "meterStop": stop, "timestamp": now,
                                              "reason": "Local"})
                ledger.stops.append((identity, tx, stop))
    except (websockets.exceptions.ConnectionClosed, websockets.exceptions.InvalidHandshake, OSError,
            asyncio.TimeoutError, EOFError):
        pass  # serve was killed: whatever was not answered does not count


async def load(evctl, identities, cycle, ledger, kill_after):
    tasks = [asyncio.create_task(station(evctl.port, i, cycle, ledger)) for i in identities]
    await asyncio.sleep(kill_after)
    evctl.process.kill()  # SIGKILL, mid-batch
    await asyncio.gather(*tasks)


def test_kill_9_restarts_under_load_lose_no_acknowledged_message(evctl, tmp_path):
    evctl.stop()
    identities = [f"KD-{n:03d}" for n in range(STATIONS)]
    stations = tmp_path / "stations.csv"
    stations.write_text("identity,name,group,connectors,security_profile\n"
                        + "".join(f"{i},{i},HQ,1,0\n" for i in identities))
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("id_tag,user\n" + "".join(f"T-{i},eva@example.com\n" for i in identities))
    evctl.run("station", "import", str(stations))
    evctl.run("token", "import", str(tokens))
    rng = random.Random(19)
    ledger = Ledger()
    for cycle in range(CYCLES):
        evctl.start()
        asyncio.run(load(evctl, identities, cycle, ledger, kill_after=rng.uniform(1.2, 2.4)))
        evctl.process.communicate(timeout=60)
        evctl.process = None

    assert len(ledger.starts) > STATIONS and len(ledger.stops) > STATIONS, "the load did not run"
    ids = dict(evctl.sql("SELECT identity, id FROM stations"))
    transactions = {row[0]: row[1:] for row in evctl.sql(
        "SELECT id, station_id, meter_start, meter_stop FROM transactions")}
    values = collections.Counter(evctl.sql("SELECT station_id, transaction_id, value FROM meter_values"))
    starts = collections.Counter(r for (r,) in evctl.sql("SELECT meter_start FROM transactions"))
    given = [tx for _, tx, _ in ledger.starts]
    assert len(given) == len(set(given)), "a transaction id was given twice"
    for identity, tx, meter_start in ledger.starts:
        assert transactions.get(tx, (None, None))[:2] == (ids[identity], meter_start), (identity, tx)
        assert starts[meter_start] == 1
    for identity, tx, meter_stop in ledger.stops:
        assert transactions[tx][2] == meter_stop, (identity, tx)
    for identity, tx, value in ledger.meters:
        assert values[(ids[identity], tx, str(value))] == 1, (identity, tx, value)
    check = evctl.run("db", "check", check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"{CYCLES} kill -9 restarts: {len(ledger.starts)} starts, {len(ledger.meters)} meter values, "
          f"{len(ledger.stops)} stops acknowledged, none lost")
