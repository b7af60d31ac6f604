"""The command line: parsing, exit codes, the stdout/stderr split, JSON shapes."""

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ORG, TOKEN, file_hash, specctl_bin
from specctl import __version__


def test_add_prints_a_valid_slug_and_projects_lists_it(cli):
    added = cli("add", "Acme Portal", "--description", "Client portal")
    assert added.exit_code == 0
    slug = added.stdout.strip()
    assert slug.startswith("acme-portal-")
    assert len(slug) == len("acme-portal-") + 8
    listed = cli("projects")
    assert listed.stdout == f"{slug}\tinterviewing\t\t\tAcme Portal\tauditmos-projects\n"
    assert "Added" in added.stderr
    assert "Added" not in added.stdout


def test_projects_json_and_filters(cli):
    cli("add", "A", "--slug", "a")
    cli("add", "B", "--slug", "b", "--status", "review")
    doc = json.loads(cli("projects", "--json").stdout)
    assert doc == [
        {
            "slug": "a",
            "spec_status": "interviewing",
            "github_repo": None,
            "repo_source": None,
            "name": "A",
            "org": ORG,
        },
        {
            "slug": "b",
            "spec_status": "review",
            "github_repo": None,
            "repo_source": None,
            "name": "B",
            "org": ORG,
        },
    ]
    assert cli("projects", "--status", "review").stdout.startswith("b\t")
    assert cli("projects", "--with-repo").stdout == ""
    assert len(cli("projects", "--without-repo").stdout.splitlines()) == 2
    assert json.loads(cli("--json", "projects", "--status", "active").stdout) == []


def test_tsv_fields_escape_tabs_and_backslashes(cli):
    cli("add", "A\\B", "--slug", "a")
    assert cli("projects").stdout == f"a\tinterviewing\t\t\tA\\\\B\t{ORG}\n"


def test_show_json_has_project_and_events(cli):
    cli("add", "Acme", "--slug", "acme", "--description", "d")
    doc = json.loads(cli("show", "acme", "--json").stdout)
    assert doc["project"]["slug"] == "acme"
    assert doc["project"]["description"] == "d"
    assert [e["kind"] for e in doc["events"]] == ["project_added"]
    assert set(doc["events"][0]) == {"at", "kind", "details"}


def test_show_piped_is_field_lines_then_event_lines(cli):
    cli("add", "Acme", "--slug", "acme")
    lines = cli("show", "acme").stdout.splitlines()
    assert lines[0] == "slug\tacme"
    assert lines[-1].startswith("event\t")
    assert "\tproject_added\t" in lines[-1]


def test_reopen_moves_review_back_and_refuses_past_review(cli):
    cli("add", "A", "--slug", "a", "--status", "review")
    result = cli("reopen", "a")
    assert result.exit_code == 0
    assert result.stdout.startswith("a\tinterviewing\t")
    assert cli("reopen", "a").exit_code == 0  # already interviewing: nothing to do
    cli("add", "B", "--slug", "b", "--status", "active")
    refused = cli("reopen", "b")
    assert refused.exit_code == 5
    assert "only a spec in review can be reopened" in refused.stderr


def test_global_options_work_before_and_after_the_command(cli, tmp_path):
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "add", "X", "--slug", "x").exit_code == 0
    assert cli("projects", "--db", str(other), "--json").stdout.count('"slug"') == 1
    assert cli("projects").stdout == ""  # the default store is untouched


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["add", "X", "--slug", "Bad Slug"], 2, "invalid slug"),
        (["add", "X", "--slug", "a--b"], 2, "invalid slug"),
        (["add", "X", "--slug", "x" * 81], 2, "invalid slug"),
        (["add", "X", "--slug", ""], 2, "invalid slug"),
        (["add", "X", "--slug", "ünï"], 2, "invalid slug"),
        (["add", ""], 2, "name must not be empty"),
        (["add", "a\nb"], 2, "control characters"),
        (["add", "X", "--status", "done"], 2, "unknown status"),
        (["projects", "--status", "done"], 2, "unknown status"),
        (["show", "nope"], 3, "no project 'nope'"),
        (["show", "Not A Slug"], 2, "invalid slug"),
        (["reopen", "nope"], 3, "no project 'nope'"),
        (["add"], 2, "Missing argument"),
        (["frobnicate"], 2, "No such command"),
        (["projects", "--bogus"], 2, "No such option"),
        (["config", "get", "colour"], 2, "unknown config key"),
    ],
)
def test_bad_input_is_one_line_with_its_exit_code_and_no_change(cli, db_path, args, code, needle):
    cli("add", "Existing", "--slug", "existing")
    before = file_hash(db_path)
    result = cli(*args)
    assert result.exit_code == code
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert file_hash(db_path) == before


def test_bad_input_creates_no_store(cli, db_path):
    assert cli("add", "X", "--slug", "BAD").exit_code == 2
    assert not db_path.exists()


def test_read_commands_do_not_create_the_store(cli, db_path):
    assert cli("projects").exit_code == 0
    assert cli("show", "x").exit_code == 3
    assert not db_path.exists()
    assert not db_path.parent.exists()


def test_duplicate_slug_is_exit_2(cli):
    cli("add", "A", "--slug", "a")
    result = cli("add", "A", "--slug", "a")
    assert result.exit_code == 2
    assert "already exists" in result.stderr


@pytest.mark.parametrize(
    ("setup", "code", "needle"),
    [
        ("dir", 1, "is a directory"),
        ("garbage", 1, "not a specctl store"),
    ],
)
def test_unusable_store_is_exit_1_naming_the_path(cli, db_path, setup, code, needle):
    db_path.parent.mkdir(parents=True)
    if setup == "dir":
        db_path.mkdir()
    else:
        db_path.write_bytes(b"\x00garbage" * 300)
    result = cli("projects")
    assert result.exit_code == code
    assert needle in result.stderr
    assert str(db_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_broken_config_is_exit_2_naming_file_and_line(cli, isolated):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir()
    path.write_text('org = "x"\norg = = "y"\n')
    result = cli("projects")
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert "line 2" in result.stderr


def test_json_errors_are_a_document_on_stdout(cli):
    result = cli("--json", "show", "nope")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {
        "error": {"code": "PROJECT_NOT_FOUND", "message": result.stderr.split("error: ", 1)[1].strip(),
                  "http_status": None}
    }  # fmt: skip


def test_config_set_get_unset_and_path(cli, isolated):
    path = isolated / "config" / "config.toml"
    assert cli("config", "path").stdout.strip() == str(path)
    assert cli("config", "set", "org", "acme-clients").exit_code == 0
    assert cli("config", "get", "org").stdout == "acme-clients\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cli("config", "set", "max_wait", "2.5").exit_code == 0
    assert cli("config", "get", "max_wait").stdout == "2.5\n"
    assert cli("config", "set", "concurrency", "zero").exit_code == 2
    assert cli("--env", "staging", "config", "set", "org", "staging-org").exit_code == 0
    assert cli("--env", "staging", "config", "get", "org").stdout == "staging-org\n"
    assert cli("config", "unset", "org").exit_code == 0
    assert cli("config", "get", "org").stdout == "auditmos-projects\n"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_config_set_where_the_file_cannot_be_written_is_one_line(cli, monkeypatch):
    monkeypatch.setenv("SPECCTL_CONFIG", "/proc/no-such-folder/config.toml")  # no folder can be made there
    result = cli("config", "set", "org", "acme")
    assert result.exit_code == 1
    assert result.stderr == (
        "specctl: error: cannot write config /proc/no-such-folder/config.toml: No such file or directory\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["projects"],
        ["--json", "projects"],
        ["show", "seed"],
        ["--help"],
        ["projects", "--help"],
    ],
)
def test_a_full_disk_under_stdout_is_one_line_and_exit_1(tmp_path, args):
    db = store_with_projects(tmp_path / "s.db", 2_000)  # listings larger than the output buffer
    for env in (os.environ, {**os.environ, "PYTHONUNBUFFERED": "1"}):  # buffered (see conftest), then not
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [specctl_bin(), "--db", str(db), *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        assert done.stderr == "specctl: error: cannot write the output: No space left on device\n"
        assert done.returncode == 1


def test_an_os_error_naming_a_file_is_one_line_not_an_internal_error(cli, monkeypatch):
    from specctl.runtime import Runtime

    def denied(self, *, create=True):
        raise PermissionError(13, "Permission denied", "/srv/specctl/store.db")

    monkeypatch.setattr(Runtime, "store", denied)
    result = cli("projects")
    assert result.exit_code == 1
    assert result.stderr == "specctl: error: /srv/specctl/store.db: Permission denied\n"


def test_config_set_token_reads_stdin_and_is_never_printed(cli, isolated):
    refused = cli("config", "set", "token", TOKEN)
    assert refused.exit_code == 2
    assert "never taken from the command line" in refused.stderr
    assert cli("config", "set", "token", input=TOKEN + "\n").exit_code == 0
    path = isolated / "config" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = cli("config", "show")
    assert "token\t****\tconfig" in shown.stdout
    assert TOKEN not in shown.stdout + shown.stderr
    got = cli("config", "get", "token")
    assert got.exit_code == 2
    assert TOKEN not in got.stdout + got.stderr
    assert cli("--json", "config", "show").stdout.count(TOKEN) == 0


def test_version(cli):
    assert cli("--version").stdout == f"specctl {__version__}\n"


def test_help_lists_commands_with_examples(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("add", "projects", "show", "approve", "reopen", "config"):
        assert command in result.stdout
    assert "[env: SPECCTL_DB]" in result.stdout  # not eaten as Rich markup
    for command in (["add"], ["projects"], ["show"], ["approve"], ["reopen"], ["set-repo"], ["list-repos"],
                    ["doctor"], ["config", "set"], ["config", "show"]):  # fmt: skip
        assert "Example:" in cli(*command, "--help").stdout


def test_installed_console_script_runs_as_a_process(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SPECCTL_DB": str(tmp_path / "s.db"),
           "SPECCTL_CONFIG": str(tmp_path / "c.toml"), "HOME": str(tmp_path)}  # fmt: skip
    run = lambda *a: subprocess.run([specctl_bin(), *a], env=env, capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout == f"specctl {__version__}\n"
    slug = run("add", "Proc Test").stdout.strip()
    listed = run("projects")
    assert listed.returncode == 0
    assert listed.stdout.split("\t")[0] == slug
    missing = run("show", "nope")
    assert missing.returncode == 3
    assert missing.stderr.startswith("specctl: error: no project")


def store_with_projects(db: Path, count: int) -> Path:
    """A store made by specctl (project `seed`) with `count` more projects p00000… in bulk."""
    subprocess.run(
        [specctl_bin(), "--db", str(db), "add", "Seed", "--slug", "seed"], check=True, capture_output=True
    )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at) VALUES (?, ?, '', 'interviewing', 't', 't')",
            [(f"p{i:05d}", f"P {i}") for i in range(count)],
        )
    conn.close()
    return db


def test_a_process_flushes_all_output_and_closes_the_store_before_it_ends(tmp_path):
    """main() ends the process without interpreter teardown (start-up speed): nothing may be lost."""
    db = store_with_projects(tmp_path / "s.db", 5_000)
    for command in ([specctl_bin()], [sys.executable, "-m", "specctl"]):
        listed = subprocess.run([*command, "--db", str(db), "projects"], capture_output=True, text=True)
        assert listed.returncode == 0
        assert len(listed.stdout.splitlines()) == 5_001
        assert listed.stdout.endswith(
            f"p04999\tinterviewing\t\t\tP 4999\t{ORG}\nseed\tinterviewing\t\t\tSeed\t{ORG}\n"
        )
    added = subprocess.run(
        [specctl_bin(), "--db", str(db), "add", "Last", "--slug", "last"], capture_output=True, text=True
    )
    assert added.returncode == 0
    assert added.stderr == "specctl: Added 'Last' as last (interviewing)\n"
    assert not Path(f"{db}-wal").exists()  # the last connection closed: SQLite checkpointed the WAL


def test_shell_completion_offers_slugs_from_the_store(tmp_path):
    env = {
        **os.environ,
        "_SPECCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "specctl show ac",
        "COMP_CWORD": "2",
    }
    subprocess.run([specctl_bin(), "add", "Acme", "--slug", "acme"], check=True, capture_output=True)
    subprocess.run([specctl_bin(), "add", "Beta", "--slug", "beta"], check=True, capture_output=True)
    done = subprocess.run([specctl_bin()], env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["acme"]


@pytest.mark.parametrize(
    "args", [["projects"], ["show", "acme"], ["add", "Beta"], ["reopen", "acme"], ["--version"]]
)
def test_store_only_commands_import_neither_httpx_nor_sqlite_utils(args):
    """Start-up counts: a command imports only what it needs (see benchmarks/run.py)."""
    subprocess.run([specctl_bin(), "add", "Acme", "--slug", "acme"], check=True, capture_output=True)
    code = (
        "import sys; from specctl.cli import run; run(sys.argv[1:])\n"
        "print(sorted(m for m in ('httpx', 'sqlite_utils', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`specctl projects | head -1`: no traceback, the exit status of a process killed by SIGPIPE."""
    db = store_with_projects(tmp_path / "many.db", 20_000)
    done = subprocess.run(
        ["bash", "-c", f'set -o pipefail; "{specctl_bin()}" --db "{db}" projects | head -1'],
        capture_output=True,
        text=True,
    )
    assert done.stdout == f"p00000\tinterviewing\t\t\tP 0\t{ORG}\n"
    assert done.stderr == ""
    assert done.returncode == 141


@pytest.mark.parametrize(
    "args",
    [["approve", "ghost", "--no-repo"], ["reopen", "ghost"], ["set-repo", "ghost", "a/b", "--no-verify"]],
)
def test_commands_on_unknown_projects_do_not_create_the_store(cli, db_path, args):
    result = cli(*args)
    assert result.exit_code == 3
    assert not db_path.exists()
    assert not db_path.parent.exists()
