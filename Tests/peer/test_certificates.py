"""evctl's certificate authority against Python `ocpp` charge points (issue 12 items 3, 4, 5).

Keys and CSRs of the stations are made in the test by the `openssl` command; serve's own TLS
certificate comes from a test CA made by `openssl` too (as a Let's Encrypt one would).
"""
import asyncio
import base64
import json
import os
import re
import ssl
import stat
import subprocess
import time

import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus

from conftest import Evctl, free_port
from test_tls import make_ca, make_server_cert, openssl, wait_for_port

OLD_KEY = "0123456789abcdef0123"
# Every station has a password (security profile 1), as new stations will by default.
PASSWORDS = {"CP-1": "abcdef0123456789abcd", "CP-2": "bcdef0123456789abcde", "CP-SEC": OLD_KEY}
UNSET = object()
# evctl's own CA is kept in STORE.ca/ beside a SQLite store file: 'ca init|import|show' and
# 'station certificate issue|renew' are refused on PostgreSQL (BackendNotSupported).
NEEDS_OWN_CA = "needs evctl's CA, kept in STORE.ca/ beside a SQLite store file (refused on PostgreSQL)"


@pytest.fixture
def site(tmp_path):
    """A store with evctl's CA, two stations, and serve's TLS certificate (not started).

    evctl's CA lives in STORE.ca/ beside a SQLite store file; on PostgreSQL `ca init` is refused
    (BackendNotSupported), so there the store has no CA (`root` is None) and serve's TLS listener
    trusts the test CA for client certificates."""
    certs = tmp_path / "certs"
    certs.mkdir()
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("group", "create", "HQ", "--kind", "site")
    for identity in ("CP-1", "CP-2"):
        server.run("station", "create", identity, "--name", identity, "--group", "HQ", "--password-stdin",
                   stdin=PASSWORDS[identity] + "\n")
    server.run("station", "create", "CP-SEC", "--name", "Secure", "--password-stdin", stdin=OLD_KEY + "\n")
    if not server.on_postgres:
        server.run("ca", "init", "--subject", "CN=Test CSMS Root,O=ACME")
    server.certs = str(certs)
    server.ca = make_ca(str(certs))
    server.cert, server.key = make_server_cert(str(certs), "server")
    server.root = None if server.on_postgres else server.db + ".ca/root.pem"
    server.tls_port = free_port()
    server.serve_args = ["--no-auto-config"]
    yield server
    server.stop()


def start(server, *extra):
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", server.cert,
                 "--tls-key", server.key, "--tls-client-ca", server.root or server.ca, *extra)
    wait_for_port(server.tls_port)


def make_csr(directory, name, cn, key="ec"):
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", key]
    openssl("req", "-new", *new_key, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/O=ACME/CN={cn}", cwd=directory)
    with open(os.path.join(directory, f"{name}.csr")) as f:
        return f.read()


def headers(identity, password):
    if password is None:
        return {}
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def connect_plain(server, identity, password=None):
    return websockets.connect(server.url(identity), subprotocols=["ocpp1.6"],
                              additional_headers=headers(identity, password), open_timeout=10)


def connect_tls(server, identity, cafile, password=None, cert=None, key=None):
    context = ssl.create_default_context(cafile=cafile)
    if cert:
        context.load_cert_chain(cert, key)
    return websockets.connect(
        f"wss://127.0.0.1:{server.tls_port}/ocpp/{identity}", subprotocols=["ocpp1.6"], ssl=context,
        server_hostname="localhost", additional_headers=headers(identity, password), open_timeout=10)


class SecureStation(ChargePoint):
    """A station that follows the whitepaper's steps: keeps the root and the certificate it is
    sent, makes a CSR when triggered, and notes when it is told to change its profile."""

    def __init__(self, identity, ws, directory, answers=None):
        super().__init__(identity, ws)
        self.directory = directory
        self.received = []
        self.answers = answers or {}
        self.sign_status = None
        self.root = None
        self.chain = None
        self.authorization_key = None
        self.profile = asyncio.Event()
        self.signed = asyncio.Event()
        self.csr_cn = identity

    def answer(self, action, default="Accepted"):
        return self.answers.get(action, default)

    @on(Action.install_certificate)
    async def install_certificate(self, certificate_type, certificate):
        self.received.append(("InstallCertificate", certificate_type))
        self.root = os.path.join(self.directory, "installed-root.pem")
        with open(self.root, "w") as f:
            f.write(certificate)
        return call_result.InstallCertificate(status=self.answer("InstallCertificate"))

    @on(Action.extended_trigger_message)
    async def extended_trigger(self, requested_message, **_):
        self.received.append(("ExtendedTriggerMessage", requested_message))
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @after(Action.extended_trigger_message)
    async def send_csr(self, requested_message, **_):
        if requested_message == "SignChargePointCertificate":
            asyncio.create_task(self.sign())

    async def sign(self):
        csr = make_csr(self.directory, "station", self.csr_cn)
        result = await asyncio.wait_for(self.call(call.SignCertificate(csr=csr)), 10)
        self.sign_status = result.status

    @on(Action.certificate_signed)
    async def certificate_signed(self, certificate_chain):
        self.received.append(("CertificateSigned", certificate_chain))
        self.chain = os.path.join(self.directory, "station-chain.pem")
        with open(self.chain, "w") as f:
            f.write(certificate_chain)
        return call_result.CertificateSigned(status="Accepted")

    @after(Action.certificate_signed)
    async def after_signed(self, certificate_chain):
        self.signed.set()

    @on(Action.change_configuration)
    async def change_configuration(self, key, value):
        self.received.append(("ChangeConfiguration", key, value))
        status = self.answer("ChangeConfiguration " + key)
        if key == "AuthorizationKey" and status == "Accepted":
            self.authorization_key = value
        return call_result.ChangeConfiguration(status=status)

    @after(Action.change_configuration)
    async def after_change(self, key, value):
        if key == "SecurityProfile" and self.answer("ChangeConfiguration " + key) == "Accepted":
            self.profile.set()

    @on(Action.get_installed_certificate_ids)
    async def installed(self, certificate_type):
        self.received.append(("GetInstalledCertificateIds", certificate_type))
        if certificate_type != "CentralSystemRootCertificate" or not self.root:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        serial = subprocess.run(["openssl", "x509", "-in", self.root, "-noout", "-serial"], check=True,
                                capture_output=True, text=True).stdout.strip().split("=")[1]
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[{
            "hash_algorithm": "SHA256", "issuer_name_hash": "aa" * 32, "issuer_key_hash": "bb" * 32,
            "serial_number": serial.lower()}])


async def online(server, identity, directory, password=UNSET, answers=None, tls=None):
    if password is UNSET:
        password = PASSWORDS.get(identity)
    ws = await (connect_tls(server, identity, password=password, **tls) if tls else connect_plain(server, identity, password))
    station = SecureStation(identity, ws, directory, answers)
    task = asyncio.create_task(station.start())
    boot = await asyncio.wait_for(
        station.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M")), 10)
    assert boot.status == RegistrationStatus.accepted
    return station, ws, task


async def cli(server, *args, stdin=None):
    return await asyncio.to_thread(server.run, *args, stdin=stdin, check=False)


def as_json(result):
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def wait_until(predicate, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_ca_show_never_prints_the_key_and_the_key_is_private(site):
    shown = as_json(site.run("ca", "show", "-o", "json"))
    assert shown["subject"] == "CN=Test CSMS Root,O=ACME" and shown["kind"] == "root"
    assert shown["root_file"] == site.root
    key = site.db + ".ca/key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(site.db + ".ca").st_mode) == 0o700
    everything = site.run("ca", "show").stdout + site.run("ca", "show", "-o", "wide").stdout
    assert "PRIVATE KEY" not in everything
    again = site.run("ca", "init", check=False)
    assert again.returncode != 0 and "already has a certificate authority" in again.stderr
    subprocess.run(["openssl", "x509", "-in", site.root, "-noout", "-checkend", str(3000 * 86400)], check=True)
    os.chmod(key, 0o644)
    assert "key.pem' has mode 0644" in site.run("db", "check", check=False).stderr


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_ca_import_makes_an_intermediate_under_an_existing_root(tmp_path):
    server = Evctl(str(tmp_path / "other.db"))
    server.run("station", "create", "CP-9", "--name", "Nine")
    make_ca(str(tmp_path), name="Company Root")
    planned = server.run("ca", "init", "--dry-run")
    assert "would create a root CA" in planned.stdout + planned.stderr
    assert not os.path.exists(server.db + ".ca")
    rotate = server.run("station", "passwd", "CP-9", "--rotate", "--dry-run")
    assert "a new random key" in rotate.stdout + rotate.stderr
    assert not re.search(r"[0-9a-f]{40}", rotate.stdout + rotate.stderr)
    wrong = server.run("ca", "import", "--root-cert", str(tmp_path / "ca.pem"), "--root-key",
                       str(tmp_path / "missing.key"), check=False)
    assert wrong.returncode == 74
    server.run("ca", "import", "--root-cert", str(tmp_path / "ca.pem"), "--root-key", str(tmp_path / "ca.key"))
    shown = as_json(server.run("ca", "show", "-o", "json"))
    assert shown["kind"] == "intermediate" and shown["root_subject"] == "CN=Company Root"
    out = tmp_path / "out"
    out.mkdir()
    server.run("station", "certificate", "issue", "CP-9", "--out", str(out))
    # The chain file carries the intermediate; the company root verifies it.
    subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), "-untrusted", str(out / "CP-9.pem"),
                    str(out / "CP-9.pem")], check=True, capture_output=True)


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_sign_certificate_end_to_end_then_the_station_reconnects_on_profile_3(site, tmp_path):
    start(site)

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        await station.sign()
        await asyncio.wait_for(station.signed.wait(), 15)
        task.cancel()
        await ws.close()
        # Back over TLS with the certificate evctl signed.
        tls = {"cafile": site.ca, "cert": station.chain, "key": os.path.join(str(tmp_path), "station.key")}
        again, ws, task = await online(site, "CP-1", str(tmp_path), tls=tls)
        await asyncio.wait_for(again.call(call.Heartbeat()), 10)
        task.cancel()
        await ws.close()
        return station

    station = asyncio.run(scenario())
    assert station.sign_status == "Accepted"
    subprocess.run(["openssl", "verify", "-CAfile", site.root, station.chain], check=True, capture_output=True)
    subject = subprocess.run(["openssl", "x509", "-in", station.chain, "-noout", "-subject"], check=True,
                             capture_output=True, text=True).stdout
    assert "CN = CP-1" in subject
    inventory = wait_until(lambda: [c for c in as_json(site.run(
        "station", "certificate", "list", "CP-1", "--no-ask", "-o", "json")) if c["source"] == "handshake"]
        and as_json(site.run("station", "certificate", "list", "CP-1", "--no-ask", "-o", "json")))
    issued = [c for c in inventory if c["source"] == "issued"]
    seen = [c for c in inventory if c["source"] == "handshake"]
    assert len(issued) == 1 and issued[0]["state"] == "accepted" and issued[0]["ours"]
    assert seen[0]["serial"] == issued[0]["serial"] and seen[0]["fingerprint"] == issued[0]["fingerprint"]


def test_csrs_that_fail_the_check_are_rejected_with_a_security_event(site, tmp_path):
    start(site)

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        answers = []
        for name, cn, key in [("other", "CP-2", "ec"), ("weak", "CP-1", "rsa:1024")]:
            csr = make_csr(str(tmp_path), name, cn, key)
            answers.append((await station.call(call.SignCertificate(csr=csr))).status)
        answers.append((await station.call(call.SignCertificate(csr="not a csr"))).status)
        # A store without a CA rejects too (on PostgreSQL the store never has one).
        if site.root:
            os.rename(site.db + ".ca", site.db + ".ca-away")
        csr = make_csr(str(tmp_path), "good", "CP-1")
        answers.append((await station.call(call.SignCertificate(csr=csr))).status)
        if site.root:
            os.rename(site.db + ".ca-away", site.db + ".ca")
        task.cancel()
        await ws.close()
        return station, answers

    station, answers = asyncio.run(scenario())
    assert answers == ["Rejected"] * 4
    assert not station.received
    events = [e["info"] for e in as_json(site.run("event", "list", "--station", "CP-1", "--kind", "security",
                                                    "-o", "json"))]
    text = "\n".join(events)
    assert "CN is 'CP-2', not the station identity 'CP-1'" in text
    assert "RSA 1024" in text
    assert "not a PKCS#10 request" in text
    assert "no certificate authority" in text
    refused = as_json(site.run("certificate", "pending", "--all", "-o", "json"))
    assert {r["state"] for r in refused} == {"refused"} and len(refused) == 4


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_manual_approval_queues_csrs_for_an_operator(site, tmp_path):
    start(site, "--certificate-approval", "manual")

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        await station.sign()
        pending = as_json(await cli(site, "certificate", "pending", "-o", "json"))
        assert not station.received
        approved = await cli(site, "certificate", "approve", str(pending[0]["id"]))
        await asyncio.wait_for(station.signed.wait(), 15)
        twice = await cli(site, "certificate", "approve", str(pending[0]["id"]))
        await station.sign()
        second = as_json(await cli(site, "certificate", "pending", "-o", "json"))
        rejected = await cli(site, "certificate", "reject", str(second[0]["id"]), "--reason", "not ours")
        task.cancel()
        await ws.close()
        return station, pending, approved, twice, rejected

    station, pending, approved, twice, rejected = asyncio.run(scenario())
    assert station.sign_status == "Accepted"
    assert len(pending) == 1 and pending[0]["station"] == "CP-1" and pending[0]["key"] == "EC P-256"
    assert approved.returncode == 0 and "approved" in approved.stdout, approved.stderr
    assert twice.returncode == 1 and "not pending" in twice.stderr
    assert rejected.returncode == 0
    history = {r["state"] for r in as_json(site.run("certificate", "pending", "--all", "-o", "json"))}
    assert history == {"signed", "rejected"}
    assert as_json(site.run("certificate", "pending", "-o", "json")) == []
    assert [a for a, *_ in station.received] == ["CertificateSigned"]


def test_certificate_list_asks_the_station_and_marks_our_root(site, tmp_path):
    # On PostgreSQL the store has no CA of its own: the root installed is the test CA, not ours.
    start(site)

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        installed = await cli(site, "station", "certificate", "install", "CP-1", "--type",
                              "CentralSystemRootCertificate", "--file", site.root or site.ca)
        listed = await cli(site, "station", "certificate", "list", "CP-1", "-o", "json")
        task.cancel()
        await ws.close()
        return station, installed, listed

    station, installed, listed = asyncio.run(scenario())
    assert installed.returncode == 0
    rows = as_json(listed)
    assert ("GetInstalledCertificateIds", "CentralSystemRootCertificate") in station.received
    assert ("GetInstalledCertificateIds", "ManufacturerRootCertificate") in station.received
    roots = [r for r in rows if r["source"] == "installed"]
    assert len(roots) == 1 and roots[0]["type"] == "CentralSystemRootCertificate"
    assert roots[0]["ours"] == (site.root is not None), roots
    wait_until(lambda: not as_json(site.run("station", "show", "CP-1", "-o", "json"))["connected"])
    offline = site.run("station", "certificate", "list", "CP-1", "-o", "json")
    assert "not connected" in offline.stderr and len(json.loads(offline.stdout)) == 1


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_a_certificate_near_its_end_raises_an_alarm_and_renew_replaces_it(site, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    issued = site.run("station", "certificate", "issue", "CP-1", "--out", str(out), "--days", "10")
    assert "issued" in issued.stdout
    assert stat.S_IMODE(os.stat(out / "CP-1.key").st_mode) == 0o600
    subprocess.run(["openssl", "verify", "-CAfile", str(out / "root.pem"), str(out / "CP-1.pem")], check=True,
                   capture_output=True)
    site.run("station", "certificate", "issue", "CP-2", "--out", str(out), "--days", "0")
    time.sleep(1.1)
    stale = subprocess.run(["openssl", "verify", "-CAfile", str(out / "root.pem"), str(out / "CP-2.pem")],
                           capture_output=True, text=True)
    assert stale.returncode != 0 and "expired" in stale.stdout + stale.stderr
    start(site)

    def expiring(station="CP-1"):
        return [a for a in as_json(site.run("alarm", "list", "-o", "json"))
                if a["kind"] == "certificate_expiring" and a["station"] == station]

    alarms = wait_until(expiring)
    assert "expires at" in alarms[0]["detail"] and "renew" in alarms[0]["detail"]
    assert "expired at" in wait_until(lambda: expiring("CP-2"))[0]["detail"]

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        renewed = await cli(site, "station", "certificate", "renew", "CP-1")
        await asyncio.wait_for(station.signed.wait(), 15)
        await asyncio.sleep(0.5)
        task.cancel()
        await ws.close()
        return station, renewed

    station, renewed = asyncio.run(scenario())
    assert renewed.returncode == 0, renewed.stderr
    assert ("ExtendedTriggerMessage", "SignChargePointCertificate") in station.received
    wait_until(lambda: not expiring())


def test_passwd_rotate_stores_the_key_only_once_the_station_accepted_it(site, tmp_path):
    start(site)

    async def scenario():
        refusing, ws, task = await online(site, "CP-SEC", str(tmp_path), password=OLD_KEY,
                                          answers={"ChangeConfiguration AuthorizationKey": "Rejected"})
        refused = await cli(site, "station", "passwd", "CP-SEC", "--rotate")
        task.cancel()
        await ws.close()
        station, ws, task = await online(site, "CP-SEC", str(tmp_path), password=OLD_KEY)
        rotated = await cli(site, "station", "passwd", "CP-SEC", "--rotate")
        task.cancel()
        await ws.close()
        # The new key works, the old one no longer does.
        _, ws, task = await online(site, "CP-SEC", str(tmp_path), password=station.authorization_key)
        task.cancel()
        await ws.close()
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with connect_plain(site, "CP-SEC", OLD_KEY):
                pass
        return refusing, refused, station, rotated

    refusing, refused, station, rotated = asyncio.run(scenario())
    assert refused.returncode == 1 and "stored password is unchanged" in refused.stderr
    assert rotated.returncode == 0, rotated.stderr
    assert re.fullmatch(r"[0-9a-f]{40}", station.authorization_key)
    audit = site.run("command", "list", "-o", "json").stdout + site.run(
        "station", "messages", "CP-SEC", "-o", "json").stdout + site.run(
        "station", "config", "show", "CP-SEC", "-o", "json", check=False).stdout
    assert station.authorization_key not in audit
    assert [c for c in refusing.received if c[0] == "ChangeConfiguration"][0][2] not in audit


@pytest.mark.sqlite_only(NEEDS_OWN_CA)
def test_upgrade_a_group_to_profile_3_one_station_follows_one_never_comes_back(site, tmp_path):
    start(site)
    (tmp_path / "cp2").mkdir()

    async def scenario():
        station, ws, task = await online(site, "CP-1", str(tmp_path))
        stays, ws2, task2 = await online(site, "CP-2", str(tmp_path / "cp2"))
        upgrade = asyncio.create_task(cli(site, "-o", "table", "station", "security", "upgrade", "--group", "HQ", "--profile", "3",
                                          "--root", site.ca, "--reconnect-timeout", "15"))
        await asyncio.wait_for(station.profile.wait(), 30)
        task.cancel()
        await ws.close()
        tls = {"cafile": station.root, "cert": station.chain, "key": os.path.join(str(tmp_path), "station.key")}
        _, ws, task = await online(site, "CP-1", str(tmp_path), tls=tls)
        result = await asyncio.wait_for(upgrade, 60)
        for t, w in ((task, ws), (task2, ws2)):
            t.cancel()
            await w.close()
        return station, stays, result

    station, stays, result = asyncio.run(scenario())
    assert result.returncode == 1, result.stderr + result.stdout
    assert "CP-1  upgraded  profile 3  reconnected over TLS with its client certificate" in result.stdout
    assert "CP-2  failed  profile 1  it did not reconnect over TLS within 15 s; kept at profile 1" in result.stdout
    assert "1 of 2 station(s) not upgraded: CP-2" in result.stderr
    for follower in (station, stays):
        steps = [r[0] if r[0] != "ChangeConfiguration" else f"{r[0]} {r[1]}" for r in follower.received]
        assert steps == ["InstallCertificate", "ExtendedTriggerMessage", "CertificateSigned",
                         "ChangeConfiguration SecurityProfile"]
        assert ("ChangeConfiguration", "SecurityProfile", "3") in follower.received
    # Nothing lost: CP-2 still gets in as before.
    async def back():
        _, ws, task = await online(site, "CP-2", str(tmp_path / "cp2"))
        task.cancel()
        await ws.close()
    asyncio.run(back())


def test_upgrade_to_profile_2_and_a_station_that_never_comes_back(site, tmp_path):
    start(site)

    async def scenario():
        station, ws, task = await online(site, "CP-SEC", str(tmp_path), password=OLD_KEY)
        upgrade = asyncio.create_task(cli(site, "-o", "json", "station", "security", "upgrade", "CP-SEC", "--profile", "2",
                                          "--root", site.ca, "--reconnect-timeout", "30"))
        await asyncio.wait_for(station.profile.wait(), 30)
        task.cancel()
        await ws.close()
        _, ws, task = await online(site, "CP-SEC", str(tmp_path), password=station.authorization_key,
                                   tls={"cafile": station.root})
        upgraded = await asyncio.wait_for(upgrade, 40)
        task.cancel()
        await ws.close()
        # CP-1 accepts every step but stays where it is.
        stays, ws, task = await online(site, "CP-1", str(tmp_path))
        lost = await cli(site, "-o", "table", "station", "security", "upgrade", "CP-1", "--profile", "2", "--root", site.ca,
                         "--reconnect-timeout", "3")
        task.cancel()
        await ws.close()
        return station, upgraded, stays, lost

    station, upgraded, stays, lost = asyncio.run(scenario())
    assert upgraded.returncode == 0, upgraded.stderr + upgraded.stdout
    [only] = json.loads(upgraded.stdout)
    assert only["station"] == "CP-SEC" and only["upgraded"] and only["profile"] == 2
    assert ("ChangeConfiguration", "SecurityProfile", "2") in station.received
    assert lost.returncode == 1
    assert "did not reconnect over TLS within 3 s" in lost.stdout and "kept at profile 1" in lost.stdout
    # The key CP-1 accepted is the one stored: it still gets in (over plain ws, its old profile).
    async def back():
        _, ws, task = await online(site, "CP-1", str(tmp_path), password=stays.authorization_key)
        task.cancel()
        await ws.close()
    asyncio.run(back())
