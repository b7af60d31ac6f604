"""End to end: provisioning with the installed `specctl` against the GitHub double."""

import json
import signal
import time
from collections import Counter

import pytest

from conftest import ORG
from e2e import as_json, specctl, start, tsv
from specctl.store import open_store

pytestmark = pytest.mark.slow

TEMPLATE = f"{ORG}/client-template"
TABLE = f"""
[repo]
template = "{TEMPLATE}"
teams = {{ developers = "push", leads = "maintain" }}
topics = ["client", "web"]
has_wiki = false
delete_branch_on_merge = true
"""


@pytest.fixture
def provisioned(github_env, isolated):
    """The double with a template and two teams; the config with a full [repo] table."""
    github_env.add_template(
        ORG, "client-template", {"README.md": "# Template\n", ".github/CODEOWNERS": "*\n"}
    )
    github_env.template_delay = 0.5  # the files arrive after the 201: nothing may wait for them
    github_env.add_team(ORG, "developers")
    github_env.add_team(ORG, "leads")
    write_config(isolated, TABLE)
    return github_env


def write_config(isolated, text):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)


def add(*slugs):
    for slug in slugs:
        assert specctl("add", slug.title(), "--slug", slug).exit_code == 0


def kinds(double, since=0):
    """Requests by kind, e.g. {"GET /repos/o/r/topics": 1}, with repo names generalised."""
    return Counter(f"{s.method} {s.path}".replace("/acme", "/{r}") for s in double.seen[since:])


def write_count(double, since=0):
    return sum(1 for s in double.seen[since:] if s.method != "GET")


def test_template_approve_with_two_teams_and_topics_then_a_rerun_sends_no_write(provisioned, db_path):
    add("acme")
    result = specctl("--json", "approve", "acme")
    assert result.exit_code == 0, result.stderr
    doc = as_json(result)["results"][0]
    assert (doc["action"], doc["github_repo"]) == ("created", f"{ORG}/acme")
    assert doc["provision"]["status"] == "done"
    assert doc["provision"]["error"] is None
    assert [(c["setting"], c["from"], c["to"]) for c in doc["provision"]["changes"]] == [
        ("settings.has_wiki", True, False),
        ("settings.delete_branch_on_merge", False, True),
        ("topics", [], ["client", "web"]),
        ("teams.developers", None, "push"),
        ("teams.leads", None, "maintain"),
    ]
    repo = provisioned.repo(f"{ORG}/acme")
    assert (repo["has_wiki"], repo["delete_branch_on_merge"], repo["topics"]) == (
        False,
        True,
        ["client", "web"],
    )
    assert provisioned.repo_teams[f"{ORG}/acme".lower()] == {"developers": "push", "leads": "maintain"}
    assert kinds(provisioned) == {
        "GET /rate_limit": 1,  # GitHub's clock, learnt before the first create
        f"POST /repos/{TEMPLATE}/generate": 1,
        f"GET /repos/{ORG}/{{r}}": 1,
        f"GET /repos/{ORG}/{{r}}/topics": 1,
        f"GET /repos/{ORG}/{{r}}/teams": 1,
        f"PATCH /repos/{ORG}/{{r}}": 1,
        f"PUT /repos/{ORG}/{{r}}/topics": 1,
        f"PUT /orgs/{ORG}/teams/developers/repos/{ORG}/{{r}}": 1,
        f"PUT /orgs/{ORG}/teams/leads/repos/{ORG}/{{r}}": 1,
    }
    events = [e.kind for e in open_store(db_path).events("acme")]
    assert events[-2:] == ["repo_created", "repo_provisioned"]
    before = len(provisioned.seen)
    rerun = specctl("--json", "approve", "acme")
    assert rerun.exit_code == 0
    again = as_json(rerun)["results"][0]
    assert (again["action"], again["provision"]) == (
        "skipped",
        {"status": "done", "changes": [], "error": None},
    )
    assert write_count(provisioned, before) == 0
    assert sum(kinds(provisioned, before).values()) == 3  # GET repo, topics, teams
    assert [e.kind for e in open_store(db_path).events("acme")] == events  # no event for no change


def test_a_failing_team_step_is_partial_and_a_rerun_finishes_it(provisioned, db_path):
    add("acme")
    provisioned.fault(
        "PUT", f"/orgs/{ORG}/teams/leads/repos/{ORG}/acme", status=403,
        body={"message": "Resource not accessible by personal access token"},
        headers={"X-Accepted-GitHub-Permissions": "administration=write"},
    )  # fmt: skip
    first = specctl("approve", "acme", "--require-repo")
    assert first.exit_code == 0  # the repo exists: a failed step is not "no repo"
    assert tsv(first.stdout) == [["acme", "review", f"{ORG}/acme", "created"]]
    log = [json.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    assert log == [
        {"event": "repo_provision_failed", "slug": "acme", "step": "teams.leads", "status": 403,
         "github_error": {"code": "GITHUB_FORBIDDEN", "message": log[0]["github_error"]["message"]}},
    ]  # fmt: skip
    assert "Administration: write" in log[0]["github_error"]["message"]
    assert "repo provisioning is partial (teams.leads failed)" in first.stderr
    assert "run `specctl approve acme` again to finish" in first.stderr
    assert provisioned.repo_teams[f"{ORG}/acme".lower()] == {"developers": "push"}
    assert open_store(db_path).require("acme").github_repo == f"{ORG}/acme"
    before = len(provisioned.seen)
    rerun = specctl("provision", "acme")
    assert rerun.exit_code == 0
    assert tsv(rerun.stdout) == [["acme", "teams.leads", "null", '"maintain"', "applied"]]
    assert [f"{s.method} {s.path}" for s in provisioned.seen[before:] if s.method != "GET"] == [
        f"PUT /orgs/{ORG}/teams/leads/repos/{ORG}/acme"
    ]
    kinds_ = [e.kind for e in open_store(db_path).events("acme")]
    assert kinds_.count("repo_provision_failed") == 1
    assert kinds_[-1] == "repo_provisioned"


def test_provision_exits_1_when_a_step_fails(provisioned):
    add("acme")
    assert specctl("approve", "acme").exit_code == 0
    provisioned.repo_teams.clear()
    provisioned.fault("PUT", f"/orgs/{ORG}/teams/developers/repos/{ORG}/acme", status=502)
    result = specctl("--json", "provision", "acme")
    assert result.exit_code == 1
    doc = as_json(result)
    assert doc["exit_code"] == 1
    assert doc["results"][0]["provision"]["status"] == "partial"
    assert doc["results"][0]["provision"]["error"]["code"] == "GITHUB_UNAVAILABLE"


def test_check_exits_7_on_drift_and_0_after_provision(provisioned):
    add("acme", "beta")
    assert specctl("approve", "acme", "beta").exit_code == 0
    assert specctl("provision", "--all", "--check").exit_code == 0
    provisioned.repos[f"{ORG}/beta".lower()]["has_wiki"] = True  # changed behind specctl's back
    before = len(provisioned.seen)
    check = specctl("provision", "--all", "--check")
    assert check.exit_code == 7
    assert tsv(check.stdout) == [["beta", "settings.has_wiki", "true", "false", "planned"]]
    assert write_count(provisioned, before) == 0
    fixed = specctl("provision", "--all")
    assert fixed.exit_code == 0
    assert tsv(fixed.stdout) == [["beta", "settings.has_wiki", "true", "false", "applied"]]
    assert specctl("provision", "--all", "--check").exit_code == 0


def test_check_json(provisioned):
    add("acme")
    assert specctl("approve", "acme").exit_code == 0
    provisioned.repos[f"{ORG}/acme".lower()]["topics"] = ["client"]
    doc = as_json(specctl("--json", "provision", "--check", "acme"))
    assert doc == {
        "results": [
            {"slug": "acme", "github_repo": f"{ORG}/acme", "provision": {
                "status": "planned", "error": None,
                "changes": [{"setting": "topics", "from": ["client"], "to": ["client", "web"], "result": "planned"}],
            }},
        ],
        "exit_code": 7,
        "dry_run": True,
    }  # fmt: skip


def test_a_manual_repo_is_never_touched(provisioned):
    add("client")
    provisioned.add_org("client-org")
    provisioned.add_repo("client-org", "portal")
    assert specctl("set-repo", "client", "client-org/portal").exit_code == 0
    before = len(provisioned.seen)
    approved = specctl("--json", "approve", "client")
    assert as_json(approved)["results"][0]["provision"] == {"status": "none", "changes": [], "error": None}
    result = specctl("--json", "provision", "client")
    assert result.exit_code == 0
    assert as_json(result)["results"][0]["provision"]["status"] == "none"
    assert provisioned.seen[before:] == []  # not even read
    assert specctl("provision", "--all").stdout == ""


def test_dry_run_sends_only_gets(provisioned, db_path, isolated):
    add("acme")
    write_config_without_template(isolated)
    assert specctl("approve", "acme").exit_code == 0
    provisioned.repo_teams.clear()
    provisioned.repos[f"{ORG}/acme".lower()]["has_wiki"] = True
    events = open_store(db_path).events("acme")
    before = len(provisioned.seen)
    result = specctl("provision", "--dry-run", "acme")
    assert result.exit_code == 0
    assert [row[1] for row in tsv(result.stdout)] == ["settings.has_wiki", "teams.developers", "teams.leads"]
    assert {row[4] for row in tsv(result.stdout)} == {"planned"}
    assert {s.method for s in provisioned.seen[before:]} == {"GET"}
    assert open_store(db_path).events("acme") == events


def write_config_without_template(isolated):
    """Same table, no template, with a README seeded: the repo is created bare."""
    write_config(isolated, TABLE.replace(f'template = "{TEMPLATE}"\n', "readme = true\n"))


def test_readme_is_seeded_without_a_template(provisioned, isolated):
    add("acme")
    write_config_without_template(isolated)
    result = specctl("--json", "approve", "acme")
    changes = as_json(result)["results"][0]["provision"]["changes"]
    assert changes[-1] == {"setting": "readme", "from": None, "to": "README.md", "result": "applied"}
    assert provisioned.files[f"{ORG}/acme".lower()]["README.md"] == "# Acme\n"
    assert provisioned.requests("POST")[0].path == f"/orgs/{ORG}/repos"


def test_a_killed_run_mid_provisioning_is_finished_by_the_next(provisioned, db_path):
    add("acme")
    # The first team PUT is carried out, then its answer hangs: the run is killed there.
    provisioned.fault("PUT", f"/orgs/{ORG}/teams/developers/repos/{ORG}/acme", delay=30)
    proc = start("approve", "acme")
    deadline = time.monotonic() + 20
    while not provisioned.repo_teams and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert provisioned.repo_teams[f"{ORG}/acme".lower()] == {"developers": "push"}
    assert open_store(db_path).require("acme").github_repo == f"{ORG}/acme"  # linked before provisioning
    before = len(provisioned.seen)
    rerun = specctl("--json", "approve", "acme")
    assert rerun.exit_code == 0
    doc = as_json(rerun)["results"][0]
    assert doc["action"] == "skipped"
    assert [(c["setting"], c["result"]) for c in doc["provision"]["changes"]] == [("teams.leads", "applied")]
    assert write_count(provisioned, before) == 1
    assert len(provisioned.created) == 1


def test_provision_without_a_table_is_bad_usage(github_env):
    result = specctl("provision", "--all")
    assert result.exit_code == 2
    assert "no [repo] table in config" in result.stderr


def test_bad_table_stops_approve_before_anything_is_created(github_env, isolated, db_path):
    add("acme")
    write_config(isolated, '[repo]\ntopics = ["Client"]\n')
    result = specctl("approve", "acme")
    assert result.exit_code == 2
    assert "[repo] topics: 'Client' is not a valid topic" in result.stderr
    assert github_env.seen == []
    assert open_store(db_path).require("acme").spec_status == "interviewing"


def test_doctor_checks_the_table_without_writing(provisioned, isolated):
    write_config(isolated, TABLE + "readme = true\n")
    ok = specctl("doctor")
    assert ok.exit_code == 0, ok.stdout
    assert f"repo template\tok\t{TEMPLATE} is a template repository" in ok.stdout
    assert "repo readme\twarn\treadme is ignored with a template" in ok.stdout
    assert f"repo teams\tok\tdevelopers (push), leads (maintain) exist in {ORG}" in ok.stdout
    assert "repo topics\tok\t2 valid topics" in ok.stdout
    assert "repo permissions\tok\tthe [repo] steps need Administration: write" in ok.stdout
    writes = [s for s in provisioned.seen if s.method != "GET"]
    assert [(s.method, s.body) for s in writes] == [("POST", {"name": ""})]  # the create-permission probe
    provisioned.repos[TEMPLATE.lower()]["is_template"] = False
    provisioned.teams[ORG.lower()].discard("leads")
    bad = specctl("doctor")
    assert bad.exit_code == 1
    assert f"repo template\tfail\t{TEMPLATE} is not a template repository" in bad.stdout
    assert f"repo teams\tfail\tno team leads in {ORG}" in bad.stdout


def test_provision_all_on_a_terminal_shows_progress_and_a_table(provisioned):
    from test_tty import on_terminal

    add("acme", "beta")
    assert specctl("approve", "acme", "beta").exit_code == 0
    for slug in ("acme", "beta"):
        provisioned.repos[f"{ORG}/{slug}".lower()]["has_wiki"] = True
    screen = on_terminal("provision", "--all")
    assert "Provisioning" in screen
    assert "setting" in screen  # the table's header: terminals only
    assert "settings.has_wiki" in screen
    assert "acme: repo provisioned (1 change)" in screen
    assert "Traceback" not in screen
    piped = specctl("provision", "--all")
    assert "Provisioning" not in piped.stderr
    assert "\x1b[" not in piped.stderr + piped.stdout
