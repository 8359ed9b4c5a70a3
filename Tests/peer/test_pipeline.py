"""The command pipeline and serve's lifecycle (issue 9 items 20-23, issue 10 item 14, issue 11
items 1, 5), through the built binary and real `ocpp` charge points."""
import asyncio
import datetime
import os
import signal
import socket
import subprocess
import time

from ocpp.v16 import call

import pytest

from conftest import BINARY, Evctl
from test_charge_point import Station as PlainStation, connect, query
from test_remote_commands import cli, online


@pytest.fixture
def evctl(evctl):
    """These tests count the commands in the pipeline: serve's own GetConfiguration after a first
    boot (tested in test_protocol_items.py) is turned off so that only the CLI's commands are there."""
    evctl.stop()
    evctl.serve_args = ["--no-auto-config"]
    evctl.start()
    yield evctl


def test_command_reported_not_sent_is_never_sent(evctl):
    """Item 20: serve is busy with an earlier CALL to the station; the CLI gives up on the next
    one and says so; serve must never send it afterwards."""
    async def scenario():
        station, ws, task = await online(evctl, "CP-1", slow=6)
        first = asyncio.create_task(cli(evctl, "station", "reset", "CP-1", "--timeout", "15"))
        for _ in range(100):
            if station.received:
                break
            await asyncio.sleep(0.05)
        second = await cli(evctl, "station", "reset", "CP-1", "--hard", "--timeout", "1")
        first_result = await first
        await asyncio.sleep(1.5)
        task.cancel()
        await ws.close()
        return station, first_result, second

    station, first, second = asyncio.run(scenario())
    assert first.returncode == 0, first.stderr
    assert second.returncode == 69
    assert "not sent: queued behind 1 command to CP-1" in second.stderr + second.stdout
    assert [p.get("type") for a, p in station.received if a == "Reset"] == ["Soft"]
    assert query(evctl, "SELECT state FROM commands ORDER BY id") == [("accepted",), ("expired",)]


def test_queued_command_can_be_cancelled_and_is_never_sent(evctl):
    queued = evctl.run("station", "reset", "CP-2", "--queue", "--expires", "1h")
    command_id = query(evctl, "SELECT id FROM commands")[0][0]
    cancelled = evctl.run("command", "cancel", str(command_id))
    assert f"command/{command_id} cancelled" in cancelled.stdout
    again = evctl.run("command", "cancel", str(command_id), check=False)
    assert again.returncode == 1 and "has already finished (expired)" in again.stderr

    async def scenario():
        station, ws, task = await online(evctl, "CP-2")
        await asyncio.sleep(0.6)
        task.cancel()
        await ws.close()
        return station

    station = asyncio.run(scenario())
    assert queued.returncode == 0
    assert station.received == []
    assert query(evctl, "SELECT state, status FROM commands") == [("expired", "Cancelled")]


@pytest.mark.sqlite_only("one serve per SQLite store (ServeStore.acquireServeLock checks only on SQLite); "
                        "on PostgreSQL several serves share a database as nodes")
def test_second_serve_refuses_and_a_dead_ones_lock_is_taken_over(evctl, tmp_path):
    """Item 21."""
    other = subprocess.run(
        [BINARY, "--db", evctl.db, "serve", "--listen", "127.0.0.1:0"], capture_output=True,
        text=True, timeout=30, env=evctl.env)
    assert other.returncode == 69
    pid = evctl.process.pid
    assert f"already served by pid {pid} on {socket.gethostname()} since" in other.stderr
    # The first one still serves: its stations were not marked offline.
    async def probe():
        station, ws, task = await online(evctl, "CP-1")
        task.cancel()
        await ws.close()
    asyncio.run(probe())
    evctl.stop(kill=True)  # no clean release: the lock stays, its pid is dead
    evctl.start()
    assert evctl.process.poll() is None
    status = evctl.run("status").stdout
    assert f"running, pid {evctl.process.pid}" in status


def test_stations_are_unknown_when_serve_is_not_running(evctl):
    """Item 22."""
    async def scenario():
        station, ws, task = await online(evctl, "CP-1")
        listing = await cli(evctl, "station", "list", "-o", "table")
        status = await cli(evctl, "status")
        evctl.stop(kill=True)
        task.cancel()
        return listing, status

    listing, status = asyncio.run(scenario())
    assert "online" in listing.stdout
    assert f"SERVE     running, pid" in status.stdout and "listening on 127.0.0.1:" in status.stdout
    # A killed serve stopped writing its heartbeat and its pid is gone.
    after = evctl.run("station", "list", "-o", "table").stdout
    assert "unknown (serve not running since" in after
    assert "CP-2" in after and "never_connected" in after
    assert "not running since" in evctl.run("status").stdout
    shown = evctl.run("station", "show", "CP-1", "-o", "json").stdout
    assert '"state": "unknown"' in shown
    reset = evctl.run("station", "reset", "CP-1", check=False)
    assert reset.returncode == 69 and "'evctl serve' is not running" in reset.stderr
    assert query(evctl, "SELECT count(*) FROM commands") == [(0,)]


def test_command_retention_trims_payloads_and_deletes_old_commands(evctl):
    """Item 23."""
    evctl.stop()
    sid = query(evctl, "SELECT id FROM stations WHERE identity = 'CP-1'")[0][0]
    for created, state in [("2020-01-01T00:00:00.000Z", "accepted"),
                           ("2026-01-01T00:00:00.000Z", "accepted"),
                           ("2026-01-01T00:00:00.000Z", "queued"),
                           ("2099-01-01T00:00:00.000Z", "accepted")]:
        evctl.sql(
            """INSERT INTO commands (station_id, action, payload, state, requested_by,
               created_at, expires_at, response, status) VALUES (?, 'Reset', '{"type":"Soft"}',
               ?, 'admin', ?, '2100-01-01T00:00:00.000Z', '{"status":"Accepted"}', 'Accepted')""",
            (sid, state, created))
    evctl.start("--command-retention", "1000d", "--command-payload-retention", "30d")

    def stamp(value):
        # SQLite keeps the text; PostgreSQL gives a datetime (timestamptz).
        if isinstance(value, str):
            return value
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
            f"{value.microsecond // 1000:03d}Z"

    for _ in range(100):
        rows = [(stamp(row[0]), *row[1:]) for row in query(
            evctl, "SELECT created_at, payload, response, status, requested_by FROM commands ORDER BY id")]
        if len(rows) == 3 and rows[0][1] == "":
            break
        time.sleep(0.1)
    assert rows == [
        ("2026-01-01T00:00:00.000Z", "", None, "Accepted", "admin"),
        ("2026-01-01T00:00:00.000Z", '{"type":"Soft"}', '{"status":"Accepted"}', "Accepted", "admin"),
        ("2099-01-01T00:00:00.000Z", '{"type":"Soft"}', '{"status":"Accepted"}', "Accepted", "admin"),
    ]
    shown = evctl.run("command", "list", "-o", "json").stdout
    assert '"payload_trimmed": true' in shown
    bad = evctl.run("serve", "--command-retention", "1d", "--command-payload-retention", "2d", check=False)
    assert bad.returncode == 64


def test_deleting_a_connected_station_does_not_stall_serve(evctl):
    """Issue 11 item 1: the deleted station's connection closes, other stations keep working,
    and SIGTERM still stops serve."""
    async def scenario():
        neighbour_ws = await connect(evctl, "CP-1")
        neighbour = PlainStation("CP-1", neighbour_ws)
        async with connect(evctl, "CP-2") as doomed_ws:
            doomed = PlainStation("CP-2", doomed_ws)
            await doomed.call(call.BootNotification(charge_point_vendor="T", charge_point_model="M"))
            deleted = await cli(evctl, "station", "delete", "CP-2", "--yes")
            if deleted.returncode != 0:
                deleted = await cli(evctl, "station", "delete", "CP-2")
            assert deleted.returncode == 0, deleted.stderr
            # A frame from the deleted station before serve notices must not poison the batch.
            try:
                await asyncio.wait_for(
                    doomed.cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                           status="Available")), timeout=3)
            except Exception:
                pass
            try:
                await asyncio.wait_for(doomed_ws.wait_closed(), timeout=5)
            except asyncio.TimeoutError:
                pass
            closed = doomed_ws.close_code
            doomed.close()
        # The station that stayed connected throughout is still served.
        answers = [await neighbour.call(call.Heartbeat())]
        neighbour.close()
        await neighbour_ws.close()
        for _ in range(3):
            async with connect(evctl, "CP-1") as ws:
                station = PlainStation("CP-1", ws)
                answers.append(await station.call(call.Heartbeat()))
                station.close()
        return closed, answers

    closed, answers = asyncio.run(scenario())
    assert closed == 1008
    assert len(answers) == 4 and all(a.current_time for a in answers)
    code, err = evctl.stop()
    assert code == 0
    assert err.count("\n") < 200, err[-2000:]


def test_transaction_ids_are_never_reused_after_a_delete(evctl):
    """Issue 11 item 5."""
    async def start(identity, minute):
        async with connect(evctl, identity) as ws:
            station = PlainStation(identity, ws)
            answer = await station.call(call.StartTransaction(
                connector_id=1, id_tag="GOOD1", meter_start=0, timestamp=f"2026-11-21T11:{minute:02}:00Z"))
            station.close()
            return answer.transaction_id

    first = asyncio.run(start("CP-1", 0))
    second = asyncio.run(start("CP-2", 1))
    assert second == first + 1
    evctl.stop()
    deleted = evctl.run("station", "delete", "CP-2", "--yes", check=False)
    if deleted.returncode != 0:
        evctl.run("station", "delete", "CP-2")
    assert query(evctl, "SELECT count(*) FROM transactions WHERE id = ?", second) == [(0,)]
    evctl.start()
    third = asyncio.run(start("CP-1", 2))
    assert third == second + 1


def test_fan_out_prints_rows_progress_and_summary(evctl):
    """Issue 10 item 14: rows as each station finishes, a summary, failures named on stderr."""
    evctl.run("station", "create", "CP-3", "--name", "Third", "--group", "HQ", "--security-profile", "0")

    async def scenario():
        fast, ws1, t1 = await online(evctl, "CP-1")
        slow, ws3, t3 = await online(evctl, "CP-3", slow=3)
        process = await asyncio.create_subprocess_exec(
            BINARY, "--db", evctl.db, "station", "reset", "--group", "HQ", "--timeout", "10",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=evctl.env)
        started = time.time()
        first_lines = []
        while len(first_lines) < 2:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=15)
            first_lines.append((time.time() - started, line.decode()))
        rest, err = await process.communicate()
        for task, ws in ((t1, ws1), (t3, ws3)):
            task.cancel()
            await ws.close()
        return first_lines, rest.decode(), err.decode(), process.returncode

    first_lines, rest, err, code = asyncio.run(scenario())
    # CP-2 is offline and CP-1 answers at once: both rows arrive before the slow CP-3 answers.
    assert sorted(l.split("\t")[0] for _, l in first_lines) == ["CP-1", "CP-2"]
    assert rest.startswith("CP-3\tReset\taccepted")
    assert code == 1
    assert "Reset: 3 stations, 2 ok, 1 failed" in err
    assert "error: Reset failed on 1 of 3 stations: CP-2" in err
    assert "done," not in err  # no progress line off a terminal


def test_fan_out_shows_a_progress_line_on_a_terminal(evctl):
    """Issue 10 item 14: the progress line goes to stderr only when stderr is a terminal."""
    import pty
    evctl.run("station", "create", "CP-3", "--name", "Third", "--group", "HQ", "--security-profile", "0")
    master, slave = pty.openpty()

    async def scenario():
        one, ws1, t1 = await online(evctl, "CP-1")
        three, ws3, t3 = await online(evctl, "CP-3", slow=1)
        process = await asyncio.create_subprocess_exec(
            BINARY, "--db", evctl.db, "station", "reset", "--group", "HQ", "--timeout", "10",
            stdout=asyncio.subprocess.PIPE, stderr=slave, env=evctl.env)
        out, _ = await process.communicate()
        for task, ws in ((t1, ws1), (t3, ws3)):
            task.cancel()
            await ws.close()
        return out.decode(), process.returncode

    try:
        out, code = asyncio.run(scenario())
        os.close(slave)
        terminal = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(master)
    text = terminal.decode()
    assert code == 1
    assert "2/3 done, 1 failed" in text
    assert "Reset: 3 stations, 2 ok, 1 failed" in text
    assert "done," not in out and len(out.strip().splitlines()) == 3


def test_serve_never_sends_a_command_that_expired_while_waiting_for_the_station(evctl):
    """Item 20, serve's side: a queued command that expires while the station is still busy with
    an earlier CALL is expired by serve, not sent."""
    async def scenario():
        station, ws, task = await online(evctl, "CP-1", slow=5)
        first = asyncio.create_task(cli(evctl, "station", "reset", "CP-1", "--timeout", "15"))
        for _ in range(100):
            if station.received:
                break
            await asyncio.sleep(0.05)
        queued = await cli(evctl, "station", "reset", "CP-1", "--hard", "--queue", "--expires", "2s")
        first_result = await first
        await asyncio.sleep(1.0)
        task.cancel()
        await ws.close()
        return station, first_result, queued

    station, first, queued = asyncio.run(scenario())
    assert queued.returncode == 0, queued.stderr
    assert first.returncode == 0, first.stderr
    assert [p.get("type") for a, p in station.received if a == "Reset"] == ["Soft"]
    rows = query(evctl, "SELECT state, error FROM commands ORDER BY id")
    assert rows[0] == ("accepted", None)
    assert rows[1][0] == "expired" and "queued behind earlier commands" in rows[1][1]
