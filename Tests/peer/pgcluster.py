"""A throwaway PostgreSQL cluster for the tests: `initdb` + `pg_ctl` on a temporary folder,
listening on a unix socket only (no TCP port), thrown away afterwards.

PostgreSQL refuses to run as root; CI runs as root, so there the server runs as the `postgres`
user the Debian package creates (or EVCTL_PG_USER) through `runuser`. The superuser role is
`evctl` (trust on the socket); `pwuser` needs its password (scram-sha-256), for the tests of
~/.pgpass and PGPASSWORD.
"""
import glob
import os
import sys
import pwd
import shutil
import subprocess
import tempfile

PASSWORD_USER = "pwuser"
PASSWORD = "s3cret-pw-2026"


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(os.path.realpath(initdb))
    raise RuntimeError("initdb not found: install the Debian package postgresql (Tests/run.sh does)")


class Cluster:
    def __init__(self, base=None):
        self.bindir = _bindir()
        self.base = base or tempfile.mkdtemp(prefix="evpg")  # short: a socket path has ~107 bytes
        self.data = os.path.join(self.base, "data")
        self.user = None
        if os.geteuid() == 0:
            self.user = os.environ.get("EVCTL_PG_USER", "postgres")
            try:
                pwd.getpwnam(self.user)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", self.user], check=True)
            if base is None:
                os.chmod(self.base, 0o755)
                shutil.chown(self.base, user=self.user)

    def _run_as_owner(self, *command):
        # From a folder the server's user may enter (CI's checkout may be closed to it).
        return subprocess.run(self._as_owner(*command), check=True, capture_output=True, cwd=self.base)

    def _as_owner(self, *command):
        if self.user:
            return ["runuser", "-u", self.user, "--", *command]
        return list(command)

    def start(self):
        self._run_as_owner(os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "evctl",
                           "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as hba:
            hba.write(f"local all {PASSWORD_USER} scram-sha-256\nlocal all all trust\n")
        self._run_as_owner(
            os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.base, "log"), "-w",
            "-o", f"-k {self.base} -c listen_addresses='' -c fsync=off -c full_page_writes=off", "start")
        self.sql("postgres", f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        return self

    def stop(self):
        subprocess.run(self._as_owner(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                                      "-w", "stop"), capture_output=True, cwd=self.base)
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database, user="evctl", scheme="postgresql"):
        return f"{scheme}://{user}@/{database}?host={self.base}"

    def sql(self, database, statement):
        """Runs one statement with psql and returns its rows as lists of strings."""
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", self.base, "-U", "evctl",
             "-d", database, "-c", statement], capture_output=True, text=True, check=True)
        return [line.split("\t") for line in result.stdout.splitlines()]

    def create_database(self, name, owner="evctl"):
        self.sql("postgres", f'CREATE DATABASE "{name}" OWNER {owner}')
        return self.url(name)


if __name__ == "__main__":
    # For Tests/run.sh and developers: `pgcluster.py start` prints the folder and a database URL
    # for the Swift tests (EVCTL_TEST_POSTGRES_URL); `pgcluster.py stop FOLDER` throws it away.
    if len(sys.argv) >= 2 and sys.argv[1] == "start":
        cluster = Cluster().start()
        url = cluster.create_database("evctl_swift")
        print(cluster.base)
        print(url)
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        Cluster(base=sys.argv[2]).stop()
    else:
        sys.exit("usage: pgcluster.py start | stop FOLDER")
