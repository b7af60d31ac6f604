"""On a terminal: Rich tables, marks and progress, through a real pseudo-terminal."""

import os
import pty
import subprocess

import pytest

from conftest import specctl_bin

pytestmark = pytest.mark.slow


def on_terminal(*args: str, **env: str) -> str:
    """Run the installed specctl with stdin, stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [specctl_bin(), *args], stdin=follower, stdout=follower, stderr=follower,
        env={**os.environ, "COLUMNS": "100", **env},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(leader)
    return b"".join(chunks).decode(errors="replace")


def test_tables_and_marks_on_a_terminal(github_env):
    on_terminal("add", "Acme Portal", "--slug", "acme")
    screen = on_terminal("projects")
    assert "slug" in screen  # a header row: only terminals get one
    assert "Acme Portal" in screen
    approved = on_terminal("approve", "acme", "ghost")
    assert "✓" in approved
    assert "acme approved; repo auditmos-projects/acme created" in approved
    assert "no project 'ghost'" in approved
    assert "action" in approved
    assert "✓" in on_terminal("doctor")
    assert "Traceback" not in screen + approved


def test_no_color_is_honoured(github_env):
    green = "\x1b[32m"  # the ✓ of a success message
    assert green in on_terminal("add", "Acme", "--slug", "acme")
    plain = on_terminal("add", "Beta", "--slug", "beta", NO_COLOR="1")
    assert "✓ Added 'Beta'" in plain
    assert green not in plain


def test_list_repos_on_a_terminal(github_env):
    github_env.add_repos("auditmos-projects", 250)
    screen = on_terminal("list-repos", "--limit", "120")
    assert "full_name" in screen
    assert "auditmos-projects/repo-00119" in screen
    assert "Traceback" not in screen


def test_batches_and_listings_show_progress_on_a_terminal_only(github_env):
    github_env.add_repos("auditmos-projects", 250)
    for slug in ("a1", "a2", "a3"):
        on_terminal("add", slug.upper(), "--slug", slug)
    assert "Approving" in on_terminal("approve", "a1", "a2", "a3")
    assert "Listing repos" in on_terminal("list-repos")
    assert "Checking" in on_terminal("doctor")  # a spinner while GitHub is asked
    for args in (["approve", "a1", "a2", "a3"], ["list-repos"], ["doctor"]):
        piped = subprocess.run([specctl_bin(), *args], capture_output=True, text=True)
        assert not any(word in piped.stderr for word in ("Approving", "Listing repos", "Checking"))
        assert "\x1b[" not in piped.stderr + piped.stdout
