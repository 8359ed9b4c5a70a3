"""serve at its file-descriptor limit: no spinning, bounded log, one alarm, and it recovers."""
import asyncio
import json
import os
import shlex
import socket
import subprocess
import time

import websockets

from conftest import BINARY, free_port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_file_descriptors_serve_does_not_spin_and_recovers(evctl, tmp_path):
    evctl.stop()
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    command = " ".join(shlex.quote(a) for a in [
        BINARY, "--db", evctl.db, "serve", "--listen", f"127.0.0.1:{port}", "--no-message-log"])
    process = subprocess.Popen(["bash", "-c", f"ulimit -n 64; exec {command}"],
                               stdout=subprocess.DEVNULL, stderr=log, env=evctl.env)
    held = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(120):  # far more than 64 descriptors' worth
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)
        before = cpu_seconds(process.pid)
        time.sleep(4)
        spent = cpu_seconds(process.pid) - before
        assert spent < 1.0, f"serve used {spent:.2f} s of CPU in 4 s while out of descriptors"
        assert process.poll() is None
        log.flush()
        text = open(tmp_path / "serve.log").read()
        warnings = [l for l in text.splitlines() if "out of file descriptors" in l]
        assert 1 <= len(warnings) <= 3, text[-2000:]
        assert "refused" in warnings[0]
        alarms = evctl.run("--json", "alarm", "list").stdout
        assert [a["kind"] for a in json.loads(alarms)].count("resource_exhausted") == 1
        for s in held:
            s.close()
        held = []
        time.sleep(0.3)

        async def station():
            async with websockets.connect(f"ws://127.0.0.1:{port}/ocpp/CP-1", subprotocols=["ocpp1.6"],
                                          open_timeout=10) as ws:
                await ws.send(json.dumps([2, "1", "Heartbeat", {}]))
                return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))

        reply = asyncio.run(station())
        assert reply[0] == 3 and "currentTime" in reply[2]
    finally:
        for s in held:
            s.close()
        process.terminate()
        process.wait(timeout=60)
        log.close()
