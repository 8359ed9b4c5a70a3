"""Mail through `evctl serve --smtp` (issue 16 item 4), read from a local SMTP sink (aiosmtpd):
invitations and password resets with one-time codes, instant and daily alarm mail in the
operator's base group, retries shown in `operator show`, SMTPS with a login."""
import asyncio
import hashlib
import json
import os
import re
import ssl
import time

import pytest
from ocpp.v16 import call

from conftest import Evctl, free_port
from smtp_sink import SMTPSink

from test_charge_point import Station, connect
from test_tls import make_ca, make_server_cert

# AUTH over implicit TLS (smtps) is safe; aiosmtpd counts only STARTTLS as TLS and warns.
# serve's mailer sends from a SQLite store only ('serve --smtp' is refused on PostgreSQL, where
# several nodes would each send the same mail; PostgresGuardTests checks the refusal).
pytestmark = [pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
              pytest.mark.sqlite_only("'serve --smtp' is refused on PostgreSQL")]

CODE = re.compile(r"\b[A-Z2-9]{5}(?:-[A-Z2-9]{5}){3}\b")
SENDER = "evctl@example.com"


def mail_serve(tmp_path, smtp_url, *extra, stdin_password=None):
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("group", "create", "HQ", "--kind", "site")
    server.run("group", "create", "Depot", "--kind", "site")
    server.run("station", "create", "CP-1", "--name", "Gate", "--group", "HQ", "--connectors", "2",
               "--security-profile", "0")
    server.run("station", "create", "CP-9", "--name", "Yard", "--group", "Depot", "--security-profile", "0")
    server.serve_args = ["--smtp", smtp_url, "--mail-from", SENDER, "--mail-retry", "1s", *extra]
    server.start()
    return server


@pytest.fixture
def sink():
    port = free_port()
    smtp = SMTPSink(port).start()
    smtp.port = port
    yield smtp
    smtp.stop()


@pytest.fixture
def served(tmp_path, sink):
    server = mail_serve(tmp_path, f"smtp://127.0.0.1:{sink.port}")
    yield server
    server.stop()


def operator_json(evctl, email):
    return json.loads(evctl.run("operator", "show", email, "-o", "json").stdout)


def wait_until(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def login_with_code(evctl, code, password, check=True):
    return evctl.run("login", "--invite", code, "--password-stdin", stdin=password + "\n", check=check)


def test_an_invitation_mails_a_single_use_code_that_sets_the_password(served, sink):
    out = served.run("operator", "invite", "ann@example.com", "--role", "basic", "--base-group", "HQ",
                     "--name", "Ann")
    assert "operator/ann@example.com invited" in out.stdout
    mail = sink.wait_for(lambda m: "ann@example.com" in m.recipients)
    assert mail.recipients == ["ann@example.com"] and mail.mail_from == SENDER
    assert mail.subject == "Your invitation to evctl"
    assert "role basic, base group HQ" in mail.body and "valid 48 hours" in mail.body
    first = CODE.search(mail.body).group(0)
    assert f"evctl login --invite {first}" in mail.body

    shown = wait_until(lambda: (lambda o: o if o["mail"] and o["mail"][0]["state"] == "sent" else None)(
        operator_json(served, "ann@example.com")))
    assert shown["password_set"] is False and shown["mail"][0]["kind"] == "invite"
    table = served.run("operator", "show", "ann@example.com", "-o", "table").stdout
    assert "not set (invited)" in table and "invite mail" in table and " sent " in table

    # Ensto's reminder: a new code replaces the first one.
    out = served.run("operator", "invite", "ann@example.com")
    assert "reminded" in out.stdout
    reminder = sink.wait_for(lambda m: m.subject == "Reminder: your invitation to evctl")
    second = CODE.search(reminder.body).group(0)
    assert second != first
    assert login_with_code(served, first, "annpass123", check=False).returncode == 77

    weak = login_with_code(served, second, "short", check=False)
    assert weak.returncode == 65 and "password too weak" in weak.stderr
    # Typed in lower case without dashes, the code still works, once.
    done = login_with_code(served, second.lower().replace("-", ""), "annpass123")
    assert "logged in as ann@example.com" in done.stdout
    again = login_with_code(served, second, "annpass456", check=False)
    assert again.returncode == 77 and "code not accepted" in again.stderr
    served.run("logout")
    assert "logged in as ann@example.com" in served.run(
        "login", "ann@example.com", "--password-stdin", stdin="annpass123\n").stdout
    served.run("logout")
    assert operator_json(served, "ann@example.com")["password_set"] is True

    # An operator with a password is not invited again, and the store keeps no code in clear.
    refused = served.run("operator", "invite", "ann@example.com", check=False)
    assert refused.returncode == 1 and "password-reset" in refused.stderr
    hashes = [row[0] for row in served.sql("SELECT code_hash FROM operator_codes")]
    assert hashes and second not in hashes and second.replace("-", "") not in hashes
    assert hashlib.sha256(second.replace("-", "").encode()).hexdigest() in hashes


def test_password_reset_mails_a_code_and_says_the_same_for_unknown_emails(served, sink):
    served.run("operator", "create", "bob@example.com", "--name", "Bob", "--role", "support",
               "--password-stdin", stdin="bobpass123\n")
    known = served.run("password-reset", "bob@example.com")
    unknown = served.run("password-reset", "nobody@example.com")
    assert known.stdout.replace("bob@", "X@") == unknown.stdout.replace("nobody@", "X@")
    mail = sink.wait_for(lambda m: m.recipients == ["bob@example.com"])
    assert mail.subject == "evctl password reset" and "valid 1 hour" in mail.body
    code = CODE.search(mail.body).group(0)
    assert "logged in as bob@example.com" in login_with_code(served, code, "newbob456").stdout
    served.run("logout")
    old = served.run("login", "bob@example.com", "--password-stdin", stdin="bobpass123\n", check=False)
    assert old.returncode == 77
    time.sleep(2)
    assert not [m for m in sink.messages if "nobody@example.com" in m.recipients]


def test_alarm_mail_instant_and_daily_reach_only_the_operators_of_the_stations_group(served, sink):
    def operator(email, base, mode, *extra):
        args = ["operator", "create", email, "--name", email.split("@")[0], "--role", "basic",
                "--password-stdin"]
        if base:
            args += ["--base-group", base]
        served.run(*args, stdin="secret123\n")
        served.run("operator", "update", email, "--alarm-mail", mode, *extra)

    operator("ann@example.com", "HQ", "instant")
    operator("dan@example.com", "Depot", "instant")
    operator("fay@example.com", "HQ", "off")
    operator("gus@example.com", None, "instant")
    served.run("operator", "update", "fay@example.com", "--alarm-mail-hour", "8")
    assert "Alarm mail:" in served.run("operator", "show", "fay@example.com", "-o", "table").stdout

    async def faulted():
        async with connect(served, "CP-1") as ws:
            cp = Station("CP-1", ws)
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            await cp.call(call.StatusNotification(
                connector_id=1, error_code="GroundFailure", status="Faulted", info="RCD tripped"))
            cp.task.cancel()

    asyncio.run(faulted())
    subject = "evctl alarm: connector_faulted at CP-1 connector 1 (GroundFailure)"
    ann = sink.wait_for(lambda m: m.recipients == ["ann@example.com"])
    assert ann.subject == subject
    assert "in HQ" in ann.body and "RCD tripped" in ann.body
    assert "evctl alarm list --station CP-1" in ann.body
    gus = sink.wait_for(lambda m: m.recipients == ["gus@example.com"])
    assert gus.subject == subject

    # The daily digest at an hour that has come today (0): the active alarms of the base group.
    served.run("operator", "update", "fay@example.com", "--alarm-mail", "daily", "--alarm-mail-hour", "0")
    shown = served.run("operator", "show", "fay@example.com", "-o", "table").stdout
    assert "daily at 00:00" in shown
    digest = sink.wait_for(lambda m: m.recipients == ["fay@example.com"], timeout=40)
    assert digest.subject.startswith("evctl daily alarms ") and digest.subject.endswith(": 1 active in HQ")
    assert "connector_faulted at CP-1 connector 1 (GroundFailure)" in digest.body
    time.sleep(1.5)
    assert not [m for m in sink.messages if "dan@example.com" in m.recipients]
    # One digest a day.
    assert len([m for m in sink.messages if "fay@example.com" in m.recipients]) == 1


def test_mail_that_fails_is_retried_and_its_state_shown(tmp_path):
    port = free_port()
    server = mail_serve(tmp_path, f"smtp://127.0.0.1:{port}")
    try:
        server.run("operator", "invite", "ann@example.com", "--role", "basic")

        def retrying():
            mail = operator_json(server, "ann@example.com")["mail"][0]
            return mail if mail["attempts"] >= 1 and mail["last_error"] else None

        mail = wait_until(retrying)
        assert mail["state"] == "queued" and mail["next_attempt_at"]
        assert "retrying: " in server.run("operator", "show", "ann@example.com", "-o", "table").stdout
        smtp = SMTPSink(port).start()
        try:
            delivered = smtp.wait_for(lambda m: m.recipients == ["ann@example.com"])
            assert delivered.subject == "Your invitation to evctl"
            sent = wait_until(lambda: (lambda m: m if m["state"] == "sent" else None)(
                operator_json(server, "ann@example.com")["mail"][0]))
            assert sent["attempts"] >= 2 and sent["last_error"] is None
        finally:
            smtp.stop()
        _, err = server.stop()
        assert "not sent (attempt 1)" in err
    finally:
        server.stop()


def test_smtps_with_a_login_from_a_password_file(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    ca = make_ca(str(certs))
    cert, key = make_server_cert(str(certs), "smtp")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    smtp = SMTPSink(port, credentials=("evctl", "s3cret pass"), ssl_context=context).start()
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret pass\n")
    server = mail_serve(tmp_path, f"smtps://localhost:{port}", "--smtp-user", "evctl",
                        "--smtp-password-file", str(secret), "--smtp-ca", ca)
    try:
        server.run("operator", "invite", "ann@example.com", "--role", "admin")
        mail = smtp.wait_for(lambda m: m.recipients == ["ann@example.com"])
        assert mail.subject == "Your invitation to evctl"
        assert smtp.logins == [True]
        # The password is never on the command line.
        with open(f"/proc/{server.process.pid}/cmdline", "rb") as f:
            assert b"s3cret" not in f.read()
        # A wrong password: the failure is shown, and the mail is retried (aiosmtpd's answer to a
        # failed AUTH varies, so only that there is a reason is checked).
        server.stop()
        secret.write_text("wrong\n")
        server.start()
        server.run("operator", "invite", "bob@example.com", "--role", "basic")
        failed = wait_until(lambda: (lambda m: m if m["last_error"] else None)(
            operator_json(server, "bob@example.com")["mail"][0]))
        assert failed["state"] == "queued" and failed["attempts"] >= 1, failed
        assert "retrying: " in server.run("operator", "show", "bob@example.com", "-o", "table").stdout
        assert not [m for m in smtp.messages if "bob@example.com" in m.recipients]
    finally:
        server.stop()
        smtp.stop()


def test_mail_options_are_checked(tmp_path):
    evctl = Evctl(str(tmp_path / "evctl.db"))
    evctl.run("group", "create", "HQ")
    cases = [
        (["--smtp", "smtp://user:pw@127.0.0.1:25", "--mail-from", SENDER], "must not carry a password"),
        (["--smtp", "smtp://127.0.0.1:25"], "--smtp needs --mail-from"),
        (["--mail-from", SENDER], "--mail-from needs --smtp"),
        (["--smtp", "http://127.0.0.1", "--mail-from", SENDER], "expected smtp://"),
        (["--smtp", "smtp://127.0.0.1:25", "--mail-from", "not an address"], "invalid --mail-from"),
    ]
    for args, message in cases:
        result = evctl.run("serve", "--listen", f"127.0.0.1:{free_port()}", *args, check=False)
        assert result.returncode == 64, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    bad = evctl.run("operator", "update", "nobody@example.com", "--alarm-mail", "weekly", check=False)
    assert bad.returncode == 64


def test_a_mail_server_that_never_answers_does_not_hold_up_stations(tmp_path):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []

    def hang():
        # Takes connections and never says a word (no 220 greeting).
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=hang, daemon=True).start()
    server = mail_serve(tmp_path, f"smtp://127.0.0.1:{port}")
    try:
        server.run("operator", "invite", "ann@example.com", "--role", "basic")
        served_at = time.time()
        wait_until(lambda: accepted, timeout=20)

        async def heartbeats():
            async with connect(server, "CP-1") as ws:
                cp = Station("CP-1", ws)
                await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
                for _ in range(5):
                    await asyncio.wait_for(cp.call(call.Heartbeat()), timeout=5)
                cp.task.cancel()

        asyncio.run(heartbeats())
        # The mailer was still waiting on the silent server the whole time.
        assert time.time() - served_at < 25
        assert operator_json(server, "ann@example.com")["mail"][0]["state"] == "queued"
    finally:
        server.stop()
        listener.close()
        for conn in accepted:
            conn.close()
