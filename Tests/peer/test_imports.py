"""Imports beside a loaded `evctl serve` (issue 11 items 11, 12, 14).

Real clients keep sending OCPP messages (which serve commits in batches) while the CLI imports;
no import may fail with "database is locked", no answer may be lost, and an import killed with
SIGKILL at any point leaves either nothing or everything.
"""
import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
import websockets

from conftest import BINARY

STATIONS = [f"LD-{i:02d}" for i in range(16)]


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def station_csv(path, suffix):
    write(path, ["identity,name,connectors,security_profile"] + [f"{s},Load {s} {suffix},2,0" for s in STATIONS])


def token_csv(path, count, suffix, users=("load@example.com",)):
    write(path, ["id_tag,user,name"] + [
        f"LT{i:06d},{users[i % len(users)]},{suffix}{i}" for i in range(count)])


class Load:
    """Stations in a background thread, each sending CALLs back to back until stopped."""

    def __init__(self, evctl, identities):
        self.evctl = evctl
        self.identities = identities
        self.sent = 0
        self.answered = 0
        self.errors = []
        self.answer_times = []
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.main()), daemon=True)

    async def station(self, identity):
        async with websockets.connect(self.evctl.url(identity), subprotocols=["ocpp1.6"],
                                      open_timeout=10) as ws:
            self.ready.set()
            n = 0
            while not self.stopping.is_set():
                n += 1
                if n % 2:
                    frame = [2, f"{identity}-{n}", "Heartbeat", {}]
                else:
                    frame = [2, f"{identity}-{n}", "MeterValues", {
                        "connectorId": 1, "meterValue": [{
                            "timestamp": "2026-12-01T10:00:00Z",
                            "sampledValue": [{"value": str(n), "measurand": "Energy.Active.Import.Register",
                                              "unit": "Wh"}]}]}]
                await ws.send(json.dumps(frame))
                self.sent += 1
                reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                if reply[0] != 3 or reply[1] != frame[1]:
                    self.errors.append(reply)
                else:
                    self.answered += 1
                    self.answer_times.append(time.monotonic())

    async def main(self):
        results = await asyncio.gather(*(self.station(i) for i in self.identities),
                                       return_exceptions=True)
        self.errors += [r for r in results if isinstance(r, Exception)]

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(20), "load stations did not connect"
        time.sleep(0.3)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(60)


def prepare(evctl, tmp_path):
    path = str(tmp_path / "stations-a.csv")
    station_csv(path, "a")
    evctl.run("station", "import", path)
    evctl.run("user", "create", "load@example.com", "--first", "Load", "--last", "Test")
    evctl.run("user", "create", "load2@example.com", "--first", "Load", "--last", "Two")


def test_imports_in_a_loop_beside_a_loaded_serve_never_fail(evctl, tmp_path):
    prepare(evctl, tmp_path)
    files = {}
    for suffix in ("a", "b"):
        files[f"stations-{suffix}"] = str(tmp_path / f"stations-{suffix}.csv")
        station_csv(files[f"stations-{suffix}"], suffix)
        files[f"small-{suffix}"] = str(tmp_path / f"small-{suffix}.csv")
        token_csv(files[f"small-{suffix}"], 200, suffix)
        files[f"large-{suffix}"] = str(tmp_path / f"large-{suffix}.csv")
        token_csv(files[f"large-{suffix}"], 1500, suffix, users=("load@example.com", "load2@example.com"))
    failures = []
    with Load(evctl, STATIONS) as load:
        for round in range(12):
            suffix = "ab"[round % 2]
            for name in (f"stations-{suffix}", f"small-{suffix}", f"large-{suffix}"):
                command = "station" if name.startswith("stations") else "token"
                result = evctl.run(command, "import", files[name], check=False)
                if result.returncode != 0:
                    failures.append((name, result.returncode, result.stderr))
        sent_during = load.answered
    assert failures == []
    assert load.errors == []
    assert sent_during > 200, "the load did not run"
    assert load.sent == load.answered
    names = {row[0] for row in evctl.sql("SELECT name FROM tokens WHERE substr(id_tag, 1, 2) = 'LT'")}
    assert len(names) == 1500 and all(n.startswith("b") for n in names)


def test_answers_flow_while_a_large_token_import_runs(evctl, tmp_path):
    prepare(evctl, tmp_path)
    path = str(tmp_path / "big.csv")
    token_csv(path, 30_000, "big")
    with Load(evctl, STATIONS[:4]) as load:
        before = load.answered
        result = evctl.run("token", "import", path, check=False)
        during = load.answered - before
    assert result.returncode == 0, result.stderr
    assert "30000 created" in result.stdout
    assert load.errors == [] and load.sent == load.answered
    assert during > 0
    assert evctl.sql("SELECT count(*) FROM tokens WHERE substr(id_tag, 1, 2) = 'LT'") == [(30_000,)]
    assert evctl.sql("SELECT count(*) FROM import_token_rows") == [(0,)]
    assert evctl.sql("SELECT count(*) FROM import_jobs") == [(0,)]


@pytest.mark.sqlite_only("holds SQLite's write lock on the file; PostgreSQL locks rows")
def test_serve_holds_answers_while_another_process_holds_the_lock(evctl):
    """serve never waits for the lock inside its loop: it retries each turn and says so once."""
    holder = sqlite3.connect(evctl.db, isolation_level=None, timeout=10)

    async def scenario():
        async with websockets.connect(evctl.url("CP-2"), subprotocols=["ocpp1.6"]) as ws:
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE stations SET description = 'held' WHERE identity = 'CP-2'")
            await ws.send(json.dumps([2, "held-1", "Heartbeat", {}]))
            try:
                await asyncio.wait_for(ws.recv(), timeout=1.5)
                answered_while_held = True
            except asyncio.TimeoutError:
                answered_while_held = False
            holder.execute("COMMIT")
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            return answered_while_held, reply

    answered_while_held, reply = asyncio.run(scenario())
    assert not answered_while_held
    assert reply[0] == 3 and reply[1] == "held-1"
    _, log = evctl.stop()
    assert "store is locked by another process; answers are held" in log
    assert "store lock regained after" in log


def import_until_killed(evctl, args, delay):
    process = subprocess.Popen([BINARY, "--db", evctl.db, *args], env=evctl.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    return process.returncode


def test_killed_imports_leave_nothing_half_written(evctl, tmp_path):
    evctl.stop()
    evctl.run("user", "create", "load@example.com", "--first", "Load", "--last", "Test")
    old, new = str(tmp_path / "old.csv"), str(tmp_path / "new.csv")
    token_csv(old, 6_000, "old")
    token_csv(new, 6_000, "new")
    evctl.run("token", "import", old)
    started = time.monotonic()
    evctl.run("token", "import", new)
    full = time.monotonic() - started
    evctl.run("token", "import", old)
    rng = random.Random(11)
    outcomes = set()
    for _ in range(8):
        import_until_killed(evctl, ["token", "import", new], rng.uniform(0.05, full * 1.1))
        # Any evctl command finishes (past the commit point) or discards the killed import.
        listed = evctl.run("token", "list", "-o", "csv").stdout.splitlines()[1:]
        names = {line.split(",")[2][:3] for line in listed if line.startswith("LT")}
        assert len(listed) >= 6_000 and len(names) == 1, names
        outcomes |= names
        assert evctl.sql("SELECT count(*) FROM import_jobs") == [(0,)]
        assert evctl.sql("SELECT count(*) FROM import_token_rows") == [(0,)]
        evctl.run("token", "import", old)
    assert evctl.run("db", "check").returncode == 0

    def stations_file(prefix):
        path = str(tmp_path / f"{prefix}.csv")
        write(path, ["identity,name,connectors"] + [f"{prefix}-{i:04d},Killed {i},2" for i in range(3_000)])
        return path

    def counts(prefix):
        # substr, not LIKE: PostgreSQL's case-insensitive collation has no LIKE.
        start = prefix + "-"
        stations = evctl.sql(
            f"SELECT count(*) FROM stations WHERE substr(identity, 1, {len(start)}) = ?", (start,))[0][0]
        connectors = evctl.sql(
            "SELECT count(*) FROM connectors c JOIN stations s ON s.id = c.station_id "
            f"WHERE substr(s.identity, 1, {len(start)}) = ?", (start,))[0][0]
        return stations, connectors

    started = time.monotonic()
    evctl.run("station", "import", stations_file("KS"))
    full = time.monotonic() - started
    complete = counts("KS")
    assert complete[0] == 3_000
    for n in range(6):
        prefix = f"K{n}"
        import_until_killed(evctl, ["station", "import", stations_file(prefix)],
                            rng.uniform(0.05, full * 1.1))
        assert counts(prefix) in ((0, 0), complete)
    assert evctl.run("db", "check").returncode == 0
