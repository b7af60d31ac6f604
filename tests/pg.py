"""A throwaway PostgreSQL for the tests: one server per session, one fresh database per test.

The server is started from the PostgreSQL binaries on the machine (as the `postgres` user when
the tests run as root: initdb refuses root), listening on a unix socket in a temp folder only;
it is stopped and the folder removed at the end. SPECCTL_TEST_PG_URL points the tests at an
existing server instead (a role that may CREATE DATABASE). Where neither is there, the tests
that need PostgreSQL skip with the reason, and SPECCTL_REQUIRE_PG=1 (set by .ci/run) turns
that skip into a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Read once at import: the per-test `isolated` fixture clears every SPECCTL_ variable.
EXISTING_SERVER = os.environ.get("SPECCTL_TEST_PG_URL")
REQUIRED = os.environ.get("SPECCTL_REQUIRE_PG") == "1"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


class PgServer:
    """Where to reach the server as a role that may create databases."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url

    def create_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"specctl_test_{os.urandom(6).hex()}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url_of(name)

    def drop_database(self, url: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{_db_name(url)}" WITH (FORCE)')

    def url_of(self, name: str) -> str:
        base, question, query = self.admin_url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}{question}{query}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement.encode())


def _db_name(url: str) -> str:
    return url.partition("?")[0].rsplit("/", 1)[1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["/usr/sbin/runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _start_server(bin_dir: Path) -> Iterator[PgServer]:
    folder = Path(tempfile.mkdtemp(prefix="specctl-pg-"))  # pytest's tmp_path: not reachable by postgres
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        data = folder / "data"
        run = subprocess.run
        init = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
        run(_as_postgres(init), check=True, capture_output=True)
        options = f"-c listen_addresses='' -k {folder} -c fsync=off"
        start = [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            options,
            "start",
        ]
        done = run(_as_postgres(start), capture_output=True, text=True)
        if done.returncode != 0:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            pytest.fail(f"PostgreSQL did not start: {done.stderr}{log}")
        try:
            yield PgServer(f"postgresql://postgres@/postgres?host={folder}")
        finally:
            stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            run(_as_postgres(stop), capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"SPECCTL_REQUIRE_PG=1 but the PostgreSQL tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    if EXISTING_SERVER:
        yield PgServer(EXISTING_SERVER)
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); or set SPECCTL_TEST_PG_URL")
    assert bin_dir is not None
    yield from _start_server(bin_dir)


@pytest.fixture
def pg_url(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a fresh, empty database for this test alone; libpq's PG* variables from the
    machine cleared, so only the URL decides where it goes."""
    for var in list(os.environ):
        if var.startswith("PG"):
            monkeypatch.delenv(var)
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
