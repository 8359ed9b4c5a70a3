"""Issue 14 items 2 and 3's foundation: the store's schema on PostgreSQL, `db migrate --dry-run` on
both backends, `db copy` between SQLite and PostgreSQL, and an explicit "not supported on PostgreSQL" for
the few commands that need a SQLite store. Runs against a throwaway cluster."""
import itertools
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import BINARY
from pgcluster import PASSWORD, PASSWORD_USER, Cluster

_names = itertools.count(1)


@pytest.fixture(scope="module")
def cluster():
    started = Cluster().start()
    yield started
    started.stop()


@pytest.fixture
def pgdb(cluster):
    """A new empty database and its URL."""
    name = f"evctl_{next(_names)}"
    return name, cluster.create_database(name)


def evctl(*args, env=None, stdin=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=120, input=stdin,
                          env=env or dict(os.environ))


def tables(cluster, name):
    return sorted(row[0] for row in cluster.sql(
        name, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))


def test_db_migrate_dry_run_lists_and_rolls_back_then_migrate_creates_the_schema(cluster, pgdb):
    name, url = pgdb
    dry = evctl("--db", url, "db", "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].startswith("would migrate schema from version 0 to ")
    latest = int(lines[0].rstrip(":").split()[-1])
    assert [line.split(":")[0].strip() for line in lines[1:-1]] == [str(v) for v in range(1, latest + 1)]
    assert "CREATE TABLE stations" in lines[1]
    assert "dry run: nothing was written" in dry.stderr
    assert tables(cluster, name) == [], "a dry run left tables behind"

    plan = json.loads(evctl("--db", url, "db", "migrate", "--dry-run", "-o", "json").stdout)
    assert plan["from"] == 0 and plan["to"] == latest and len(plan["migrations"]) == latest

    done = evctl("--db", url, "db", "migrate")
    assert done.returncode == 0 and done.stdout == f"migrated schema from version 0 to {latest}\n", done.stderr
    assert "stations" in tables(cluster, name) and "evctl_schema_version" in tables(cluster, name)
    assert cluster.sql(name, "SELECT version FROM evctl_schema_version") == [[str(latest)]]
    again = evctl("--db", url, "db", "migrate", "--dry-run")
    assert again.stdout.startswith(f"schema is up to date (version {latest})"), again.stdout
    # The types chosen for PostgreSQL.
    types = dict(((t, c), d) for t, c, d in cluster.sql(name, """
        SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"""))
    assert types[("stations", "id")] == "bigint"
    assert types[("stations", "created_at")] == "timestamp with time zone"
    assert types[("stations", "connected")] == "boolean"
    assert types[("transactions", "id")] == "integer"
    assert cluster.sql(name, """SELECT is_identity FROM information_schema.columns
        WHERE table_name = 'meter_values' AND column_name = 'id'""") == [["YES"]]
    # Identities, e-mails and tags compare without case, as SQLite's COLLATE NOCASE.
    cluster.sql(name, "INSERT INTO stations (identity, name, created_at, updated_at) VALUES ('CP-1', 'a', now(), now())")
    with pytest.raises(subprocess.CalledProcessError):
        cluster.sql(name, "INSERT INTO stations (identity, name, created_at, updated_at) VALUES ('cp-1', 'b', now(), now())")
    assert cluster.sql(name, "SELECT name FROM stations WHERE identity = 'Cp-1'") == [["a"]]


def test_db_check_on_postgresql_finds_a_schema_that_is_not_evctls(cluster, pgdb):
    name, url = pgdb
    empty = evctl("--db", url, "db", "check")
    assert empty.returncode == 1 and "error: schema version 0, this evctl's is" in empty.stderr, empty.stderr
    evctl_run("--db", url, "db", "migrate")
    ok = evctl("--db", url, "db", "check")
    assert ok.returncode == 0 and ok.stdout == "ok\n", ok.stderr
    cluster.sql(name, "ALTER TABLE stations DROP COLUMN vendor")
    cluster.sql(name, "ALTER TABLE stations ADD COLUMN colour text")
    cluster.sql(name, "DROP TABLE token_sightings")
    broken = evctl("--db", url, "db", "check")
    assert broken.returncode == 1
    assert sorted(broken.stderr.splitlines()) == [
        "error: column stations.colour is not evctl's",
        "error: column stations.vendor is missing",
        "error: table token_sightings is missing",
    ], broken.stderr


def undo(statement):
    """The SQL that undoes one statement of a migration, as `db migrate --dry-run` names it."""
    words = statement.split()
    if words[:2] == ["CREATE", "TABLE"]:
        return f"DROP TABLE IF EXISTS {words[2]}"
    if words[0] == "CREATE" and "INDEX" in words[1:3]:
        return f"DROP INDEX IF EXISTS {words[words.index('INDEX') + 1]}"
    if words[:2] == ["ALTER", "TABLE"] and words[3:5] == ["ADD", "COLUMN"]:
        return f"ALTER TABLE {words[2]} DROP COLUMN {words[5]}"
    if words[0] == "UPDATE":
        return "SELECT 1"  # a backfill of a column the migration adds: dropping the column undoes it
    raise AssertionError(f"teach undo() to undo {statement!r}")


def test_db_migrate_dry_run_on_sqlite_lists_what_an_old_store_lacks_and_changes_nothing(tmp_path):
    db = str(tmp_path / "old.db")
    assert evctl("--db", db, "group", "create", "HQ").returncode == 0
    # Make it a store of the version before the last migration.
    with sqlite3.connect(db) as conn:
        latest = conn.execute("PRAGMA user_version").fetchone()[0]
    fresh = str(tmp_path / "fresh.db")
    dry_new = evctl("--db", fresh, "db", "migrate", "--dry-run")
    assert dry_new.returncode == 0, dry_new.stderr
    assert dry_new.stdout.startswith(f"would migrate schema from version 0 to {latest}:"), dry_new.stdout
    assert not os.path.exists(fresh)
    # An old store: what the last migration made undone (whichever migration is last) and the
    # version one back.
    plan = evctl("--db", fresh, "db", "migrate", "--dry-run", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    last = json.loads(plan.stdout)["migrations"][-1]
    assert last["version"] == latest
    with sqlite3.connect(db) as conn:
        for statement in reversed(last["statements"]):
            conn.execute(undo(statement))
        conn.execute(f"PRAGMA user_version = {latest - 1}")
    dry = evctl("--db", db, "db", "migrate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0] == f"would migrate schema from version {latest - 1} to {latest}:"
    assert dry.stdout.splitlines()[1].startswith(f"  {latest}: ")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest - 1


def make_store(tmp_path, evctl_fixture):
    """A SQLite store with sessions, meter values, status events, alarms and commands."""
    run = evctl_fixture.run
    run("group", "create", "Floor 1", "--parent", "HQ")
    run("group", "capacity", "set", "HQ", "--max-current", "63")
    run("profile", "create", "Cap16", "--purpose", "TxDefaultProfile", "--period", "0:16")
    for _ in range(2):
        result = subprocess.run(
            [BINARY, "simulate", "--url", f"ws://127.0.0.1:{evctl_fixture.port}/ocpp", "--identity", "CP-1",
             "--connectors", "2", "--id-tag", "GOOD1", "--check"],
            capture_output=True, text=True, timeout=60, env=evctl_fixture.env)
        assert result.returncode == 0, result.stderr
    evctl_fixture.stop()
    return evctl_fixture.db


REPORTS = [
    ("report", "sessions", "-o", "csv"), ("report", "sessions", "-o", "json"),
    ("report", "energy", "--by", "day", "-o", "csv"), ("station", "list", "-o", "json"), ("token", "list", "-o", "json"),
    ("user", "list", "-o", "json"), ("group", "list", "-o", "json"), ("profile", "list", "-o", "json"),
    ("event", "list", "-o", "json"), ("command", "list", "-o", "json"), ("alarm", "list", "--history", "-o", "json"),
    ("station", "connector", "list", "CP-1", "-o", "json"), ("group", "capacity", "show", "HQ", "-o", "json"),
]


def reports(db):
    out = []
    for args in REPORTS:
        result = evctl("--db", db, *args)
        assert result.returncode == 0, (args, result.stderr)
        out.append(canonical_ties(result.stdout) if args[:2] == ("event", "list") else result.stdout)
    return out


def canonical_ties(text):
    """`event list` is ordered by received_at only: two rows stamped in the same millisecond have
    no defined order, and SQLite and PostgreSQL break such ties differently. Keep the time order,
    put tied rows in one fixed order, and compare everything else as printed."""
    rows = json.loads(text)
    return json.dumps(sorted(rows, key=lambda r: (r["received_at"], json.dumps(r, sort_keys=True))), indent=2)


def dump(db):
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_db_copy_round_trip_sqlite_postgresql_sqlite_gives_the_same_store_and_reports(cluster, pgdb, evctl, tmp_path):
    name, url = pgdb
    source = make_store(tmp_path, evctl)
    sessions = int(sqlite3.connect(source).execute("SELECT count(*) FROM transactions").fetchone()[0])
    assert sessions >= 2
    there = evctl_run("db", "copy", "--from", f"sqlite:{source}", "--to", url, "-o", "json")
    body = json.loads(there.stdout)
    assert body["verified"] is True and body["rows"] > 20
    by_table = {t["table"]: t for t in body["tables"]}
    assert by_table["transactions"]["rows"] == sessions
    # Row counts on the PostgreSQL side, counted by PostgreSQL itself.
    for table in ("transactions", "meter_values", "status_events", "stations", "tokens", "groups"):
        assert cluster.sql(name, f"SELECT count(*) FROM {table}") == [[str(by_table[table]["rows"])]], table
    # Identities continue after the copied ids.
    cluster.sql(name, "INSERT INTO groups (name, created_at) VALUES ('New', now())")
    assert int(cluster.sql(name, "SELECT max(id) FROM groups")[0][0]) == by_table["groups"]["rows"] + 1
    cluster.sql(name, "DELETE FROM groups WHERE name = 'New'")

    # The copy on PostgreSQL reports the same as the SQLite store it came from.
    assert reports(url) == reports(source)

    back = str(tmp_path / "back.db")
    again = evctl_run("db", "copy", "--from", url, "--to", f"sqlite:{back}", "-o", "json")
    assert [(t["table"], t["rows"], t["checksum"]) for t in json.loads(again.stdout)["tables"]] == \
        [(t["table"], t["rows"], t["checksum"]) for t in body["tables"]]
    assert oct(os.stat(back).st_mode & 0o777) == "0o600"
    assert reports(back) == reports(source)
    assert dump(back) == dump(source)
    assert [f for f in os.listdir(tmp_path) if ".copy-" in f] == []


def evctl_run(*args, env=None):
    result = evctl(*args, env=env)
    assert result.returncode == 0, f"evctl {' '.join(args)}: {result.stderr}"
    return result


def test_db_copy_is_all_or_nothing(cluster, pgdb, tmp_path):
    name, url = pgdb
    source = str(tmp_path / "s.db")
    evctl_run("--db", source, "group", "create", "HQ")
    evctl_run("--db", source, "station", "create", "CP-1", "--name", "Gate", "--group", "HQ", "--connectors", "2")
    evctl_run("--db", source, "station", "create", "CP-2", "--name", "Back", "--group", "HQ")
    # A value PostgreSQL's types refuse, in the last station: every row before it was sent already.
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE stations SET last_seen_at = 'yesterday-ish' WHERE identity = 'CP-2'")
    failed = evctl("db", "copy", "--from", source, "--to", url)
    assert failed.returncode != 0 and failed.returncode != 70, failed.stderr
    assert failed.stderr.startswith("error: db copy: table stations: "), failed.stderr
    assert "nothing was written" in failed.stderr
    assert tables(cluster, name) == [], "a failed copy left tables behind"
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE stations SET last_seen_at = NULL WHERE identity = 'CP-2'")

    # A target that holds data is refused, and left as it was.
    evctl_run("db", "copy", "--from", source, "--to", url)
    refused = evctl("db", "copy", "--from", source, "--to", url)
    assert refused.returncode == 1
    assert "the target already holds data (table groups has 1 row(s))" in refused.stderr
    assert cluster.sql(name, "SELECT count(*) FROM stations") == [["2"]]

    # A SQLite target that exists is refused; a failing copy into a new file leaves no file.
    existing = tmp_path / "exists.db"
    existing.write_text("")
    assert evctl("db", "copy", "--from", url, "--to", str(existing)).returncode == 74
    cluster.sql(name, "UPDATE evctl_schema_version SET version = version + 1")
    newer = evctl("db", "copy", "--from", url, "--to", str(tmp_path / "new.db"))
    assert newer.returncode == 1 and "run 'evctl db migrate' on it first" in newer.stderr, newer.stderr
    assert sorted(os.listdir(tmp_path)) == ["exists.db", "s.db"] or \
        all(not f.startswith("new.db") and ".copy-" not in f for f in os.listdir(tmp_path))

    # --dry-run verifies and keeps nothing.
    other_name = f"evctl_dry_{next(_names)}"
    other = cluster.create_database(other_name)
    dry = evctl_run("db", "copy", "--from", source, "--to", other, "--dry-run")
    assert dry.stdout.startswith("would copy ") and "checksums match" in dry.stdout
    assert tables(cluster, other_name) == []


def test_urls_pg_variables_and_pgpass_work_as_in_psql(cluster, pgdb, tmp_path):
    name, _ = pgdb
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    for var in ("PGHOST", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE", "PGPORT", "PGSERVICE"):
        env.pop(var, None)
    url = cluster.url(name, user=PASSWORD_USER)
    # A role without CREATE on the schema: permission denied, exit 77, nothing created.
    denied = evctl("--db", url, "db", "migrate", env=dict(env, PGPASSWORD=PASSWORD))
    assert denied.returncode == 77 and "permission denied for schema public" in denied.stderr, denied.stderr
    assert tables(cluster, name) == []
    cluster.sql(name, f"GRANT ALL ON SCHEMA public TO {PASSWORD_USER}")
    # No password anywhere: refused, permission exit code, the password not leaked.
    refused = evctl("--db", url, "db", "migrate", env=env)
    assert refused.returncode == 77, refused.stderr
    assert "PostgreSQL refused the connection" in refused.stderr
    # ~/.pgpass, as libpq reads it (mode 0600).
    pgpass = home / ".pgpass"
    pgpass.write_text(f"*:*:*:{PASSWORD_USER}:{PASSWORD}\n")
    pgpass.chmod(0o600)
    assert evctl("--db", url, "db", "migrate", env=env).returncode == 0, "pgpass"
    pgpass.unlink()
    # PG* variables fill in what the URL leaves out; postgres:// is the same as postgresql://.
    env_vars = dict(env, PGHOST=cluster.base, PGUSER=PASSWORD_USER, PGDATABASE=name, PGPASSWORD=PASSWORD)
    up = evctl("--db", "postgres://", "db", "migrate", env=env_vars)
    assert up.returncode == 0 and up.stdout.startswith("schema is up to date"), up.stderr
    # EVCTL_DB names it too; a password in the URL is never printed back.
    secret_url = f"postgresql://{PASSWORD_USER}:{PASSWORD}@/{name}?host={cluster.base}"
    path = evctl("db", "path", env=dict(env, EVCTL_DB=secret_url))
    assert path.stdout == f"postgresql://{PASSWORD_USER}:***@/{name}?host={cluster.base}\n"
    listed = evctl("station", "list", env=dict(env, EVCTL_DB=secret_url))
    assert PASSWORD not in listed.stderr and listed.returncode == 0, listed.stderr


@pytest.mark.parametrize("command,extra,hint", [
    ("db backup", ("/tmp/never.db",), "use pg_dump"), ("ca init", (), "beside a SQLite store file"),
])
def test_the_sqlite_only_commands_say_so_on_postgresql(pgdb, command, extra, hint):
    _, url = pgdb
    assert evctl("--db", url, "db", "migrate").returncode == 0
    result = evctl("--db", url, *command.split(), *extra, stdin="x\n")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: 'evctl {command}' is not supported on PostgreSQL ("), result.stderr
    assert "\nhint: " in result.stderr and hint in result.stderr, result.stderr


def test_the_cli_works_on_postgresql_through_the_binary(pgdb, tmp_path):
    _, url = pgdb
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"), EVCTL_DB=url)
    # An empty database is a missing store for a command that only reads.
    empty = evctl("station", "list", env=env)
    assert empty.returncode == 66 and "no evctl store in" in empty.stderr, empty.stderr
    for line in ["group create HQ --kind site", "station create CP-1 --name One --group HQ",
                 "user create ann@x.io --first Ann --last Lund", "token add CARD1 --user ann@x.io"]:
        made = evctl(*line.split(), env=env)
        assert made.returncode == 0, f"{line}: {made.stderr}"
    listed = evctl("station", "list", "-o", "json", env=env)
    assert listed.returncode == 0 and '"identity": "CP-1"' in listed.stdout, listed.stderr
    for line in ["report sessions", "report energy --by day", "status", "event list", "alarm list",
                 "command list", "token list", "station timeline CP-1", "db check"]:
        ran = evctl(*line.split(), env=env)
        assert ran.returncode == 0, f"{line}: {ran.stderr}"


def test_connection_failures_have_their_own_exit_codes(cluster, tmp_path):
    nowhere = evctl("--db", f"postgresql://evctl@/evctl?host={tmp_path}", "db", "migrate")
    assert nowhere.returncode == 69 and "cannot connect to PostgreSQL" in nowhere.stderr, nowhere.stderr
    missing = evctl("--db", cluster.url("no_such_db"), "db", "migrate")
    assert missing.returncode == 66 and "no_such_db" in missing.stderr, missing.stderr
