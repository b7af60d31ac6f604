"""End to end: the installed `specctl` against the GitHub double on 127.0.0.1."""

import signal
import time

import pytest

from conftest import ORG, TOKEN
from e2e import as_json, specctl, start, tsv
from specctl.store import open_store

pytestmark = pytest.mark.slow


def add(*slugs, status="interviewing"):
    for slug in slugs:
        assert specctl("add", slug.title(), "--slug", slug, "--status", status).exit_code == 0


def test_approve_creates_private_repos_and_reports_json(github_env, db_path):
    add("acme", "beta")
    result = specctl("--json", "approve", "acme", "beta")
    assert result.exit_code == 0
    doc = as_json(result)
    assert doc["exit_code"] == 0
    assert [
        (r["slug"], r["action"], r["github_repo"], r["repo_source"], r["error"]) for r in doc["results"]
    ] == [
        ("acme", "created", f"{ORG}/acme", "auto", None),
        ("beta", "created", f"{ORG}/beta", "auto", None),
    ]
    assert github_env.created == [f"{ORG}/acme", f"{ORG}/beta"]
    post = github_env.requests("POST")[0]
    assert post.body == {"name": "acme", "description": "", "private": True, "auto_init": False}
    assert post.authorization == f"Bearer {TOKEN}"
    assert post.user_agent.startswith("specctl/")
    assert open_store(db_path).require("acme").repo_source == "auto"


def test_batch_of_mixed_outcomes_reports_all_and_exits_with_the_highest_code(github_env):
    add("ok", "manual", "blocked")
    add("done", status="complete")
    assert specctl("set-repo", "manual", "client/x", "--no-verify").exit_code == 0
    result = specctl("approve", "ok", "manual", "done", "nope")
    rows = tsv(result.stdout)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("ok", "review", f"{ORG}/ok", "created"),
        ("manual", "review", "client/x", "skipped"),
        ("done", "complete", "", "none"),
        ("nope", "", "", "none"),
    ]
    assert result.exit_code == 5
    github_env.fault(
        "POST", f"/orgs/{ORG}/repos", status=403,
        body={"message": "Resource not accessible by personal access token"},
        headers={"X-Accepted-GitHub-Permissions": "administration=write"},
    )  # fmt: skip
    failed = specctl("approve", "blocked", "--require-repo")
    assert failed.exit_code == 6
    assert tsv(failed.stdout) == [["blocked", "review", "", "failed"]]
    assert "GITHUB_FORBIDDEN" in failed.stderr
    assert "Administration: write" in failed.stderr


def test_stdin_skips_comments_and_duplicates(github_env):
    add("a", "b")
    result = specctl("approve", "--stdin", input="# today's batch\na\n\nb  # second\na\n")
    assert result.exit_code == 0
    assert [r[0] for r in tsv(result.stdout)] == ["a", "b"]
    assert len(github_env.created) == 2


def test_dry_run_changes_nothing_and_sends_no_post(github_env, db_path):
    add("acme")
    result = specctl("--json", "approve", "--dry-run", "acme")
    doc = as_json(result)
    assert doc["dry_run"] is True
    assert doc["results"][0]["action"] == "created"
    assert doc["results"][0]["spec_status"] == "review"
    assert github_env.requests("POST") == []
    assert open_store(db_path).require("acme").spec_status == "interviewing"


def test_killed_after_github_created_the_repo_is_adopted_on_rerun(github_env, db_path):
    add("acme")
    github_env.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=3600)  # none before the kill
    proc = start("approve", "acme")
    deadline = time.monotonic() + 20
    while not github_env.created and time.monotonic() < deadline:
        time.sleep(0.02)
    assert github_env.created == [f"{ORG}/acme"]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert open_store(db_path).require("acme").github_repo is None  # the store never heard back
    rerun = specctl("approve", "acme")
    assert rerun.exit_code == 0
    assert tsv(rerun.stdout) == [["acme", "review", f"{ORG}/acme", "adopted"]]
    assert github_env.created == [f"{ORG}/acme"]
    assert len(github_env.requests("POST")) == 1


def test_killed_after_github_created_the_repo_then_rerun_at_once_under_read_lag(github_env, db_path):
    """GitHub's reads lag its writes: the re-run's GET says 404 and its POST "already exists".
    The killed run's unanswered attempt makes that repo ours: wait for it, adopt it, no twin."""
    add("acme")
    github_env.read_lag = 3
    github_env.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=3600)  # killed before it
    proc = start("approve", "acme")
    deadline = time.monotonic() + 20
    while not github_env.created and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = specctl("approve", "acme")
    assert rerun.exit_code == 0, rerun.stderr
    assert tsv(rerun.stdout) == [["acme", "review", f"{ORG}/acme", "adopted"]]
    assert github_env.created == [f"{ORG}/acme"]


def test_processes_racing_on_the_same_slugs_make_one_repo_each(github_env, db_path):
    slugs = [f"p{i}" for i in range(6)]
    add(*slugs)
    github_env.latency = 0.01
    procs = [start("approve", "--stdin", input="\n".join(slugs)) for _ in range(4)]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0, 0, 0]
    assert sorted(github_env.created) == sorted(f"{ORG}/{s}" for s in slugs)
    store = open_store(db_path)
    assert [store.require(s).github_repo for s in slugs] == [f"{ORG}/{s}" for s in slugs]


def test_set_repo_verifies_and_records_githubs_case(github_env):
    add("acme")
    github_env.add_org("client")
    github_env.add_repo("client", "Portal")
    for form in ("client/portal", "https://github.com/client/portal.git", "git@github.com:client/portal.git"):
        result = specctl("--json", "set-repo", "acme", form)
        assert result.exit_code == 0
        assert as_json(result)["github_repo"] == "client/Portal"
        assert as_json(result)["repo_source"] == "manual"
    missing = specctl("set-repo", "acme", "client/nope")
    assert missing.exit_code == 1
    assert "not found, or the token can't see it" in missing.stderr
    assert specctl("set-repo", "acme", "client/nope/x").exit_code == 2
    assert specctl("set-repo", "nope", "client/portal").exit_code == 3
    cleared = specctl("set-repo", "acme", "--clear")
    assert cleared.exit_code == 0
    assert tsv(cleared.stdout)[0][2] == ""
    kinds = [e["kind"] for e in as_json(specctl("--json", "show", "acme"))["events"]]
    assert kinds == ["project_added", "repo_set", "repo_cleared"]


def test_list_repos_over_three_pages_with_filters(github_env):
    github_env.add_repos(ORG, 250)
    add("linked")
    specctl("set-repo", "linked", f"{ORG}/repo-00123")
    everything = specctl("list-repos")
    assert everything.exit_code == 0
    assert len(tsv(everything.stdout)) == 250
    assert tsv(specctl("list-repos", "--linked").stdout) == [
        [f"{ORG}/repo-00123", "private", "linked", "manual"]
    ]
    assert len(tsv(specctl("list-repos", "--unlinked", "--owner", ORG).stdout)) == 249
    doc = as_json(specctl("--json", "list-repos", "--linked"))
    assert doc == [
        {"full_name": f"{ORG}/repo-00123", "visibility": "private", "slug": "linked", "repo_source": "manual"}
    ]
    org_pages = github_env.requests("GET", r"^/organizations/\d+/repos$")
    assert sorted(int(r.query["page"][0]) for r in org_pages) == [2, 3]


def test_list_repos_reports_projects_whose_repo_is_gone(github_env):
    add("ghost")
    specctl("set-repo", "ghost", f"{ORG}/deleted", "--no-verify")
    result = specctl("list-repos")
    assert result.exit_code == 0
    assert "ghost: its repo auditmos-projects/deleted is not in the listing" in result.stderr


@pytest.mark.parametrize(
    ("token", "org", "code", "needle"),
    [
        ("good", ORG, 0, "create repos\tok\tthe token may create repos"),
        (
            "readonly",
            ORG,
            1,
            "create repos\tfail\tthe token may not do this on org auditmos-projects: it needs Administration: write",
        ),
        ("bad", ORG, 4, "github user\tfail\tGitHub rejected the token"),
        ("good", "no-such-org", 1, "org\tfail\torg no-such-org not found"),
    ],
)
def test_doctor(github_env, token, org, code, needle):
    github_env.add_token("github_pat_readonly", "ro", can_create=False, scopes=None)
    tokens = {"good": TOKEN, "readonly": "github_pat_readonly", "bad": "ghp_revoked"}
    result = specctl("doctor", GH_TOKEN=tokens[token], GITHUB_ORG=org)
    assert result.exit_code == code
    assert needle in result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_verbose_traces_each_request_without_the_token(github_env):
    add("acme")
    result = specctl("-v", "approve", "acme")
    assert result.exit_code == 0
    assert f"debug: POST {github_env.url}/orgs/{ORG}/repos -> 201" in result.stderr
    assert TOKEN not in result.stderr


def test_doctor_warns_when_others_can_read_the_config(github_env, isolated):
    path = isolated / "config" / "config.toml"
    path.parent.mkdir()
    path.write_text('org = "auditmos-projects"\n')
    path.chmod(0o644)
    result = specctl("doctor")
    assert result.exit_code == 0
    assert f"config mode\twarn\tothers can read {path}: run chmod 600 {path}" in result.stdout
    path.write_text(f'token = "{TOKEN}"\n')  # a token there makes it a failure, with the fix
    refused = specctl("doctor", GH_TOKEN="")
    assert refused.exit_code == 4
    assert f"chmod 600 {path}" in refused.stdout
    assert TOKEN not in refused.stdout + refused.stderr
