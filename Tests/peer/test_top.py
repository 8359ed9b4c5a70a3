"""`evctl top` read off a real terminal (tmux), and `evctl status --watch` (issue 16 item 1)."""
import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid

import pytest
from ocpp.v16 import call

from conftest import BINARY
from test_remote_commands import cli, online

TMUX = shutil.which("tmux")


class Screen:
    """A tmux server of its own running one command in a window of a given size."""

    def __init__(self, evctl, command, columns=120, rows=32):
        self.socket = "evctl-top-" + uuid.uuid4().hex[:8]
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in
                       [("EVCTL_DB", evctl.db), ("XDG_CONFIG_HOME", evctl.env["XDG_CONFIG_HOME"]),
                        ("TERM", "xterm-256color"), ("EVCTL_TZ", "UTC")])
        script = f"env {env} {command}; echo EXIT=$?; stty -a; sleep 60"
        self.tmux("new-session", "-d", "-s", "top", "-x", str(columns), "-y", str(rows), "sh", "-c", script)

    def tmux(self, *args):
        return subprocess.run([TMUX, "-u", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=60)

    def text(self):
        return self.tmux("capture-pane", "-p", "-t", "top").stdout

    def lines(self):
        return self.text().split("\n")

    def send(self, *keys):
        self.tmux("send-keys", "-t", "top", *keys)

    def wait(self, predicate, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.text()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError("the screen never showed what was expected:\n" + self.text())

    def pane_pid(self):
        return int(self.tmux("list-panes", "-t", "top", "-F", "#{pane_pid}").stdout.split()[0])

    def close(self):
        self.tmux("kill-server")


def row(screen, identity):
    return next(line for line in screen.split("\n") if re.match(rf"^[> ] {re.escape(identity)}\s", line))


def restored(screen):
    """The shell after top: an exit status and a terminal back in canonical mode with echo."""
    match = re.search(r"EXIT=(\d+)", screen)
    settings = screen[match.end():] if match else ""
    return match and re.search(r"(^|\s)icanon(\s|$)", settings) and re.search(r"(^|\s)echo(\s|$)", settings)


def child_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = f.read().split()
    return int(children[0]) if children else None


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_top_shows_the_network_live_answers_keys_resizes_and_restores_the_terminal(evctl):
    evctl.run("group", "capacity", "set", "HQ", "--max-current", "16")
    evctl.run("group", "load", "report", "HQ", "--l1", "0.5", "--l2", "0.5", "--l3", "1", "--valid-for", "1h")
    screen = None

    async def scenario():
        nonlocal screen
        cp1, ws1, t1 = await online(evctl, "CP-1")
        cp2, ws2, t2 = await online(evctl, "CP-2")
        await cp2.call(call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted"))
        await cp1.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        start = await cp1.call(call.StartTransaction(
            connector_id=1, id_tag="GOOD1", meter_start=1000, timestamp="2026-12-03T10:00:00Z"))
        await cp1.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[{
            "timestamp": "2026-12-03T10:30:00Z", "sampledValue": [
                {"value": "2500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "10.5", "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]))
        screen = Screen(evctl, shlex.quote(BINARY) + " top")
        first = await asyncio.to_thread(screen.wait, lambda s: "CP-1" in s and "1 session" in s and "7.4 kW" in s)
        colours = screen.tmux("capture-pane", "-e", "-p", "-t", "top").stdout
        # Heartbeats make messages: serve's line shows a rate once two refreshes have passed.
        for _ in range(3):
            await cp1.call(call.Heartbeat())
            await asyncio.sleep(0.4)
        await asyncio.to_thread(screen.wait, lambda s: re.search(r"[0-9.]+ msg/s", s) is not None)
        # The view moves by itself: CP-2's fault clears without a key pressed.
        await cp2.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        await asyncio.to_thread(screen.wait, lambda s: "online" in row(s, "CP-2"))
        for task in (t1, t2):
            task.cancel()
        return first, colours, ws1, ws2

    try:
        first, colours, ws1, ws2 = asyncio.run(scenario())
        # The portals' colours, with the state in words: charging blue, faulted red, never connected grey.
        assert "\x1b[34mcharging" in colours and "\x1b[31mfaulted" in colours, repr(colours)
        assert "\x1b[90mnever connected" in colours
        cp1 = row(first, "CP-1")
        assert "charging" in cp1 and "1:Charging" in cp1 and "7.4 kW" in cp1 and "1.5 kWh" in cp1, cp1
        assert "faulted" in row(first, "CP-2") and "1:Faulted" in row(first, "CP-2")
        assert "never connected" in row(first, "CP-SEC")
        assert re.search(r"stations\s+3\s+faulted 1\s+charging 1\s+online 0\s+offline 0\s+never connected 1", first), first
        assert "HQ: limit 16 A, allocated 15.5 A, measured 10.5 A, 1 session, other load 1 A" in first, first
        assert re.search(r"alarms\s+\d+ active", first)
        assert re.search(r"serve\s+running pid \d+ on .*up since .*, 2 connected", first), first
        assert any(line.strip().startswith("STATION ") and "LAST SEEN" in line for line in first.split("\n"))
        assert "sort identity | filter all | 1-3 of 3" in first
        # Keys: f filters by state (all → faulted → charging), s changes the order.
        screen.send("f")
        screen.wait(lambda s: "filter faulted" in s and "no faulted stations" in s)
        screen.send("f")
        charging = screen.wait(lambda s: "filter charging | 1-1 of 1" in s)
        assert "CP-2" not in charging and "CP-1" in charging
        for _ in range(len(["faulted", "charging", "online", "unknown", "offline", "never_connected"]) - 1):
            screen.send("f")
        screen.wait(lambda s: "filter all | 1-3 of 3" in s)
        screen.send("s")
        by_state = screen.wait(lambda s: "sort state" in s)
        order = [line.split()[1] if line.startswith(">") else line.split()[0]
                 for line in by_state.split("\n") if re.match(r"^[> ] CP-", line)]
        assert order == ["CP-1", "CP-2", "CP-SEC"], order  # charging, online, never connected
        # Select CP-2 and open its last events.
        screen.send("Down")
        screen.wait(lambda s: row(s, "CP-2").startswith(">"))
        screen.send("Enter")
        events = screen.wait(lambda s: "last events of CP-2" in s and "Faulted → Available" in s)
        assert "connected" in events
        screen.send("Escape")
        screen.wait(lambda s: "last events of" not in s)
        # A smaller window: everything is redrawn to fit, the footer on the last line.
        screen.tmux("resize-window", "-t", "top", "-x", "72", "-y", "20")
        small = screen.wait(lambda s: len(s.rstrip("\n").split("\n")) <= 20 and "sort state" in s.rstrip("\n").split("\n")[-1])
        assert all(len(line) <= 72 for line in small.split("\n")), small
        screen.send("q")
        done = screen.wait(lambda s: "EXIT=" in s and "icanon" in s)
        assert "EXIT=0" in done and restored(done), done
    finally:
        if screen:
            screen.close()


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_top_restores_the_terminal_when_a_signal_stops_it(evctl):
    screen = Screen(evctl, shlex.quote(BINARY) + " top")
    try:
        screen.wait(lambda s: "CP-1" in s and "sort identity" in s)
        pid = child_of(screen.pane_pid())
        os.kill(pid, 15)
        done = screen.wait(lambda s: "EXIT=" in s and "icanon" in s)
        assert "EXIT=143" in done and restored(done), done
        # A user quitting top is not an error: no "error: the command failed" line.
        assert "error:" not in done and "command failed" not in done, done
    finally:
        screen.close()


def test_top_refuses_without_a_terminal_and_status_watch_repeats_the_snapshot(evctl):
    refused = evctl.run("top", check=False)
    assert refused.returncode == 64
    assert "'evctl top' needs a terminal" in refused.stderr and "evctl status --watch" in refused.stderr
    watched = evctl.run("status", "--watch", "--interval", "1s", "--count", "2", "-o", "json")
    snapshots = [json.loads(line) for line in watched.stdout.strip().split("\n")]
    assert len(snapshots) == 2 and all(s["stations"]["total"] == 3 for s in snapshots)
    assert snapshots[0]["at"] < snapshots[1]["at"]
    table = evctl.run("status", "--watch", "--interval", "1s", "--count", "2").stdout
    assert table.count("AT  ") == 2 and table.count("STATIONS  3 total") == 2
    assert evctl.run("status", "--count", "2", check=False).returncode == 64
    assert evctl.run("status", "--watch", "--interval", "0s", "--count", "1", check=False).returncode == 64


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_top_at_twenty_thousand_stations(evctl, tmp_path):
    rows = ["identity,name,group"] + [f"BULK-{i:05d},Bulk {i},HQ" for i in range(20_000)]
    (tmp_path / "bulk.csv").write_text("\n".join(rows) + "\n")
    evctl.run("station", "import", str(tmp_path / "bulk.csv"))
    screen = Screen(evctl, shlex.quote(BINARY) + " top --group HQ", columns=100, rows=30)
    try:
        first = screen.wait(lambda s: "of 20002" in s)
        assert "BULK-00000" in first and re.search(r"stations\s+20002\s", first)
        clock = re.search(r"\d\d:\d\d:\d\d\+00:00", first).group(0)
        # It keeps refreshing: the clock in the title moves on.
        screen.wait(lambda s: re.search(r"\d\d:\d\d:\d\d\+00:00", s).group(0) != clock)
        # End jumps to the last page: one page read, not all 20,000 rows.
        screen.send("End")
        last = screen.wait(lambda s: "-20002 of 20002" in s and "CP-2" in s)
        assert row(last, "CP-2").startswith(">") and "BULK-19999" in last
        screen.send("f")
        screen.send("f")
        screen.wait(lambda s: "filter charging | 0-0 of 0" in s)
        screen.send("q")
        assert "EXIT=0" in screen.wait(lambda s: "EXIT=" in s and "icanon" in s)
    finally:
        screen.close()
