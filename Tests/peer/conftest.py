"""Fixtures that run the built `evctl serve` against a fresh store, on a free loopback port."""
import os
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("EVCTL_BIN", os.path.join(ROOT, ".build", "debug", "evctl"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Under EVCTL_TEST_BACKEND=postgresql (with EVCTL_TEST_POSTGRES_URL, a database on the throwaway
# cluster Tests/run.sh starts), every store is a fresh PostgreSQL database instead of a file, so
# serve and the CLI run on PostgreSQL (issue 14 item 3). Tests look into the store through
# `Evctl.sql`, which speaks to either backend. A test about the SQLite file itself is marked
# `@pytest.mark.sqlite_only("why")`. The modules in OWN_CLUSTER_MODULES start a PostgreSQL cluster
# of their own (with HAProxy and several nodes): they run on PostgreSQL in the first pass already
# and are not run a second time.
ON_POSTGRES = os.environ.get("EVCTL_TEST_BACKEND") == "postgresql"
OWN_CLUSTER_MODULES = {
    "test_failover",
    "test_postgres",
}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test is about the SQLite store file; skipped on PostgreSQL")


def pytest_collection_modifyitems(config, items):
    if not ON_POSTGRES:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "about the SQLite store file"
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        elif item.module.__name__.split(".")[-1] in OWN_CLUSTER_MODULES:
            item.add_marker(pytest.mark.skip(
                reason="starts its own PostgreSQL cluster: it ran on PostgreSQL in the first pass"))


def postgres_database():
    """Creates a fresh database on the test cluster and returns its URL."""
    base = os.environ["EVCTL_TEST_POSTGRES_URL"]
    name = f"evp_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    head, _, query = base.partition("?")
    return head[:head.rindex("/") + 1] + name + ("?" + query if query else "")


class Evctl:
    """The built binary, pointed at one store (a file, or a PostgreSQL database)."""

    def __init__(self, db):
        folder = os.path.dirname(db)
        # A PostgreSQL URL given (several nodes on one database) is kept as it is.
        if ON_POSTGRES and not db.startswith(("postgresql://", "postgres://")):
            db = postgres_database()
        self.db = db
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(folder, "config"),
                        EVCTL_DB=db)
        self.process = None
        self.port = None
        self.folder = folder
        self._log = None
        # Options every start of serve gets (a test module may set them, e.g. --no-auto-config).
        self.serve_args = []

    def run(self, *args, stdin=None, check=True):
        result = subprocess.run(
            [BINARY, "--db", self.db, *args], input=stdin, capture_output=True, text=True,
            timeout=60, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"evctl {' '.join(args)} failed: {result.stderr}")
        return result

    def start(self, *extra):
        self.port = free_port()
        # serve's log goes to a file, not an unread pipe: a pipe fills at 64 KiB (a few hundred
        # stations' connect lines) and serve would then block on its next log line.
        # (A store given as a PostgreSQL URL has no folder: the log then goes to a temporary file.)
        if os.path.isdir(self.folder):
            self._log = open(os.path.join(self.folder, f"serve-{uuid.uuid4().hex[:8]}.log"), "w+")
        else:
            self._log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [BINARY, "--db", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--ping-interval", "30", *self.serve_args, *extra],
            stdout=subprocess.DEVNULL, stderr=self._log, text=True, env=self.env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("evctl serve did not start")

    def stop(self, kill=False):
        if self.process is None:
            return ""
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        _, err = self.process.communicate(timeout=60)
        code = self.process.returncode
        self.process = None
        if self._log is not None:
            self._log.seek(0)
            err = self._log.read()
            self._log.close()
            self._log = None
        return code, err

    @property
    def on_postgres(self):
        return self.db.startswith(("postgresql://", "postgres://"))

    def sql(self, query, params=()):
        """Runs one statement on this store, SQLite file or PostgreSQL database alike, commits it,
        and returns its rows as a list of tuples. Placeholders are `?` on both backends. On
        PostgreSQL booleans come back as True/False (equal to SQLite's 1/0) and timestamptz
        columns as datetime; compare through `str()` or a cast in the query where that matters."""
        if self.on_postgres:
            import psycopg
            with psycopg.connect(self.db, autocommit=True) as db:
                # psycopg's placeholders are %s: a literal % (LIKE 'LT%') is written %%.
                cursor = db.execute(query.replace("%", "%%").replace("?", "%s"), tuple(params))
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.db, timeout=10) as db:
            return db.execute(query, tuple(params)).fetchall()

    def url(self, identity):
        return f"ws://127.0.0.1:{self.port}/ocpp/{identity}"


@pytest.fixture
def evctl(tmp_path):
    server = Evctl(str(tmp_path / "evctl.db"))
    server.run("group", "create", "HQ", "--kind", "site")
    server.run("station", "create", "CP-1", "--name", "Gate", "--group", "HQ", "--connectors", "2",
               "--security-profile", "0")
    server.run("station", "create", "CP-2", "--name", "Back", "--group", "HQ", "--security-profile", "0")
    server.run("station", "create", "CP-SEC", "--name", "Secure", "--password-stdin",
               stdin="0123456789abcdef0123\n")
    server.run("user", "create", "eva@example.com", "--first", "Eva", "--last", "Berg")
    server.run("token", "add", "GOOD1", "--user", "eva@example.com")
    server.run("token", "add", "BLOCKED1", "--user", "eva@example.com")
    server.run("token", "block", "BLOCKED1")
    server.run("token", "add", "OLD1", "--user", "eva@example.com", "--valid-from", "2020-01-01",
               "--valid-to", "2021-01-01")
    server.run("token", "add", "FUTURE1", "--user", "eva@example.com", "--valid-from", "2099-01-01")
    server.start()
    yield server
    server.stop()
