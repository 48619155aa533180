"""A real PostgreSQL server for the billing tests and the benchmark, started and stopped here.

The server comes from the machine's own PostgreSQL binaries (`initdb` and `pg_ctl` on PATH, or
in the usual Debian and Red Hat places) when it has them, else from the `pgserver` wheel of the
test extra, so a fresh machine needs nothing but `pip install '.[test]'`. PostgreSQL refuses to
run as root: then the cluster runs as `nobody` (system binaries; pgserver makes its own user).
It listens on a Unix socket in its own temporary folder, never on the network.

`Server.database(name)` creates a database and returns its owner's URL (the superuser, who runs
`init`) and its run-time URL (`billing_app`, created by the migrations).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
APP_ROLE = "billing_app"
TEST_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")


@dataclass(frozen=True)
class Urls:
    owner: str  # the superuser: creates, migrates, tampers
    app: str  # what the service connects as at run time


class Server:
    def __init__(self, *, durable: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="billing-pg-"))
        self._stop = None
        options = "-c max_connections=200" + ("" if durable else " " + TEST_SETTINGS)
        binaries = _system_binaries()
        if binaries:
            self.socket_dir = self._start_system(binaries, options)
        else:
            self.socket_dir = self._start_wheel(options)

    def url(self, database: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)

    def database(self, name: str, template: str | None = None) -> Urls:
        clause = f" TEMPLATE {template}" if template else ""
        self.psql(f"CREATE DATABASE {name}{clause}")
        return Urls(self.url(name), self.url(name, APP_ROLE))

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def _start_system(self, bin_dir: Path, options: str) -> Path:
        user = _unprivileged_user()
        data, socket_dir = self.folder / "data", self.folder / "socket"
        socket_dir.mkdir()
        if user is not None:
            for path in (self.folder, socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        run = _runner(user)
        run([str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"])
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log")]
        run([*pg_ctl, "-w", "-t", "60", "-o",
             f"-k {socket_dir} -c listen_addresses='' {options}", "start"])
        self._stop = lambda: run([*pg_ctl, "-m", "immediate", "-w", "stop"], check=False)
        return socket_dir

    def _start_wheel(self, options: str) -> Path:
        import pgserver

        server = pgserver.get_server(self.folder / "data", cleanup_mode="stop")
        server.psql(f"ALTER SYSTEM SET max_connections = 200")
        if "fsync=off" in options:
            server.psql("ALTER SYSTEM SET fsync = off")
            server.psql("ALTER SYSTEM SET synchronous_commit = off")
        self._stop = server.cleanup
        uri = server.get_uri()
        return Path(uri.split("host=", 1)[1].split("&", 1)[0])


def _system_binaries() -> Path | None:
    initdb = shutil.which("initdb")
    candidates = [Path(initdb).resolve().parent] if initdb else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    candidates += [Path(p) for p in sorted(glob.glob("/usr/pgsql-*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _unprivileged_user() -> pwd.struct_passwd | None:
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _runner(user: pwd.struct_passwd | None):
    def run(argv: list[str], check: bool = True) -> None:
        extra = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid,
                                         "extra_groups": [], "cwd": "/"}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, **extra)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr or done.stdout}")

    return run
