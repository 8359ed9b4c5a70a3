"""serve's log for journald: sd-daemon priority prefixes, --log-level, key=value fields."""
import asyncio
import os
import re
import subprocess

import pytest
import websockets
from ocpp.v16 import call

from conftest import BINARY, free_port
from test_charge_point import Station, connect


def start_with_stderr(evctl, env_extra, *extra):
    """Starts serve with stderr on a pipe; returns the read end. JOURNAL_STREAM may name it."""
    read_fd, write_fd = os.pipe()
    info = os.fstat(write_fd)
    env = dict(evctl.env)
    for key, value in env_extra.items():
        env[key] = value.format(journal=f"{info.st_dev}:{info.st_ino}")
    evctl.port = free_port()
    evctl.process = subprocess.Popen(
        [BINARY, "--db", evctl.db, "serve", "--listen", f"127.0.0.1:{evctl.port}", *extra],
        stdout=subprocess.DEVNULL, stderr=write_fd, env=env)
    os.close(write_fd)
    import socket
    import time
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", evctl.port), timeout=0.2):
                return read_fd
        except OSError:
            time.sleep(0.05)
    raise AssertionError("evctl serve did not start")


def stop_and_read(evctl, read_fd):
    evctl.process.terminate()
    evctl.process.wait(timeout=60)
    evctl.process = None
    with os.fdopen(read_fd, encoding="utf-8") as stream:
        return stream.read()


async def boot_and_leave(evctl):
    async with connect(evctl, "CP-1") as ws:
        station = Station("CP-1", ws)
        await station.call(call.BootNotification(
            charge_point_vendor="Alfen", charge_point_model="Eve Single", firmware_version="6.1.0"))
        station.close()
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with connect(evctl, "NOPE"):
            pass
    await asyncio.sleep(0.3)


PEER = r"127\.0\.0\.1:\d+"


def test_journal_gets_priorities_and_fields(evctl):
    evctl.stop()
    read_fd = start_with_stderr(evctl, {"JOURNAL_STREAM": "{journal}"}, "--log-level", "debug")
    asyncio.run(boot_and_leave(evctl))
    log = stop_and_read(evctl, read_fd)
    lines = log.splitlines()
    assert lines[0].startswith("<6>evctl: listening on ws://127.0.0.1:"), log
    assert any(re.fullmatch(rf"<6>evctl: info: station connected identity=CP-1 peer={PEER}", l)
               for l in lines), log
    assert any(re.fullmatch(
        rf'<6>evctl: info: station booted identity=CP-1 peer={PEER} vendor=Alfen '
        rf'model="Eve Single" firmware=6\.1\.0 status=Accepted', l) for l in lines), log
    assert any(re.fullmatch(rf'<7>evctl: debug: call identity=CP-1 peer={PEER} action=BootNotification id=\S+', l)
               for l in lines), log
    assert any(re.fullmatch(rf'<6>evctl: info: station disconnected identity=CP-1 peer={PEER} reason=".+"', l)
               for l in lines), log
    assert any(re.fullmatch(rf'<4>evctl: warning: connection refused peer={PEER} reason=".*NOPE.*"', l)
               for l in lines), log
    assert lines[-1] == "<6>evctl: stopped", log
    assert all(re.match(r"<[3467]>evctl: ", l) for l in lines), log


def test_plain_stderr_and_log_level(evctl):
    evctl.stop()
    # JOURNAL_STREAM left over from a parent whose stderr was the journal: not ours, no prefixes.
    read_fd = start_with_stderr(evctl, {"JOURNAL_STREAM": "1:2"}, "--log-level", "warning")
    asyncio.run(boot_and_leave(evctl))
    log = stop_and_read(evctl, read_fd)
    assert "station connected" not in log and "debug:" not in log, log
    assert re.search(rf"^evctl: warning: connection refused peer={PEER} ", log, re.M), log
    assert not re.search(r"^<\d>", log, re.M), log
    assert "evctl: stopped" in log
