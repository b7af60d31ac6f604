"""Every test runs isolated: its own config file and store, no GitHub variables from the
machine, a fake `gh` that is logged out, a fixed terminal width."""

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

sys.path.insert(0, str(Path(__file__).parent))

from ghdouble import GitHubDouble
from specctl.cli.app import run
from specctl.runtime import Options, Runtime
from specctl.store import Store

ORG = "auditmos-projects"
TOKEN = "ghp_canary-TEST-TOKEN-not-real-0123456789"  # a canary: must never show up anywhere


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in list(os.environ):
        if var.startswith("SPECCTL_") or var in (
            "GH_TOKEN", "GITHUB_TOKEN", "GITHUB_ORG", "GITHUB_API_URL", "NO_COLOR", "GH_HOST",
        ):  # fmt: skip
            monkeypatch.delenv(var)
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # processes buffer stdout, as users' do
    monkeypatch.setenv("SPECCTL_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("SPECCTL_DB", str(tmp_path / "data" / "specctl.db"))
    monkeypatch.setenv("SPECCTL_PACE", "0")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the app's token cache
    monkeypatch.setenv("COLUMNS", "120")
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


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[Store]:
    s = Store.open(db_path, now=clock)
    yield s
    s.close()


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    with GitHubDouble() as d:
        d.add_org(ORG)
        d.add_token(TOKEN, "admin")
        yield d


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
