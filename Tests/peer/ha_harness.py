"""The HA setup of Examples/ha on loopback, for Tests/peer/test_failover.py and
Benchmarks/failover.py: one throwaway PostgreSQL cluster (pgcluster.py), three `evctl serve`
nodes on one database, HAProxy with Examples/ha/haproxy.cfg in front; and charge points that run
sessions through HAProxy, reconnect when their node goes away, and keep a ledger of what was
acknowledged."""
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import time

import websockets

from conftest import BINARY, ROOT, free_port
from pgcluster import Cluster

HAPROXY_CFG = os.path.join(ROOT, "Examples", "ha", "haproxy.cfg")


def wait_for_port(port, process, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited {process.returncode}: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port}")


class HA:
    """PostgreSQL + three serve nodes + HAProxy. `start()` then `stop()`."""

    def __init__(self, workdir, nodes=3):
        self.workdir = workdir
        self.cluster = Cluster()
        self.node_count = nodes
        self.nodes = {}  # number -> (port, Popen)
        self.haproxy = None
        self.front = None
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(workdir, "config"))

    def start(self, stations, id_tag_user="eva@example.com"):
        self.cluster.start()
        self.url = self.cluster.create_database("evctl_ha")
        self.env["EVCTL_DB"] = self.url
        self.run("db", "migrate")
        self.run("group", "create", "HQ", "--kind", "site")
        self.run("user", "create", id_tag_user, "--first", "Eva", "--last", "Berg")
        csv = os.path.join(self.workdir, "stations.csv")
        with open(csv, "w") as f:
            f.write("identity,name,group,connectors,security_profile\n")
            f.writelines(f"{i},{i},HQ,1,0\n" for i in stations)
        tokens = os.path.join(self.workdir, "tokens.csv")
        with open(tokens, "w") as f:
            f.write("id_tag,user\n")
            f.writelines(f"T-{i},{id_tag_user}\n" for i in stations)
        self.run("station", "import", csv)
        self.run("token", "import", tokens)
        for n in range(1, self.node_count + 1):
            self.start_node(n)
        self.front = free_port()
        env = dict(self.env, EVCTL_HA_FRONT=f"127.0.0.1:{self.front}", EVCTL_HA_STATS=f"127.0.0.1:{free_port()}")
        for n, (port, _) in self.nodes.items():
            env[f"EVCTL_HA_NODE{n}"] = f"127.0.0.1:{port}"
        self.haproxy = subprocess.Popen([shutil.which("haproxy") or "haproxy", "-f", HAPROXY_CFG, "-db"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        wait_for_port(self.front, self.haproxy, "haproxy")
        return self

    def start_node(self, n):
        port = free_port()
        log = open(os.path.join(self.workdir, f"node{n}.log"), "w")
        process = subprocess.Popen([BINARY, "--db", self.url, "serve", "--listen", f"127.0.0.1:{port}",
                                    "--ping-interval", "30", "--no-auto-config"],
                                   stdout=log, stderr=subprocess.STDOUT, text=True, env=self.env)
        process.stderr = open(log.name)
        self.nodes[n] = (port, process)
        wait_for_port(port, process, f"node{n}")

    def connections(self, n):
        """Established connections to node n (from HAProxy: one per station it holds)."""
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{self.nodes[n][0]} )"],
                             capture_output=True, text=True, check=True).stdout
        return len(out.splitlines())

    def kill_node(self, n):
        self.nodes[n][1].kill()  # SIGKILL
        self.nodes[n][1].wait(timeout=30)

    def run(self, *args, check=True, timeout=120):
        result = subprocess.run([BINARY, "--db", self.url, *args], capture_output=True, text=True,
                                timeout=timeout, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"evctl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def stop(self):
        if self.haproxy:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=30)
        for _, process in self.nodes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.cluster.stop()

    def sql(self, statement):
        return self.cluster.sql("evctl_ha", statement)


class Ledger:
    """What the stations were told (acknowledged messages only), and what they were sent."""

    def __init__(self):
        self.counter = 0
        self.starts = []   # (identity, transaction id, meter_start)
        self.meters = []   # (identity, transaction id, value)
        self.stops = []    # (identity, transaction id, meter_stop)
        self.received = {}  # identity -> [(action, payload)] of the CSMS's calls
        self.connected_at = {}  # identity -> [time of each accepted BootNotification]
        self.dropped_at = {}    # identity -> [time of each lost connection]

    def unique(self):
        self.counter += 1
        return self.counter


class Station:
    """A charge point: boots, runs sessions (Start, MeterValues ×2, Stop) with pauses, answers the
    CSMS's calls Accepted, and reconnects through HAProxy whenever its connection is lost."""

    def __init__(self, identity, front, ledger, pause=0.5):
        self.identity = identity
        self.front = front
        self.ledger = ledger
        self.pause = pause
        self.message = 0
        self.ledger.received[identity] = []
        self.ledger.connected_at[identity] = []
        self.ledger.dropped_at[identity] = []

    async def run(self, stop_event):
        rng = random.Random(self.identity)
        while not stop_event.is_set():
            try:
                await self.connection(stop_event, rng)
            except (websockets.exceptions.ConnectionClosed, websockets.exceptions.InvalidHandshake,
                    websockets.exceptions.InvalidURI, OSError, asyncio.TimeoutError, EOFError):
                pass
            if self.ledger.connected_at[self.identity]:
                self.ledger.dropped_at[self.identity].append(time.time())
            # A station's reconnect back-off: short, jittered (as a real fleet's are).
            await asyncio.sleep(rng.uniform(0.1, 0.5))

    async def connection(self, stop_event, rng):
        async with websockets.connect(f"ws://127.0.0.1:{self.front}/ocpp/{self.identity}",
                                      subprotocols=["ocpp1.6"], open_timeout=15, ping_interval=None,
                                      close_timeout=1) as ws:
            pending = {}

            async def reader():
                try:
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame[0] == 2:  # a call from the CSMS: answer Accepted
                            self.ledger.received[self.identity].append((frame[2], frame[3]))
                            await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
                        elif frame[1] in pending:
                            pending.pop(frame[1]).set_result(frame)
                finally:
                    # The connection is gone: a call waiting for its answer will never get one.
                    for future in pending.values():
                        if not future.done():
                            future.set_exception(EOFError("connection lost"))
                    pending.clear()

            async def rpc(action, payload):
                self.message += 1
                mid = f"{self.identity}-{self.message}"
                future = asyncio.get_running_loop().create_future()
                # Lost with the connection before anyone waits for it: not an error of its own.
                future.add_done_callback(lambda f: f.cancelled() or f.exception())
                pending[mid] = future
                await ws.send(json.dumps([2, mid, action, payload]))
                reply = await asyncio.wait_for(future, timeout=20)
                assert reply[0] == 3, reply
                return reply[2]

            read = asyncio.create_task(reader())
            try:
                boot = await rpc("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
                assert boot["status"] == "Accepted", boot
                self.ledger.connected_at[self.identity].append(time.time())
                while not stop_event.is_set():
                    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    start = self.ledger.unique()
                    answer = await rpc("StartTransaction", {"connectorId": 1, "idTag": f"T-{self.identity}",
                                                            "meterStart": start, "timestamp": now})
                    tx = answer["transactionId"]
                    self.ledger.starts.append((self.identity, tx, start))
                    for _ in range(2):
                        await asyncio.sleep(rng.uniform(0, 2 * self.pause))
                        value = self.ledger.unique()
                        await rpc("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
                            "timestamp": now, "sampledValue": [{
                                "value": str(value), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
                        self.ledger.meters.append((self.identity, tx, value))
                    stop = self.ledger.unique()
                    await rpc("StopTransaction", {"transactionId": tx, "meterStop": stop, "timestamp": now,
                                                  "reason": "Local"})
                    self.ledger.stops.append((self.identity, tx, stop))
                    await asyncio.sleep(rng.uniform(0, 2 * self.pause))
            finally:
                read.cancel()

