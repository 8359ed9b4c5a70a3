"""serve terminates TLS itself: Python `ocpp` charge points over `ssl` (issue 12 item 1).

Certificates are made in the test by the `openssl` command.
"""
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets
from ocpp.v16 import ChargePoint, call
from ocpp.v16.enums import RegistrationStatus

from conftest import BINARY, Evctl, free_port


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory, name="Test CA"):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", f"/CN={name}", cwd=directory)
    return os.path.join(directory, "ca.pem")


def make_server_cert(directory, prefix, cn="localhost"):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{prefix}.key", "-out", f"{prefix}.csr",
            "-subj", f"/O=evctl test/CN={cn}", cwd=directory)
    ext = os.path.join(directory, f"{prefix}.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{cn},DNS:localhost,IP:127.0.0.1,IP:::1\n")
    openssl("x509", "-req", "-in", f"{prefix}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{prefix}.pem", "-days", "2", "-extfile", ext, cwd=directory)
    return os.path.join(directory, f"{prefix}.pem"), os.path.join(directory, f"{prefix}.key")


@pytest.fixture
def tls_serve(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    # The files serve reads (and rereads on SIGHUP).
    live_cert, live_key = str(certs / "live.pem"), str(certs / "live.key")
    os.replace(cert, live_cert)
    os.replace(key, live_key)
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "create", "CP-1", "--name", "Gate", "--security-profile", "0")
    server.run("station", "create", "CP-2", "--name", "Back", "--security-profile", "0")
    server.tls_port = free_port()
    server.ca = ca
    server.certs = str(certs)
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", live_cert,
                 "--tls-key", live_key, "--tls-handshake-timeout", "2")
    wait_for_port(server.tls_port)
    yield server
    server.stop()


def wait_for_port(port, host="127.0.0.1"):
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port}")


def client_context(ca, maximum=None):
    context = ssl.create_default_context(cafile=ca)
    if maximum is not None:
        context.maximum_version = maximum
    return context


def connect_tls(server, identity, context=None, host="127.0.0.1"):
    url = f"wss://{'[' + host + ']' if ':' in host else host}:{server.tls_port}/ocpp/{identity}"
    return websockets.connect(url, subprotocols=["ocpp1.6"], ssl=context or client_context(server.ca),
                              server_hostname="localhost", open_timeout=10)


async def boot(ws, identity):
    cp = ChargePoint(identity, ws)
    task = asyncio.create_task(cp.start())
    result = await asyncio.wait_for(
        cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V")), 10)
    assert result.status == RegistrationStatus.accepted
    return cp, task


def peer_certificate(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True), tls.version(), tls.cipher()


def test_charge_point_over_tls_boots_and_plain_listener_still_works(tls_serve):
    async def scenario():
        async with connect_tls(tls_serve, "CP-1") as ws:
            cp, task = await boot(ws, "CP-1")
            await asyncio.wait_for(cp.call(call.Heartbeat()), 10)
            task.cancel()
        async with websockets.connect(tls_serve.url("CP-2"), subprotocols=["ocpp1.6"], open_timeout=10) as ws:
            _, task = await boot(ws, "CP-2")
            task.cancel()
    asyncio.run(scenario())
    _, version, cipher = peer_certificate(tls_serve.tls_port)
    assert version in ("TLSv1.2", "TLSv1.3")


def test_tls_1_1_and_tls_1_2_outside_the_whitepaper_suites_are_refused(tls_serve):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection(("127.0.0.1", tls_serve.tls_port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            context.wrap_socket(raw, server_hostname="localhost")
    # TLS 1.2 with a CBC suite (not listed by the whitepaper) is refused too.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA256")
    with socket.create_connection(("127.0.0.1", tls_serve.tls_port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            context.wrap_socket(raw, server_hostname="localhost")
    # ...while the whitepaper's static-RSA GCM suite is accepted.
    context.set_ciphers("AES128-GCM-SHA256")
    with socket.create_connection(("127.0.0.1", tls_serve.tls_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.cipher()[0] == "AES128-GCM-SHA256"
            assert tls.compression() is None


def test_stalled_handshakes_never_delay_a_working_station_and_time_out(tls_serve):
    stalled = []
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", tls_serve.tls_port), timeout=10)
        stalled.append(s)
    half = socket.create_connection(("127.0.0.1", tls_serve.tls_port), timeout=10)
    half.sendall(b"\x16\x03\x01\x00\xff")  # the start of a ClientHello, never finished
    stalled.append(half)

    async def scenario():
        async with connect_tls(tls_serve, "CP-1") as ws:
            cp, task = await boot(ws, "CP-1")
            for _ in range(5):
                await asyncio.wait_for(cp.call(call.Heartbeat()), 10)
            task.cancel()
    asyncio.run(scenario())
    # --tls-handshake-timeout 2: every stalled connection is closed by serve.
    for s in stalled:
        s.settimeout(15)
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
        s.close()


def raise_fd_limit(needed):
    """Lifts this process's soft RLIMIT_NOFILE to `needed` (or the hard limit), for many sockets."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")


def test_500_stalled_handshakes_while_100_tls_stations_work_then_all_time_out(tmp_path):
    raise_fd_limit(2000)
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    server = Evctl(str(tmp_path / "evctl.db"))
    identities = [f"TLS{i:03d}" for i in range(100)]
    stations_csv = tmp_path / "stations.csv"
    stations_csv.write_text("identity,name,security_profile\n"
                            + "".join(f"{identity},Bay {identity},0\n" for identity in identities))
    server.run("station", "import", str(stations_csv))
    server.tls_port = free_port()
    server.ca = ca
    # Long enough that the stalled connections are still open while the stations work (on a
    # loaded machine too); a loop that blocked on one of them would stall every station for it.
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", cert, "--tls-key", key,
                 "--tls-handshake-timeout", "20")
    wait_for_port(server.tls_port)
    stalled = []
    try:
        for index in range(500):
            s = socket.create_connection(("127.0.0.1", server.tls_port), timeout=30)
            if index % 2:
                s.sendall(b"\x16\x03\x01\x00\xff")  # the start of a ClientHello, never finished
            stalled.append(s)

        async def station(identity, gate):
            async with gate:
                ws = await websockets.connect(
                    f"wss://127.0.0.1:{server.tls_port}/ocpp/{identity}", subprotocols=["ocpp1.6"],
                    ssl=client_context(ca), server_hostname="localhost", open_timeout=60)
            try:
                cp = ChargePoint(identity, ws)
                task = asyncio.create_task(cp.start())
                result = await asyncio.wait_for(
                    cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V")), 60)
                assert result.status == RegistrationStatus.accepted
                for _ in range(3):
                    answer = await asyncio.wait_for(cp.call(call.Heartbeat()), 60)
                    assert answer.current_time
                task.cancel()
            finally:
                await ws.close()

        async def scenario():
            gate = asyncio.Semaphore(20)  # at most 20 TLS handshakes of ours in flight
            await asyncio.gather(*(station(identity, gate) for identity in identities))
        asyncio.run(scenario())
        # Every stalled connection is closed by serve's handshake timeout.
        deadline = time.time() + 120
        for s in stalled:
            s.settimeout(max(1, deadline - time.time()))
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
    finally:
        for s in stalled:
            s.close()
        server.stop()


def test_handshakes_above_the_cap_wait_unread_until_others_time_out(tmp_path):
    """With a cap of 2 handshakes in flight (EVCTL_TLS_HANDSHAKE_CAP, tests only), two clients
    that keep trickling a ClientHello hold the cap: a third connection waits, unread, and
    its handshake is finished only after serve closed the two (--tls-handshake-timeout 2)."""
    import select
    import threading
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "create", "CP-1", "--name", "Gate", "--security-profile", "0")
    server.env["EVCTL_TLS_HANDSHAKE_CAP"] = "2"
    server.tls_port = free_port()
    server.ca = ca
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", cert, "--tls-key", key,
                 "--tls-handshake-timeout", "2")
    try:
        # A plain TCP probe (wait_for_port) would take a slot: wait for the port with the log.
        deadline = time.time() + 60
        while time.time() < deadline:
            probe = socket.socket()
            try:
                probe.connect(("127.0.0.1", server.tls_port))
                probe.close()
                break
            except OSError:
                probe.close()
                time.sleep(0.05)
        time.sleep(1.5)  # the probe's handshake is quiet by now and no longer counts
        hello = b"\x16\x03\x01\x01\x00" + b"\x01" * 256  # a ClientHello that never ends
        trickling = [socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) for _ in range(2)]
        for s in trickling:
            s.sendall(hello[:1])
        time.sleep(0.3)
        outcome = {}

        def third():
            raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=30)
            with client_context(ca).wrap_socket(raw, server_hostname="localhost") as tls:
                # Serve closed the trickling connections before it accepted this one.
                readable, _, _ = select.select(trickling, [], [], 0)
                outcome["closed_first"] = len(readable)
                outcome["version"] = tls.version()
        worker = threading.Thread(target=third)
        worker.start()
        sent = 1
        while worker.is_alive():
            for s in trickling:
                try:
                    s.sendall(hello[sent:sent + 1])
                except OSError:
                    pass
            sent = min(sent + 1, len(hello) - 1)
            worker.join(0.2)
        assert outcome.get("version"), outcome
        assert outcome["closed_first"] == 2, outcome

        # A station gets in once the cap has room again.
        async def scenario():
            async with connect_tls(server, "CP-1") as ws:
                cp, task = await boot(ws, "CP-1")
                await asyncio.wait_for(cp.call(call.Heartbeat()), 10)
                task.cancel()
        asyncio.run(scenario())
        for s in trickling:
            s.close()
    finally:
        server.stop()


def test_sighup_reloads_the_certificate_and_keeps_connections(tls_serve):
    before, _, _ = peer_certificate(tls_serve.tls_port)

    async def scenario():
        async with connect_tls(tls_serve, "CP-1") as ws:
            cp, task = await boot(ws, "CP-1")
            cert, key = make_server_cert(tls_serve.certs, "renewed")
            os.replace(key, os.path.join(tls_serve.certs, "live.key"))
            os.replace(cert, os.path.join(tls_serve.certs, "live.pem"))
            tls_serve.process.send_signal(signal.SIGHUP)
            deadline = time.time() + 60
            after = before
            while after == before and time.time() < deadline:
                await asyncio.sleep(0.2)
                after, _, _ = peer_certificate(tls_serve.tls_port)
            assert after != before
            with open(os.path.join(tls_serve.certs, "live.pem")) as f:
                assert ssl.DER_cert_to_PEM_cert(after).strip() == f.read().strip()
            # The connection made with the old certificate is still served.
            await asyncio.wait_for(cp.call(call.Heartbeat()), 10)
            # A new station connects with the new certificate.
            async with connect_tls(tls_serve, "CP-2") as ws2:
                _, task2 = await boot(ws2, "CP-2")
                task2.cancel()
            task.cancel()
    asyncio.run(scenario())
    # A certificate that does not load on SIGHUP leaves the old one in use.
    with open(os.path.join(tls_serve.certs, "live.pem"), "w") as f:
        f.write("not a certificate\n")
    current, _, _ = peer_certificate(tls_serve.tls_port)
    tls_serve.process.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert peer_certificate(tls_serve.tls_port)[0] == current
    _, err = tls_serve.stop()
    assert "TLS certificate not reloaded" in err
    assert "TLS certificate and key reloaded" in err


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback")
def test_ipv6_listen_forms(tmp_path):
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "create", "CP-1", "--name", "Gate", "--security-profile", "0")
    port = free_port()
    server.process = subprocess.Popen(
        [BINARY, "--db", server.db, "serve", "--listen", f"[::1]:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=server.env)
    try:
        wait_for_port(port, host="::1")

        async def scenario():
            async with websockets.connect(f"ws://[::1]:{port}/ocpp/CP-1", subprotocols=["ocpp1.6"],
                                          open_timeout=10) as ws:
                _, task = await boot(ws, "CP-1")
                task.cancel()
        asyncio.run(scenario())
    finally:
        server.stop()


def test_tls_options_are_checked(tmp_path):
    server = Evctl(str(tmp_path / "evctl.db"))
    result = server.run("serve", "--tls-listen", "127.0.0.1:0", check=False)
    assert result.returncode == 64 and "--tls-cert and --tls-key" in result.stderr
    result = server.run("serve", "--tls-cert", "x.pem", check=False)
    assert result.returncode == 64 and "needs --tls-listen" in result.stderr
    result = server.run("serve", "--listen", "::1:8180", check=False)
    assert result.returncode == 64 and "[IPV6]:PORT" in result.stderr
    missing = str(tmp_path / "missing.pem")
    result = server.run("serve", "--tls-listen", "127.0.0.1:0", "--tls-cert", missing, "--tls-key", missing,
                        check=False)
    assert result.returncode != 0 and "cannot load certificate" in result.stderr
