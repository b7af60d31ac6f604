"""Hostile input, generated (hypothesis) and named: every command answers with its documented
exit code, exactly one line on stderr, no traceback, and leaves the store byte-identical unless
it was meant to write."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import file_hash
from specctl.names import is_slug, parse_repo, slug_typed
from specctl.store import STATUSES

NAMED = [
    "", " ", "../../etc/passwd", "'; DROP TABLE projects; --", "--json", "--db", "-v", "--flag=1",
    "a\x00b", "line\nbreak", "tab\there", "x" * 10_000, "ünïcödé", "🚀", "Acme/Portal", "acme--x",
    "-acme", "acme-", "ACME", "a" * 81, "%s%n", "${HOME}", "$(rm -rf /)", "\\", "null", "existing",
    "https://github.com/acme/portal.git", "git@github.com:acme/x.git", "acme/..", "a/b/c", "/", "acme/",
    "--help", "-h",
]  # fmt: skip
hostile = st.one_of(
    st.sampled_from(NAMED), st.text(max_size=120), st.from_regex(r"[a-z0-9-]{1,90}", fullmatch=True)
)
HYPOTHESIS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def seeded(cli, db_path):
    assert cli("add", "Existing", "--slug", "existing").exit_code == 0
    return db_path


def one_clean_line(result):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr


def refused(result, db_path, before, *codes):
    assert result.exit_code in codes, (result.exit_code, result.stderr)
    one_clean_line(result)
    assert file_hash(db_path) == before


def option_like(value):
    return value.startswith("-") and value != "-"


def asks_for_help(result, value):
    """`--help`/`-h` anywhere among the arguments shows help and exits 0, as Click does
    (`-hh` too: Click reads a cluster of short flags as each flag in turn)."""
    if value == "--help" or re.fullmatch(r"-h+", value):
        assert result.exit_code == 0
        assert "Usage:" in result.stdout
        return True
    return False


@HYPOTHESIS
@given(value=hostile)
def test_show(cli, seeded, value):
    before = file_hash(seeded)
    result = cli("show", value)
    if asks_for_help(result, value):
        return
    if slug_typed(value) == "existing":
        assert result.exit_code == 0
    else:
        refused(result, seeded, before, 3 if is_slug(slug_typed(value)) else 2)
        assert result.stdout == "" or value == "--json"  # --json is the global option: a JSON error


@HYPOTHESIS
@given(name=hostile)
def test_add_name(cli, seeded, name):
    before = file_hash(seeded)
    result = cli("add", name)
    if asks_for_help(result, name):
        return
    if result.exit_code == 0:
        assert is_slug(result.stdout.strip())
        assert not option_like(name)
    else:
        refused(result, seeded, before, 2)


@HYPOTHESIS
@given(slug=hostile)
def test_add_slug(cli, seeded, slug):
    before = file_hash(seeded)
    result = cli("add", "Name", "--slug", slug)
    if is_slug(slug) and slug != "existing" and result.exit_code == 0:
        assert result.stdout == f"{slug}\n"
        assert cli("show", slug).exit_code == 0
    else:
        refused(result, seeded, before, 2)


@HYPOTHESIS
@given(repo=hostile)
def test_set_repo(cli, seeded, repo):
    before = file_hash(seeded)
    result = cli("set-repo", "existing", repo, "--no-verify")
    if asks_for_help(result, repo):
        return
    try:
        owner, name = parse_repo(repo)
        valid = not option_like(repo)
    except Exception:
        valid = False
    if valid:
        assert result.exit_code == 0
        assert result.stdout.split("\t")[2].lower() == f"{owner}/{name}".lower()  # same repo, any case
    else:
        refused(result, seeded, before, 2)


@HYPOTHESIS
@given(slug=hostile)
def test_approve(cli, seeded, slug):
    before = file_hash(seeded)
    result = cli("approve", slug, "--no-repo")
    if asks_for_help(result, slug):
        return
    if slug_typed(slug) == "existing":  # a slug typed in upper case is taken as lower case
        assert result.exit_code == 0
    elif option_like(slug) or slug == "":
        refused(result, seeded, before, 2, 3)
    else:
        refused(result, seeded, before, 3 if is_slug(slug_typed(slug)) else 2)
        assert result.stdout.endswith("\tnone\n")


@HYPOTHESIS
@given(status=hostile)
def test_projects_status(cli, seeded, status):
    before = file_hash(seeded)
    result = cli("projects", "--status", status)
    if status in STATUSES:
        assert result.exit_code == 0
    else:
        refused(result, seeded, before, 2)


@HYPOTHESIS
@given(text=st.one_of(st.text(max_size=200), st.sampled_from([
    "org = ", "org = 1", "pace = -1", "[env]\nx = 1", "[env.a]\ntoken = 'x'", "concurrency = 1.5",
    "api_url = 'ftp://x'", "db = ''", "\x00", "[[org]]", "org = 'a'\norg = 'b'", "timeout = true",
])))  # fmt: skip
def test_config_file(cli, seeded, isolated, text):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    before = file_hash(seeded)
    result = cli("projects")
    if result.exit_code != 0:
        refused(result, seeded, before, 2)
        assert str(path) in result.stderr or "SPECCTL" in result.stderr or "=" in result.stderr


def make_immutable(path, on):
    """Tests run as root, where permission bits stop no write; the immutable flag does."""
    import shutil
    import subprocess

    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this filesystem has no immutable flag: {done.stderr.decode().strip()}")


@pytest.mark.parametrize("kind", ["directory", "truncated", "not sqlite", "newer", "locked", "read-only"])
def test_unusable_stores(cli, seeded, kind, monkeypatch):
    import sqlite3

    monkeypatch.setenv("SPECCTL_BUSY_TIMEOUT", "0.2")
    from specctl.migrations import SCHEMA_VERSION

    cli("projects")  # let the WAL be checkpointed by a clean close
    holder = None
    if kind == "directory":
        seeded.unlink()
        seeded.mkdir()
    elif kind == "truncated":
        seeded.write_bytes(seeded.read_bytes()[:1000])
    elif kind == "not sqlite":
        seeded.write_text("just text\n" * 500)
    elif kind == "newer":
        conn = sqlite3.connect(seeded)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
        conn.commit()
        conn.close()
    elif kind == "locked":
        holder = sqlite3.connect(seeded, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        make_immutable(seeded, True)
    before = file_hash(seeded)
    try:
        for args in (
            ["add", "X"],
            ["approve", "existing", "--no-repo"],
            ["set-repo", "existing", "a/b", "--no-verify"],
        ):
            result = cli(*args)
            assert result.exit_code == 1, result.stderr
            one_clean_line(result)
            assert str(seeded) in result.stderr
            assert file_hash(seeded) == before
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
        if kind == "read-only":
            make_immutable(seeded, False)


def test_the_github_double_never_writes_to_the_tests_stderr(capfd):
    """A client hanging up mid-answer raised BrokenPipe in the double's thread, whose traceback
    the standard server printed into the stderr a test was reading."""
    from ghdouble import GitHubDouble

    with GitHubDouble() as double:
        server = double._server
        assert server is not None
        for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), KeyError("x")):
            try:
                raise error
            except Exception:
                server.handle_error(None, ("127.0.0.1", 1))
    assert capfd.readouterr().err == ""
    assert len(double.errors) == 1  # the handler's own bug is kept for the fixture to report
    assert "KeyError" in double.errors[0]


def test_the_github_double_has_help():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "ghdouble.py"
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    for option in ("--port", "--token", "--seed"):
        assert option in done.stdout
