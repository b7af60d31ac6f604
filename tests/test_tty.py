"""On a terminal: Rich tables, marks and progress, through a real pseudo-terminal."""

import os
import pty
import re
import subprocess

import pytest

from conftest import specctl_bin

pytestmark = pytest.mark.slow


def on_terminal(*args: str, typed: bytes = b"", **env: str) -> str:
    """Run the installed specctl with stdin, stdout and stderr on a pseudo-terminal, `typed`
    waiting on the terminal as keys a person pressed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [specctl_bin(), *args], stdin=follower, stdout=follower, stderr=follower,
        env={**os.environ, "COLUMNS": "100", **env},
    )  # fmt: skip
    os.close(follower)
    if typed:
        os.write(leader, typed)
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


def test_a_failed_create_logs_its_json_line_above_the_progress_bar(github_env):
    """The log line goes through the bar's console: the bar's line is cleared first and the bar
    drawn again below, instead of the JSON being appended to a copy of the bar."""
    for slug in ("a1", "a2", "a3"):
        on_terminal("add", slug.upper(), "--slug", slug)
    github_env.fault("POST", r"/orgs/.*/repos", status=422, body={"message": "Visibility can't be private"})
    github_env.latency = 0.1  # the bar is drawn before the first answer
    screen = on_terminal("approve", "a1", "a2", "a3")
    assert '\x1b[2K{"event": "repo_create_failed", "github_error": {"code": "GITHUB_VALIDATION"' in screen
    assert '"slug": "a1", "status": 422}' in screen  # the seed's keys, whole


def test_list_repos_progress_counts_pages_once_the_last_is_known(github_env):
    github_env.add_repos("auditmos-projects", 250)  # 3 pages of 100
    assert "3/3" in on_terminal("list-repos")


def test_at_70_columns_slugs_and_repos_are_whole_and_the_name_gives_way(github_env):
    slugs = ["acme-portal-3f9a1c07", "acme-portal-3f9a1c08", "beta-shop-00ff00ff"]
    for slug in slugs:
        on_terminal("add", f"Client {slug} with a long descriptive project name", "--slug", slug,
                    "--allow-same-name")  # fmt: skip
    on_terminal("set-repo", slugs[0], "acme/portal", "--no-verify")
    screen = on_terminal("projects", COLUMNS="70")
    for slug in slugs:
        assert slug in screen
    assert "acme/portal" in screen
    assert "…" not in screen
    assert max(len(line) for line in re.sub(r"\x1b\[[0-9;]*m", "", screen).splitlines()) <= 70


def test_messages_wrap_between_words_on_a_narrow_terminal():
    screen = on_terminal("show", "a-slug-nobody-has", COLUMNS="40")
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", screen).splitlines() if line.strip()]
    words = ["error:", "no", "project", "'a-slug-nobody-has'", "in"]
    assert " ".join(lines).split()[1 : 1 + len(words)] == words  # each word whole on some line
    assert all(len(line) <= 40 for line in lines)


def test_stdin_on_a_terminal_says_what_it_waits_for():
    on_terminal("add", "Acme", "--slug", "acme")
    screen = on_terminal("approve", "--stdin", "--no-repo", typed=b"acme\n\x04")
    assert "reading slugs, one a line; Ctrl-D to end" in screen
    assert "acme approved" in screen


def test_an_empty_store_on_a_terminal_says_how_to_add_a_project():
    assert 'No projects yet: add one with specctl add "NAME"' in on_terminal("projects")
    assert subprocess.run([specctl_bin(), "projects"], capture_output=True, text=True).stderr == ""


def test_the_suite_does_not_depend_on_the_callers_environment(tmp_path):
    """The README's test command passes whatever the caller's environment: conftest pins what
    the tests rely on. Run the terminal tests and the CLI tests under a hostile one."""
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    config = home / ".config" / "specctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('org = "someone-elses-org"\norgz = 1\ntoken = "ghp_users-own"\n')
    config.chmod(0o600)
    hostile = {
        "PATH": os.environ["PATH"], "HOME": str(home), "TERM": "dumb", "NO_COLOR": "1", "CI": "true",
        "GITHUB_ACTIONS": "true", "FORCE_COLOR": "1", "COLUMNS": "40", "LANG": "C", "GH_TOKEN": "ghp_bogus",
        "SPECCTL_ORG": "x", "TERMINAL_WIDTH": "30",
    }  # fmt: skip
    tests = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         str(tests / "test_tty.py"), str(tests / "test_cli.py"), "-k", "not does_not_depend"],
        capture_output=True, text=True, env=hostile, cwd=tests.parent, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]


def test_the_org_column_shows_on_a_terminal_only_when_a_project_names_its_own(github_env):
    on_terminal("add", "Acme", "--slug", "acme")
    assert "auditmos-projects" not in on_terminal("projects")  # the config's org on every row: no column
    on_terminal("add", "Client", "--slug", "client", "--org", "client-org")
    screen = on_terminal("projects")
    assert "client-org" in screen
    assert "auditmos-projects" in screen
