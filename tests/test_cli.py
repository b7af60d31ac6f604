"""The command line: parsing, exit codes, the stdout/stderr split, JSON shapes."""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ORG, TOKEN, file_hash, specctl_bin
from e2e import specctl, start
from specctl import __version__
from specctl.store import open_store, os_actor


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


def test_projects_json_is_one_object_a_line(cli):
    assert cli("projects", "--json").stdout == "[]\n"
    cli("add", "A", "--slug", "a")
    cli("add", "B", "--slug", "b", "--org", "own")
    row = '{{"slug": "{0}", "spec_status": "interviewing", "github_repo": null, "repo_source": null, "name": "{1}", "org": "{2}"}}'
    assert (
        cli("projects", "--json").stdout
        == f"[\n  {row.format('a', 'A', ORG)},\n  {row.format('b', 'B', 'own')}\n]\n"
    )


def test_tsv_fields_escape_tabs_and_backslashes(cli):
    cli("add", "A\\B", "--slug", "a")
    assert cli("projects").stdout == f"a\tinterviewing\t\t\tA\\\\B\t{ORG}\n"


def test_show_json_has_project_and_events(cli):
    cli("add", "Acme", "--slug", "acme", "--description", "d")
    doc = json.loads(cli("show", "acme", "--json").stdout)
    assert doc["project"]["slug"] == "acme"
    assert doc["project"]["description"] == "d"
    assert [e["kind"] for e in doc["events"]] == ["project_added"]
    assert set(doc["events"][0]) == {"at", "kind", "details", "actor"}
    assert doc["events"][0]["actor"] == os_actor()


def test_show_piped_is_field_lines_then_event_lines(cli):
    cli("add", "Acme", "--slug", "acme")
    lines = cli("show", "acme").stdout.splitlines()
    assert lines[0] == "slug\tacme"
    assert lines[-1].startswith("event\t")
    assert "\tproject_added\t" in lines[-1]
    assert lines[-1].endswith(f"\t{os_actor()}")  # last: scripts cutting the first columns keep working


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
        (
            ["add", "X", "--status", "done"],
            2,
            "'done' is not one of 'interviewing', 'review', 'active', 'complete'",
        ),
        (
            ["projects", "--status", "done"],
            2,
            "'done' is not one of 'interviewing', 'review', 'active', 'complete'",
        ),
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
    result = cli("add", "B", "--slug", "a")
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
    for command in (["add"], ["projects"], ["show"], ["approve"], ["reopen"], ["activate"], ["complete"],
                    ["edit"], ["set-repo"], ["list-repos"], ["doctor"], ["config"], ["config", "set"],
                    ["config", "show"], ["config", "get"], ["config", "unset"], ["config", "path"]):  # fmt: skip
        text = cli(*command, "--help").stdout
        assert "Examples:" in text, command
        assert text.count(" $ ") >= 2, command  # two or three examples, as gh gives
        assert "--json" in text, command  # the global options it inherits
        assert "--db" in text, command


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
        "print(sorted(m for m in ('httpx', 'sqlite_utils', 'rich', 'psycopg') if m in sys.modules), file=sys.stderr)"
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


# -- issue 12: a newcomer's first hour ---------------------------------------------------------


def test_set_repo_refuses_a_repo_another_project_has(cli, db_path):
    cli("add", "Acme", "--slug", "acme")
    cli("add", "Beta", "--slug", "beta")
    assert cli("set-repo", "acme", "client/portal", "--no-verify").exit_code == 0
    before = file_hash(db_path)
    refused = cli("set-repo", "beta", "Client/Portal", "--no-verify")  # GitHub names ignore case
    assert refused.exit_code == 2
    assert "client/portal is already the repo of acme" in refused.stderr.lower()
    assert "specctl set-repo acme --clear" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert file_hash(db_path) == before
    assert cli("set-repo", "acme", "--clear").exit_code == 0
    assert cli("set-repo", "beta", "client/portal", "--no-verify").exit_code == 0


def test_set_repo_to_the_same_repo_in_other_case_changes_nothing(cli, db_path):
    cli("add", "Acme", "--slug", "acme")
    cli("set-repo", "acme", "Client/Portal", "--no-verify")
    before = file_hash(db_path)
    again = cli("set-repo", "acme", "https://github.com/client/portal/tree/main", "--no-verify")
    assert again.exit_code == 0
    assert again.stdout.split("\t")[2] == "Client/Portal"
    assert "nothing to change" in again.stderr
    assert file_hash(db_path) == before


@pytest.mark.parametrize(
    "url",
    ["https://github.com/client/portal/tree/main", "github.com/client/portal",
     "git@github.com:client/portal.git", "https://github.com/client/portal.git"],
)  # fmt: skip
def test_set_repo_takes_every_url_github_shows(cli, url):
    cli("add", "Acme", "--slug", "acme")
    result = cli("set-repo", "acme", url, "--no-verify")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split("\t")[2] == "client/portal"


def test_list_repos_shows_every_project_an_older_store_linked_to_one_repo(cli, github_env, db_path):
    github_env.add_repo(ORG, "shared")
    cli("add", "Acme", "--slug", "acme")
    cli("add", "Beta", "--slug", "beta")
    conn = sqlite3.connect(db_path)  # as a store written before set-repo refused a shared repo
    conn.execute(f"UPDATE projects SET github_repo = '{ORG}/shared', repo_source = 'manual'")
    conn.commit()
    conn.close()
    rows = [line.split("\t") for line in cli("list-repos", ORG).stdout.splitlines()]
    assert rows == [
        [f"{ORG}/shared", "private", "acme", "manual"],
        [f"{ORG}/shared", "private", "beta", "manual"],
    ]


def test_add_folds_accents_and_its_help_says_the_slug_becomes_the_repo_name(cli):
    assert cli("add", "Société Générale").stdout.startswith("societe-generale-")
    help_text = " ".join(cli("add", "--help").stdout.split())
    assert "becomes the name of the project's GitHub repo" in help_text


def test_add_refuses_a_name_a_project_has_unless_allowed(cli, db_path):
    slug = cli("add", "Acme Portal").stdout.strip()
    before = file_hash(db_path)
    for name in ("Acme Portal", "acme portal", " ACME PORTAL "):
        refused = cli("add", name)
        assert refused.exit_code == 2
        assert f"exists already: {slug}" in refused.stderr
        assert "--allow-same-name" in refused.stderr
    assert file_hash(db_path) == before
    assert cli("add", "Acme Portal", "--allow-same-name").exit_code == 0
    assert len(cli("projects").stdout.splitlines()) == 2


@pytest.mark.parametrize(
    ("command", "source", "target"), [("activate", "review", "active"), ("complete", "active", "complete")]
)
def test_activate_and_complete_move_the_spec_on(cli, db_path, command, source, target):
    cli("add", "A", "--slug", "a", "--status", source)
    moved = cli(command, "a")
    assert moved.exit_code == 0
    assert moved.stdout.startswith(f"a\t{target}\t")
    kinds = [e["kind"] for e in json.loads(cli("show", "a", "--json").stdout)["events"]]
    assert kinds == ["project_added", "status_changed"]
    before = file_hash(db_path)
    again = cli(command, "a")  # already there: exit 0, no event
    assert again.exit_code == 0
    assert f"already {target}" in again.stderr
    assert file_hash(db_path) == before


@pytest.mark.parametrize(
    ("command", "status", "hint"),
    [("activate", "interviewing", "specctl approve a"), ("activate", "complete", ""),
     ("complete", "interviewing", "specctl approve a"), ("complete", "review", "specctl activate a")],
)  # fmt: skip
def test_other_moves_are_refused_naming_the_status(cli, db_path, command, status, hint):
    cli("add", "A", "--slug", "a", "--status", status)
    before = file_hash(db_path)
    refused = cli(command, "a")
    assert refused.exit_code == 5
    assert f"a is {status}" in refused.stderr
    assert hint in refused.stderr
    assert file_hash(db_path) == before


def test_edit_changes_name_and_description_never_the_slug(cli, db_path):
    cli("add", "Acme", "--slug", "acme", "--description", "old")
    edited = cli("edit", "acme", "--name", "Acme Corp", "--description", "new")
    assert edited.exit_code == 0
    assert edited.stdout == f"acme\tinterviewing\t\t\tAcme Corp\t{ORG}\n"
    doc = json.loads(cli("show", "acme", "--json").stdout)
    assert doc["project"]["description"] == "new"
    assert doc["events"][-1]["kind"] == "project_edited"
    assert doc["events"][-1]["details"] == {
        "name": {"from": "Acme", "to": "Acme Corp"},
        "description": {"from": "old", "to": "new"},
    }
    before = file_hash(db_path)
    assert cli("edit", "acme", "--name", "Acme Corp").exit_code == 0  # the same: no event
    assert file_hash(db_path) == before
    for args, code in ((["edit", "acme"], 2), (["edit", "acme", "--name", " "], 2),
                       (["edit", "acme", "--name", "a\nb"], 2), (["edit", "ghost", "--name", "X"], 3)):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == code, args
        assert len(result.stderr.strip().splitlines()) == 1
    assert file_hash(db_path) == before


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [("acme", "acme-portal-3f9a1c07"), ("acme-portal-3f9a1c0", "acme-portal-3f9a1c07"),
     ("acme-portal-3f9a1c08", "acme-portal-3f9a1c07"), ("acme-protal-3f9a1c07", "acme-portal-3f9a1c07")],
)  # fmt: skip
def test_a_slug_typo_gets_did_you_mean(cli, typed, suggested):
    cli("add", "Acme", "--slug", "acme-portal-3f9a1c07")
    cli("add", "Beta", "--slug", "beta-shop-00ff00ff")
    result = cli("show", typed)
    assert result.exit_code == 3
    assert f"did you mean {suggested}?" in result.stderr


def test_no_guess_between_two_slugs(cli):
    cli("add", "A", "--slug", "acme-1")
    cli("add", "B", "--slug", "acme-2")
    result = cli("show", "acme")
    assert result.exit_code == 3
    assert "did you mean" not in result.stderr
    assert "`specctl projects` lists them" in result.stderr


def test_a_slug_typed_in_upper_case_is_found(cli):
    cli("add", "Acme", "--slug", "acme")
    assert cli("show", "ACME").exit_code == 0
    approved = cli("approve", "Acme", "--no-repo")
    assert approved.exit_code == 0
    assert approved.stdout.startswith("acme\treview\t")


def test_config_unset_removes_a_key_specctl_does_not_know(cli, isolated):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir()
    path.write_text('org = "acme"\norgz = "typo"\n\n[env.staging]\ncolour = "red"\n')
    broken = cli("projects")
    assert broken.exit_code == 2
    assert "specctl config unset orgz" in broken.stderr
    assert cli("config", "unset", "orgz").exit_code == 0
    assert "specctl --env staging config unset colour" in cli("projects").stderr
    assert cli("--env", "staging", "config", "unset", "colour").exit_code == 0
    assert cli("projects").exit_code == 0
    assert 'org = "acme"' in path.read_text()
    unknown = cli("config", "unset", "nothing")  # neither known nor in the file
    assert unknown.exit_code == 2
    assert "unknown config key" in unknown.stderr
    assert cli("config", "unset", "env").exit_code == 2  # never the whole [env] table


def test_specctl_and_its_command_groups_alone_print_help_and_exit_0(cli):
    for args in ([], ["config"], ["store"]):
        result = cli(*args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.stdout
        assert result.stderr == ""


def test_help_points_at_command_help_not_at_a_readme_users_do_not_have(cli):
    text = cli("--help").stdout
    assert "README" not in text
    assert "specctl COMMAND --help" in text


def test_status_takes_choices_and_can_be_given_twice(cli):
    cli("add", "A", "--slug", "a")
    cli("add", "B", "--slug", "b", "--status", "review")
    cli("add", "C", "--slug", "c", "--status", "active")
    both = cli("projects", "--status", "review", "--status", "active")
    assert [line.split("\t")[0] for line in both.stdout.splitlines()] == ["b", "c"]
    from specctl.cli.projects_cmd import Status
    from specctl.store import STATUSES

    assert tuple(Status) == STATUSES


@pytest.mark.parametrize(
    "args", [["projects", "--with-repo", "--without-repo"], ["list-repos", "--linked", "--unlinked"]]
)
def test_opposite_flags_together_are_bad_usage(cli, github_env, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert "not both" in result.stderr
    assert github_env.requests() == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [("specctl projects --status ", ["interviewing", "review", "active", "complete"]),
     ("specctl projects --status re", ["review"]),
     ("specctl config set o", ["org"]), ("specctl config unset ti", ["timeout"])],
)  # fmt: skip
def test_shell_completion_offers_statuses_and_keys(words, expected):
    env = {**os.environ, "_SPECCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split(" ")) - 1)}  # fmt: skip
    done = subprocess.run([specctl_bin()], env=env, capture_output=True, text=True)
    assert done.stdout.split() == expected


def test_projects_and_list_repos_as_csv(cli, github_env):
    github_env.add_repo(ORG, "acme")
    cli("add", "Acme, Inc.", "--slug", "acme")
    cli("set-repo", "acme", f"{ORG}/acme")
    project = json.loads(cli("show", "acme", "--json").stdout)["project"]
    assert cli("projects", "--csv").stdout == (
        "slug,spec_status,github_repo,repo_source,name,org,description,created_at,updated_at\n"
        f'acme,interviewing,{ORG}/acme,manual,"Acme, Inc.",{ORG},,{project["created_at"]},{project["updated_at"]}\n'
    )
    assert cli("list-repos", "--csv").stdout == (
        f"full_name,visibility,slug,repo_source\n{ORG}/acme,private,acme,manual\n"
    )
    assert cli("projects", "--csv", "--json").exit_code == 2


def test_list_repos_takes_the_owner_as_an_argument_and_L_for_limit(cli, github_env):
    github_env.add_repos(ORG, 3)
    github_env.add_org("other")
    github_env.add_repo("other", "x")
    assert len(cli("list-repos", ORG).stdout.splitlines()) == 3
    assert cli("list-repos", "--owner", ORG, "-L", "2").stdout.splitlines() == [
        f"{ORG}/repo-00000\tprivate\t\t",
        f"{ORG}/repo-00001\tprivate\t\t",
    ]
    assert cli("list-repos", "other", "--owner", ORG).exit_code == 2


def test_dry_run_on_a_taken_name_says_which_name_it_would_try(cli, github_env):
    github_env.add_repo(ORG, "acme", created_at="2020-01-01T00:00:00Z")  # someone else's
    cli("add", "Acme", "--slug", "acme")
    result = cli("approve", "acme", "--dry-run")
    assert result.exit_code == 0
    assert "None" not in result.stderr
    assert f"repo {ORG}/acme-xxxx would be created" in result.stderr


def test_config_show_without_a_token_says_why_on_stderr_not_in_the_table(cli):
    result = cli("config", "show")
    assert result.exit_code == 0
    token_row = [line for line in result.stdout.splitlines() if line.startswith("token\t")]
    assert token_row == ["token\t\tnone"]
    assert "token" in result.stderr


def test_doctor_counts_one_project_in_the_singular(cli):
    cli("add", "A", "--slug", "a")
    assert "(1 project)" in cli("doctor").stdout


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_finishes_the_slug_in_hand_then_reports_and_a_rerun_finishes(
    github_env, db_path, sig, code
):
    slugs = [f"s{i}" for i in range(6)]
    for slug in slugs:
        specctl("add", slug.upper(), "--slug", slug)
    github_env.fault("POST", f"/orgs/{ORG}/repos", times=2)  # two creates answered at once ...
    third = github_env.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=3600)  # ... one held
    proc = start("approve", *slugs)
    deadline = time.monotonic() + 60
    while len(github_env.requests("POST")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(sig)  # during the third slug's POST, whatever the machine's load
    third.released.set()  # delivered before the answer can be read: the slug in hand finishes
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert [line.split("\t")[0] for line in out.splitlines()] == ["s0", "s1", "s2"]  # results so far
    assert "interrupted: 3 of 6 done; run the same command again to finish" in err
    assert "Traceback" not in err
    assert sorted(github_env.created) == [f"{ORG}/s0", f"{ORG}/s1", f"{ORG}/s2"]  # s2 finished, linked
    store = open_store(db_path)
    assert [store.require(s).spec_status for s in slugs] == ["review"] * 3 + ["interviewing"] * 3
    assert store.require("s2").github_repo == f"{ORG}/s2"
    store.close()
    rerun = specctl("approve", *slugs)
    assert rerun.exit_code == 0
    assert sorted(github_env.created) == [f"{ORG}/{s}" for s in slugs]  # each once: no twins


def test_approve_all_asks_whether_to_stop_before_each_slug():
    from specctl.approve import approve_all

    class Approver:
        def approve(self, slug):
            from specctl.approve import ApproveResult

            return ApproveResult(slug, "none")

    asked = []

    def stop():
        asked.append(True)
        return len(asked) > 2

    results, _ = approve_all(Approver(), ["a", "b", "c", "d"], stop=stop)  # type: ignore[arg-type]
    assert [r.slug for r in results] == ["a", "b"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_batch_onto_a_full_disk_stops_at_the_first_slug_whatever_the_buffering(tmp_path):
    """One behaviour with and without PYTHONUNBUFFERED: stop, and say how far it got."""
    for round_, env in enumerate((os.environ, {**os.environ, "PYTHONUNBUFFERED": "1"})):
        db = str(tmp_path / f"s{round_}.db")
        for slug in ("a", "b", "c"):
            subprocess.run([specctl_bin(), "--db", db, "add", slug.upper(), "--slug", slug], check=True,
                           capture_output=True)  # fmt: skip
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [specctl_bin(), "--db", db, "approve", "a", "b", "c", "--no-repo"],
                stdout=full, stderr=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.splitlines()[-1] == (
            "specctl: error: cannot write the output: No space left on device; stopped after 1 of 3 "
            "slugs (run the same command again to finish)"
        )
        listed = subprocess.run([specctl_bin(), "--db", db, "projects"], capture_output=True, text=True)
        assert [line.split("\t")[1] for line in listed.stdout.splitlines()] == [
            "review",
            "interviewing",
            "interviewing",
        ]


def test_list_repos_piped_prints_the_pages_read_before_a_failure_and_json_prints_none(cli, github_env):
    github_env.add_repos(ORG, 150)
    github_env.fault("GET", r"^/organizations/\d+/repos$", status=404, times=2)
    piped = cli("list-repos", ORG)
    assert piped.exit_code == 1
    assert len(piped.stdout.splitlines()) == 100  # the first page, written as it came
    assert "not found" in piped.stderr
    as_json = cli("--json", "list-repos", ORG)
    assert as_json.exit_code == 1
    assert set(json.loads(as_json.stdout)) == {"error"}  # one document: the error, no half list


def test_projects_json_encodes_values_as_json_dumps_does(cli, db_path):
    odd = 'Ünïcode "quoted" \\ back\tslash </script> %s'
    cli("add", "plain", "--slug", "a")
    with sqlite3.connect(db_path) as conn:  # past check_text, as an old or hand-edited store may be
        conn.execute("UPDATE projects SET name = ? WHERE slug = 'a'", (odd,))
    expected = {"slug": "a", "spec_status": "interviewing", "github_repo": None, "repo_source": None}
    assert (
        cli("projects", "--json").stdout
        == "[\n  " + json.dumps(expected | {"name": odd, "org": ORG}) + "\n]\n"
    )
