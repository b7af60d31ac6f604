"""Every test runs isolated: its own config file, store and home, no GitHub variables from the
machine, a fake `gh` that is logged out, and a pinned terminal: whatever the caller's TERM,
NO_COLOR, CI, COLUMNS or LANG, the suite sees the same environment (README's test command must
pass under `env -i TERM=dumb HOME=$(mktemp -d)` as in a developer's shell)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# What the suite relies on from the environment, pinned, and what it must not see, dropped.
# Some are read when Typer and Rich are imported (FORCE_COLOR, GITHUB_ACTIONS, TERMINAL_WIDTH),
# so they are pinned here, before the first import, as well as for every test below.
PINNED_ENV = {
    "TERM": "xterm-256color",  # test_tty expects colour on its pseudo-terminal
    "COLUMNS": "120",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
}
DROPPED_ENV = (
    "NO_COLOR", "FORCE_COLOR", "PY_COLORS", "CLICOLOR", "CLICOLOR_FORCE", "COLORTERM", "TTY_COMPATIBLE",
    "TTY_INTERACTIVE", "CI", "GITHUB_ACTIONS", "TERMINAL_WIDTH", "LINES", "JUPYTER_COLUMNS",
    "JUPYTER_LINES", "_TYPER_FORCE_DISABLE_TERMINAL", "TYPER_USE_RICH", "PYTHONUNBUFFERED",
    "GH_TOKEN", "GITHUB_TOKEN", "GITHUB_ORG", "GITHUB_API_URL", "GH_HOST", "GH_ENTERPRISE_TOKEN",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)  # fmt: skip


# The test harness's own switches (tests/pg.py), not specctl settings: kept.
HARNESS_ENV = ("SPECCTL_TEST_PG_URL", "SPECCTL_REQUIRE_PG")


def _unwanted(var: str) -> bool:
    return var in DROPPED_ENV or (var.startswith("SPECCTL_") and var not in HARNESS_ENV)


for _var in [v for v in os.environ if _unwanted(v)]:
    del os.environ[_var]
os.environ.update(PINNED_ENV)

sys.path.insert(0, str(Path(__file__).parent))

from ghdouble import GitHubDouble  # noqa: E402  (after the pins above, on purpose)
from pg import pg_server, pg_url  # noqa: E402, F401  (fixtures: a throwaway PostgreSQL)
from specctl.cli.app import run  # noqa: E402
from specctl.config import DatabaseURL  # noqa: E402
from specctl.runtime import Options, Runtime  # noqa: E402
from specctl.store import Store, open_store  # noqa: E402

ORG = "auditmos-projects"
TOKEN = "ghp_canary-TEST-TOKEN-not-real-0123456789"  # a canary: must never show up anywhere


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in [v for v in os.environ if _unwanted(v)]:  # PYTHONUNBUFFERED too: buffer as users' do
        monkeypatch.delenv(var)
    for var, value in PINNED_ENV.items():
        monkeypatch.setenv(var, value)
    home = tmp_path / "home"  # never the user's ~/.config/specctl, ~/.cache or gh's login
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache")):  # fmt: skip
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("SPECCTL_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("SPECCTL_DB", str(tmp_path / "data" / "specctl.db"))
    monkeypatch.setenv("SPECCTL_PACE", "0")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_gh = bin_dir / "gh"
    fake_gh.write_text("#!/bin/sh\necho 'not logged in' >&2\nexit 1\n")
    fake_gh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


@pytest.fixture
def db_path(isolated: Path) -> Path:
    return isolated / "data" / "specctl.db"


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


class Sleeps(list[float]):
    """A fake sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps):
    """Run specctl in-process, as the console script would, with stdin given as text."""

    def invoke(*args: str, input: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        code = run(list(args), make_runtime=lambda options: Runtime(options, sleep=sleeps))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


class Clock:
    """A settable clock for the store and the workflow."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, db_path: Path, clock: Clock) -> Iterator[Store]:
    """The same tests on both engines: an SQLite file, and a fresh PostgreSQL database."""
    setting = db_path if request.param == "sqlite" else DatabaseURL(request.getfixturevalue("pg_url"))
    s = open_store(setting, now=clock)
    yield s
    s.close()


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    with GitHubDouble() as d:
        d.add_org(ORG)
        d.add_token(TOKEN, "admin")
        yield d
    assert not d.errors, d.errors[0]  # the double itself failed: a bug in the test's double


@pytest.fixture
def github_env(double: GitHubDouble, monkeypatch: pytest.MonkeyPatch) -> GitHubDouble:
    monkeypatch.setenv("GITHUB_API_URL", double.url)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    return double


def file_hash(path: Path) -> str | None:
    """Hash of a store with its WAL, to tell whether anything was written."""
    if not path.is_file():
        return "directory" if path.is_dir() else None
    digest = hashlib.sha256()
    for p in (path, path.with_name(path.name + "-wal")):
        if p.exists():
            digest.update(p.read_bytes())
    return digest.hexdigest()


def specctl_bin() -> str:
    """The installed console script, next to this Python."""
    candidate = Path(sys.executable).parent / "specctl"
    return str(candidate) if candidate.exists() else (shutil.which("specctl") or "specctl")


def options(**kwargs: object) -> Options:
    return Options(**kwargs)  # type: ignore[arg-type]
