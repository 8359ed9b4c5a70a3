"""Security profiles per station, enforced at the upgrade (issue 12 items 2 and 6).

Python `ocpp` charge points over `ssl`; certificates are made in the test by the `openssl`
command (a station CA, a foreign CA, expired and wrongly named client certificates).
"""
import asyncio
import base64
import json
import os
import re
import ssl

import pytest
import websockets
from ocpp.v16 import call

from conftest import Evctl, free_port
from test_tls import boot, make_ca, make_server_cert, openssl, wait_for_port

KEY = "0123456789abcdef0123456789abcdef"


def make_client_cert(directory, prefix, cn, days="2", ca="ca"):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{prefix}.key", "-out", f"{prefix}.csr",
            "-subj", f"/O=evctl test/CN={cn}", cwd=directory)
    openssl("x509", "-req", "-in", f"{prefix}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{prefix}.pem", "-days", days, cwd=directory)
    return os.path.join(directory, f"{prefix}.pem"), os.path.join(directory, f"{prefix}.key")


@pytest.fixture
def secure_serve(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "server")
    other = certs / "other"
    other.mkdir()
    make_ca(str(other), name="Foreign CA")
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("station", "create", "P1", "--name", "one", "--password-stdin", stdin=KEY + "\n")
    server.run("station", "create", "P2", "--name", "two", "--security-profile", "2",
               "--password-stdin", stdin=KEY + "\n")
    server.run("station", "create", "P3", "--name", "three", "--security-profile", "3")
    server.tls_port = free_port()
    server.ca = ca
    server.certs = str(certs)
    server.other = str(other)
    server.start("--tls-listen", f"127.0.0.1:{server.tls_port}", "--tls-cert", cert, "--tls-key", key,
                 "--tls-client-ca", ca)
    wait_for_port(server.tls_port)
    yield server
    server.stop()


def basic(identity, password):
    if password is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(f"{identity}:{password}".encode()).decode()}


def context(server, cert=None):
    ctx = ssl.create_default_context(cafile=server.ca)
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


async def attempt(url, identity, password=None, ssl_context=None):
    """101 and a working boot, or the HTTP status the upgrade got."""
    kwargs = {"ssl": ssl_context, "server_hostname": "localhost"} if ssl_context else {}
    try:
        async with websockets.connect(url, subprotocols=["ocpp1.6"], additional_headers=basic(identity, password),
                                      open_timeout=10, **kwargs) as ws:
            _, task = await boot(ws, identity)
            task.cancel()
            return 101
    except websockets.exceptions.InvalidStatus as error:
        return error.response.status_code


def status(server, identity, password=None, tls=True, cert=None):
    url = (f"wss://127.0.0.1:{server.tls_port}/ocpp/{identity}" if tls else server.url(identity))
    return asyncio.run(attempt(url, identity, password, context(server, cert) if tls else None))


def query(server, sql, args=()):
    return server.sql(sql, args)


def security_alarms(server, identity):
    return query(server, "SELECT count(*), sum(occurrences) FROM alarms WHERE kind = 'security' "
                 "AND identity = ? AND cleared_at IS NULL", (identity,))[0]


def test_profile_2_needs_tls_and_the_right_key(secure_serve):
    assert status(secure_serve, "P2", KEY) == 101
    assert status(secure_serve, "P2", "wrong-key-00000000") == 401
    assert status(secure_serve, "P2", None) == 401
    # The right key over plain ws is a downgrade: refused, recorded, alarmed.
    assert status(secure_serve, "P2", KEY, tls=False) == 403
    details = [d for (d,) in query(secure_serve, "SELECT detail FROM events WHERE identity = 'P2' AND kind = 'security'")]
    assert any("downgrade refused" in d for d in details), details
    assert any("wrong Basic credentials" in d for d in details), details
    assert security_alarms(secure_serve, "P2")[0] == 1


def test_profile_1_works_over_both_listeners(secure_serve):
    assert status(secure_serve, "P1", KEY, tls=False) == 101
    assert status(secure_serve, "P1", KEY) == 101
    assert status(secure_serve, "P1", None, tls=False) == 401


def test_profile_3_needs_a_certificate_naming_the_station(secure_serve):
    certs = secure_serve.certs
    good = make_client_cert(certs, "p3", "P3")
    wrong_cn = make_client_cert(certs, "p3-wrong", "P1")
    expired = make_client_cert(certs, "p3-expired", "P3", days="-1")
    foreign = make_client_cert(secure_serve.other, "p3-foreign", "P3")
    assert status(secure_serve, "P3", cert=good) == 101
    assert status(secure_serve, "P3", tls=False) == 403
    assert status(secure_serve, "P3") == 403
    assert status(secure_serve, "P3", cert=wrong_cn) == 403
    # Refusals count as failed logins too: past three the door closes for 1 s, then 2 s.
    assert status(secure_serve, "P3", cert=expired) == 403
    asyncio.run(asyncio.sleep(1.2))
    assert status(secure_serve, "P3", cert=foreign) == 403
    assert status(secure_serve, "P3", cert=good) == 429
    asyncio.run(asyncio.sleep(2.2))
    assert status(secure_serve, "P3", cert=good) == 101
    details = [d for (d,) in query(secure_serve, "SELECT detail FROM events WHERE identity = 'P3' AND kind = 'security'")]
    assert any("names 'P1'" in d for d in details), details
    assert any("expired" in d for d in details), details
    assert any("is required" in d for d in details), details
    count, occurrences = security_alarms(secure_serve, "P3")
    assert count == 1 and occurrences >= 5
    # A verified certificate naming another station does not open that station's profile-1 door.
    assert status(secure_serve, "P1", None, cert=wrong_cn) == 401


def test_an_anonymous_client_cannot_replace_a_profile_1_station(secure_serve):
    async def scenario():
        async with websockets.connect(secure_serve.url("P1"), subprotocols=["ocpp1.6"],
                                      additional_headers=basic("P1", KEY), open_timeout=10) as ws:
            cp, task = await boot(ws, "P1")
            code = await attempt(secure_serve.url("P1"), "P1")
            await asyncio.wait_for(cp.call(call.Heartbeat()), 10)  # still connected
            task.cancel()
            return code
    assert asyncio.run(scenario()) == 401


def test_a_new_station_gets_a_generated_key_printed_once(tmp_path):
    server = Evctl(str(tmp_path / "evctl.db"))
    created = server.run("station", "create", "NEW-1", "--name", "new").stdout
    key = re.search(r"AuthorizationKey: ([0-9a-f]{40})\n", created).group(1)
    assert "NEW-1" not in server.run("station", "list", "--security-profile", "0", "-o", "tsv").stdout
    quiet = server.run("station", "create", "NEW-2", "--name", "new", "-q").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", quiet) and quiet != key
    shown = json.loads(server.run("station", "create", "NEW-3", "--name", "n", "-o", "json").stdout)
    assert shown["security_profile"] == 1 and len(shown["authorization_key"]) == 40
    server.run("station", "create", "OPEN-1", "--name", "open", "--security-profile", "0")
    assert server.run("station", "list", "--security-profile", "0", "-o", "tsv").stdout.split("\t")[0] == "OPEN-1"
    check = server.run("db", "check")
    assert "station OPEN-1: security profile 0" in check.stderr and "NEW-1" not in check.stderr
    server.run("station", "create", "CERT-1", "--name", "cert", "--security-profile", "3")
    server.start()
    try:
        assert asyncio.run(attempt(server.url("NEW-1"), "NEW-1", key)) == 101
        assert asyncio.run(attempt(server.url("NEW-1"), "NEW-1", None)) == 401
        assert asyncio.run(attempt(server.url("OPEN-1"), "OPEN-1", None)) == 101
        assert asyncio.run(attempt(server.url("CERT-1"), "CERT-1", None)) == 403
    finally:
        _, err = server.stop()
    assert "1 station(s) on security profile 3 (such as CERT-1) cannot connect: no --tls-listen: they need wss://" in err, err
    assert "--tls-client-ca" not in err, err


def test_repeated_failed_logins_are_slowed_down_with_one_alarm_and_reset_on_success(secure_serve):
    async def scenario():
        answers = []
        for _ in range(40):
            answers.append(await attempt(secure_serve.url("P1"), "P1", "guess-0000000000000"))
        return answers
    answers = asyncio.run(scenario())
    # The first failures are checked (401); then the door closes and attempts get 429 unchecked.
    assert answers[:3] == [401, 401, 401]
    assert answers.count(429) >= 30, answers
    # 429 answers write no event: the events are bounded by the checked attempts.
    events = query(secure_serve, "SELECT count(*) FROM events WHERE identity = 'P1' AND kind = 'security'")[0][0]
    assert events <= 10, events
    count, _ = security_alarms(secure_serve, "P1")
    assert count == 1
    # Even the right key waits while the door is closed, then gets in and resets the counter.
    assert status(secure_serve, "P1", KEY, tls=False) == 429

    async def retry_until_in():
        for _ in range(40):
            code = await attempt(secure_serve.url("P1"), "P1", KEY)
            if code == 101:
                return True
            assert code == 429
            await asyncio.sleep(0.5)
        return False
    assert asyncio.run(retry_until_in())
    # Reset: a wrong key is checked again (401, not 429).
    assert status(secure_serve, "P1", "guess-0000000000000", tls=False) == 401
    # The 429s were counted in the one alarm (within a second of housekeeping).
    asyncio.run(asyncio.sleep(1.5))
    assert security_alarms(secure_serve, "P1")[1] > 20
