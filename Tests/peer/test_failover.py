"""Issue 14's failover test: PostgreSQL, HAProxy (Examples/ha/haproxy.cfg) and three serve nodes
on loopback; 300 charge points run sessions through HAProxy; one node gets `kill -9` under load.
Its stations reconnect through HAProxy to the other two and carry on. Afterwards every
transaction id and every acknowledged StartTransaction, MeterValues and StopTransaction is in the
database exactly once, and commands sent during the failover were delivered once or reported as
outcome-unknown (or refused as offline, i.e. never sent)."""
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BINARY, ROOT  # noqa: E402
from ha_harness import HA, Ledger, Station  # noqa: E402

STATIONS = 300

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None,
                                reason="haproxy is not installed (Tests/run.sh installs the Debian package)")


async def command(ha, identity):
    """`evctl station trigger ID Heartbeat` from the CLI, as an operator would during the failover."""
    process = await asyncio.create_subprocess_exec(
        BINARY, "--db", ha.url, "station", "trigger", identity, "Heartbeat", "--timeout", "15",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ha.env)
    out, err = await process.communicate()
    return identity, process.returncode, out.decode(), err.decode()


async def scenario(ha, identities, ledger):
    stop = asyncio.Event()
    tasks = [asyncio.create_task(Station(i, ha.front, ledger).run(stop)) for i in identities]
    deadline = time.time() + 120
    while sum(1 for i in identities if ledger.connected_at[i]) < len(identities):
        assert time.time() < deadline, "not every station came online through HAProxy"
        await asyncio.sleep(0.2)
    await asyncio.sleep(3)  # sessions under way on all three nodes
    # The node holding the most stations.
    held = {n: ha.connections(n) for n in ha.nodes}
    victim = max(held, key=held.get)
    killed_at = time.time()
    ha.kill_node(victim)
    # Commands to a sample of stations while their node is gone and they come back.
    sample = identities[::15]
    commands = await asyncio.gather(*(command(ha, i) for i in sample))
    # Every station whose connection dropped must be back on a node that lives.
    def dropped():
        return [i for i in identities if any(t >= killed_at for t in ledger.dropped_at[i])]
    deadline = time.time() + 60
    while len(dropped()) < held[victim] and time.time() < deadline:
        await asyncio.sleep(0.1)
    moved = dropped()
    deadline = time.time() + 120
    while any(not any(t > killed_at for t in ledger.connected_at[i]) for i in moved):
        assert time.time() < deadline, "stations of the killed node did not come back"
        await asyncio.sleep(0.1)
    back = max((min(t for t in ledger.connected_at[i] if t > killed_at) for i in moved), default=killed_at)
    await asyncio.sleep(3)  # and carry on with their sessions
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    return held, victim, moved, back - killed_at, commands


def test_kill_9_of_one_node_behind_haproxy_loses_nothing_and_the_stations_carry_on(tmp_path):
    identities = [f"HA-{n:03d}" for n in range(STATIONS)]
    ha = HA(str(tmp_path))
    try:
        ha.start(identities)
        ledger = Ledger()
        held, victim, moved, seconds, commands = asyncio.run(scenario(ha, identities, ledger))
        assert all(p.poll() is None for n, (_, p) in ha.nodes.items() if n != victim), "a surviving node died"
        # Every station the killed node held lost its connection (and came back, see scenario()).
        assert held[victim] >= 1 and len(moved) >= held[victim], (held, victim, len(moved))
        moved_after = {i: [t for t in ledger.starts if t[0] == i] for i in moved}

        ids = dict(ha.sql("SELECT identity, id FROM stations"))
        transactions = {r[0]: tuple(r[1:]) for r in ha.sql(
            "SELECT id, station_id, meter_start, coalesce(meter_stop::text, '') FROM transactions")}
        values = collections.Counter(tuple(r) for r in ha.sql(
            "SELECT station_id, transaction_id, value FROM meter_values"))
        starts = collections.Counter(r[0] for r in ha.sql("SELECT meter_start FROM transactions"))
    finally:
        ha.stop()

    given = [tx for _, tx, _ in ledger.starts]
    assert len(given) == len(set(given)), "a transaction id was given twice (across nodes)"
    for identity, tx, meter_start in ledger.starts:
        assert transactions.get(str(tx), (None, None))[:2] == (ids[identity], str(meter_start)), (identity, tx)
        assert starts[str(meter_start)] == 1, (identity, tx, meter_start)
    for identity, tx, meter_stop in ledger.stops:
        assert transactions[str(tx)][2] == str(meter_stop), (identity, tx)
    for identity, tx, value in ledger.meters:
        assert values[(ids[identity], str(tx), str(value))] == 1, (identity, tx, value)
    # The moved stations carried on: sessions acknowledged after the failover too.
    assert all(len(moved_after[i]) >= 2 for i in moved), "a moved station ran no session after reconnecting"

    # Commands during the failover: accepted means the station got it exactly once; outcome unknown
    # (75) at most once; offline (69) never.
    outcomes = collections.Counter()
    for identity, code, out, err in commands:
        got = [a for a, p in ledger.received[identity] if a == "TriggerMessage"]
        if code == 0:
            assert len(got) == 1, (identity, out, err, got)
            outcomes["delivered"] += 1
        elif code == 75:
            assert "outcome unknown" in err and len(got) <= 1, (identity, err, got)
            outcomes["outcome unknown"] += 1
        elif code == 69:
            assert "offline" in err and got == [], (identity, err, got)
            outcomes["offline"] += 1
        else:
            raise AssertionError(f"station trigger {identity}: exit {code}: {err}")
    assert outcomes["delivered"] >= 1, outcomes
    print(f"failover: stations per node {held}, node {victim} killed, {len(moved)} stations moved, the last back {seconds:.1f} s after kill -9; "
          f"{len(ledger.starts)} starts, {len(ledger.meters)} meter values, {len(ledger.stops)} stops "
          f"acknowledged, none lost; commands {dict(outcomes)}")


def free_port_block(size=10):
    """A base port with base..base+size-1 all free (Examples/ha/ha.sh uses base+1..+3 and +9)."""
    import random
    import socket
    low, _ = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    for _ in range(200):
        # Below the ephemeral range: there a block of 10 may be rare while others' tests hold
        # thousands of client connections.
        base = random.randrange(10000, max(10001, low - size))
        try:
            for offset in range(size):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
    raise AssertionError("no free block of ports")


async def boot_through(port, identity):
    import json
    import websockets
    async with websockets.connect(f"ws://127.0.0.1:{port}/ocpp/{identity}", subprotocols=["ocpp1.6"],
                                  open_timeout=15) as ws:
        await ws.send(json.dumps([2, "1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
            if frame[0] == 3 and frame[1] == "1":
                return frame[2]["status"]


def test_examples_ha_script_starts_all_fails_a_node_over_and_stops(tmp_path):
    # Not under tmp_path: PostgreSQL runs as `postgres` under root and must enter the folder, and a
    # socket path is limited to ~107 bytes.
    import pathlib
    import uuid
    state = pathlib.Path(f"/tmp/evha-{uuid.uuid4().hex[:8]}")
    env = dict(os.environ, EVCTL=BINARY, EVCTL_HA_DIR=str(state), EVCTL_HA_PORT=str(free_port_block()),
               XDG_CONFIG_HOME=str(tmp_path / "config"))

    def ha_sh(*args, check=True):
        result = subprocess.run(["bash", os.path.join(ROOT, "Examples", "ha", "ha.sh"), *args],
                                capture_output=True, text=True, timeout=180, env=env)
        assert not check or result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def haproxy_sees(node, state_word, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if f"haproxy sees {node}: {state_word}" in ha_sh("status").stdout:
                return True
            time.sleep(0.3)
        return False

    try:
        started = ha_sh("start")
        assert "haproxy: stations connect to ws://127.0.0.1:" in started.stdout, started.stdout
        url = ha_sh("url").stdout.strip()
        assert url.startswith("postgresql://evctl@/evctl?host=")
        created = subprocess.run([BINARY, "--db", url, "station", "create", "CP-HA", "--name", "Demo",
                                  "--security-profile", "0"],
                                 capture_output=True, text=True, timeout=60, env=env)
        assert created.returncode == 0, created.stderr
        for n in (1, 2, 3):
            assert haproxy_sees(f"node{n}", "UP"), ha_sh("status").stdout
        assert asyncio.run(boot_through(int(env["EVCTL_HA_PORT"]), "CP-HA")) == "Accepted"
        assert "node2 killed (kill -9)" in ha_sh("kill", "2").stdout
        assert haproxy_sees("node2", "DOWN"), ha_sh("status").stdout
        assert "node2: down" in ha_sh("status").stdout
        ha_sh("revive", "2")
        assert haproxy_sees("node2", "UP"), ha_sh("status").stdout
        assert ha_sh("kill", "4", check=False).returncode == 64
    finally:
        stopped = ha_sh("stop", check=False)
    assert stopped.stdout.strip().endswith("stopped") and not state.exists(), stopped.stdout + stopped.stderr
