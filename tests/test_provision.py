"""Provisioning: the plan (pure: the [repo] table and what GitHub shows → the minimal writes),
and the workflow around read / plan / apply against the GitHub double over real HTTP."""

import pytest

from conftest import ORG, TOKEN
from specctl.approve import ApproveOptions, Approver
from specctl.config import Token
from specctl.github import GitHub
from specctl.provision import Change, Observed, Provisioner, plan, provision_all
from specctl.repo_config import parse_repo_table

SEEN = {
    "has_wiki": True, "has_issues": True, "homepage": None, "allow_auto_merge": False,
    "delete_branch_on_merge": False,
}  # fmt: skip


def table(**keys):
    return parse_repo_table(keys)


def observed(**kwargs):
    return Observed(**{"settings": SEEN, "topics": [], "teams": {}, "has_readme": True, **kwargs})


# -- plan ----------------------------------------------------------------------------------


def test_a_matching_repo_needs_no_write():
    repo = table(has_wiki=True, homepage="", topics=["b", "a"], teams={"devs": "push"}, readme=True)
    assert plan(repo, observed(topics=["A", "b"], teams={"devs": "push", "others": "admin"})) == []


def test_settings_compare_by_value():
    repo = table(has_wiki=False, has_issues=True, homepage="https://x.test", delete_branch_on_merge=True)
    assert plan(repo, observed()) == [
        Change("settings.has_wiki", True, False),
        Change("settings.homepage", None, "https://x.test"),
        Change("settings.delete_branch_on_merge", False, True),
    ]


def test_topics_are_a_set_replaced_whole():
    repo = table(topics=["client", "web"])
    assert plan(repo, observed(topics=["web", "Client"])) == []
    assert plan(repo, observed(topics=["web", "old"])) == [
        Change("topics", ["web", "old"], ["client", "web"])
    ]
    assert plan(table(topics=[]), observed(topics=["old"])) == [Change("topics", ["old"], [])]
    assert plan(table(), observed(topics=["old"])) == []  # no `topics` key: left alone


def test_teams_are_additive_with_the_exact_permission():
    repo = table(teams={"devs": "push", "leads": "maintain"})
    assert plan(repo, observed(teams={"devs": "admin", "qa": "pull"})) == [
        Change("teams.devs", "admin", "push"),  # exact: a higher permission is changed too
        Change("teams.leads", None, "maintain"),
    ]


def test_readme_only_without_a_template_and_only_when_there_is_none():
    assert plan(table(readme=True), observed(has_readme=False)) == [Change("readme", None, "README.md")]
    assert plan(table(readme=True), observed(has_readme=True)) == []
    assert plan(table(readme=True, template="o/t"), observed(has_readme=False)) == []


def test_unread_parts_plan_nothing():
    repo = table(has_wiki=False, topics=["a"], teams={"devs": "push"}, readme=True)
    assert plan(repo, Observed()) == []


# -- the workflow against the double --------------------------------------------------------


@pytest.fixture
def github(double):
    client = GitHub.connect(double.url, Token(TOKEN, "GH_TOKEN"), pace=0, concurrency=4)
    yield client
    client.close()


@pytest.fixture
def linked(store, double):
    """A project with an auto repo, as approve leaves it."""
    store.add(slug="acme", name="Acme", description="Client portal", status="review")
    double.add_repo(ORG, "acme")
    store.link_repo_if_unset("acme", f"{ORG}/acme", kind="repo_created", details={})
    double.add_team(ORG, "devs")
    double.add_team(ORG, "leads")
    return store.require("acme")


FULL = {
    "teams": {"devs": "push", "leads": "maintain"},
    "topics": ["client"],
    "has_wiki": False,
    "readme": True,
}


def writes(double):
    return [(s.method, s.path) for s in double.seen if s.method != "GET"]


def test_converge_applies_each_step_then_a_rerun_writes_nothing(store, double, github, linked):
    logs = []
    provisioner = Provisioner(store, lambda: github, table(**FULL), log=logs.append)
    result = provisioner.converge(linked)
    assert result.status == "done"
    assert [(c.setting, c.result) for c in result.changes] == [
        ("settings.has_wiki", "applied"), ("topics", "applied"), ("teams.devs", "applied"),
        ("teams.leads", "applied"), ("readme", "applied"),
    ]  # fmt: skip
    assert double.repo(f"{ORG}/acme")["has_wiki"] is False
    assert double.repo(f"{ORG}/acme")["topics"] == ["client"]
    assert double.repo_teams[f"{ORG}/acme".lower()] == {"devs": "push", "leads": "maintain"}
    assert double.files[f"{ORG}/acme".lower()]["README.md"] == "# Acme\n\nClient portal\n"
    assert [e.kind for e in store.events("acme")][-1] == "repo_provisioned"
    assert logs == []
    before = len(double.seen)
    again = provisioner.converge(linked)
    assert (again.status, again.changes) == ("done", [])
    assert all(s.method == "GET" for s in double.seen[before:])
    assert [e.kind for e in store.events("acme")].count("repo_provisioned") == 1


def test_a_failing_step_leaves_the_others_going_and_a_rerun_finishes(store, double, github, linked):
    double.fault("PUT", f"/orgs/{ORG}/teams/devs/repos/{ORG}/acme", status=500)
    logs = []
    provisioner = Provisioner(store, lambda: github, table(**FULL), log=logs.append)
    result = provisioner.converge(linked)
    assert result.status == "partial"
    assert result.error.code == "GITHUB_UNAVAILABLE"
    assert result.failed_steps == ["teams.devs"]
    assert [c.result for c in result.changes] == ["applied", "applied", "failed", "applied", "applied"]
    assert logs == [
        {"event": "repo_provision_failed", "slug": "acme", "step": "teams.devs", "status": 500,
         "github_error": {"code": "GITHUB_UNAVAILABLE", "message": result.error.message}},
    ]  # fmt: skip
    kinds = [e.kind for e in store.events("acme")]
    assert kinds[-2:] == ["repo_provision_failed", "repo_provisioned"]
    assert store.require("acme").github_repo == f"{ORG}/acme"  # still linked
    rerun = provisioner.converge(linked)
    assert rerun.status == "done"
    assert [(c.setting, c.result) for c in rerun.changes] == [("teams.devs", "applied")]


def test_a_failing_read_skips_only_its_step(store, double, github, linked):
    double.fault("GET", f"/repos/{ORG}/acme/topics", status=403, body={"message": "Forbidden"})
    result = Provisioner(store, lambda: github, table(**FULL)).converge(linked)
    assert result.status == "partial"
    assert result.failed_steps == ["topics"]
    assert "topics" not in [c.setting for c in result.changes]
    assert len(result.changes) == 4


def test_a_setting_github_does_not_apply_is_reported_once(store, double, github, linked):
    double.ignored_settings.add("has_wiki")
    provisioner = Provisioner(store, lambda: github, table(has_wiki=False))
    first = provisioner.converge(linked)
    assert (first.status, [c.result for c in first.changes]) == ("done", ["not_applied"])
    second = provisioner.converge(linked)
    assert (second.status, second.changes) == ("done", [])
    assert len(double.requests("PATCH")) == 1
    checked = Provisioner(store, lambda: github, table(has_wiki=False), dry_run=True).converge(linked)
    assert checked.status == "done"  # not drift


def test_a_manual_repo_is_never_read_nor_written(store, double, github):
    store.add(slug="client", name="Client", description="", status="review")
    store.set_manual_repo("client", "client-org/portal")

    def no_github():
        raise AssertionError("GitHub must not be touched")

    result = Provisioner(store, no_github, table(**FULL)).converge(store.require("client"))
    assert (result.status, result.changes) == ("none", [])


def test_dry_run_plans_with_gets_only(store, double, github, linked):
    result = Provisioner(store, lambda: github, table(**FULL), dry_run=True).converge(linked)
    assert result.status == "planned"
    assert {c.result for c in result.changes} == {"planned"}
    assert writes(double) == []
    assert [e.kind for e in store.events("acme")][-1] == "repo_created"


def test_a_deleted_repo_is_one_failure(store, double, github, linked):
    del double.repos[f"{ORG}/acme".lower()]
    result = Provisioner(store, lambda: github, table(**FULL)).converge(linked)
    assert (result.status, result.failed_steps, result.error.code) == (
        "partial",
        ["repo"],
        "GITHUB_NOT_FOUND",
    )
    assert writes(double) == []


def test_provision_all_exit_codes(store, double, github, linked):
    store.add(slug="bare", name="Bare", description="", status="review")
    provisioner = Provisioner(store, lambda: github, table(has_wiki=False), dry_run=True)
    results, code = provision_all(provisioner, ["acme", "bare", "acme", "nope"], check=True)
    assert [(r.slug, r.provision.status, r.exit_code) for r in results] == [
        ("acme", "planned", 7), ("bare", "none", 0), ("nope", "none", 3),
    ]  # fmt: skip
    assert code == 7
    _, bad = provision_all(provisioner, ["Not A Slug"])
    assert bad == 2


def test_approve_creates_from_the_template_and_converges(store, double, github):
    double.add_template(ORG, "client-template", {"README.md": "# Template\n"})
    double.add_team(ORG, "devs")
    store.add(slug="acme", name="Acme", description="", status="interviewing")
    repo = table(template=f"{ORG}/client-template", teams={"devs": "push"}, topics=["client"])
    approver = Approver(store, lambda: github, ORG, ApproveOptions(), repo=repo)
    result = approver.approve("acme")
    assert (result.action, result.provision.status) == ("created", "done")
    assert [(s.method, s.path) for s in double.requests("POST")] == [
        ("POST", f"/repos/{ORG}/client-template/generate")
    ]
    assert result.to_dict()["provision"]["changes"] == [
        {"setting": "topics", "from": [], "to": ["client"], "result": "applied"},
        {"setting": "teams.devs", "from": None, "to": "push", "result": "applied"},
    ]
    # a repo already linked (skipped) is converged too, here with nothing to do
    again = approver.approve("acme")
    assert (again.action, again.provision.status, again.provision.changes) == ("skipped", "done", [])


def test_approve_without_a_table_has_no_provision_key(store, double, github):
    store.add(slug="acme", name="Acme", description="", status="interviewing")
    result = Approver(store, lambda: github, ORG).approve("acme")
    assert "provision" not in result.to_dict()


def test_approve_dry_run_predicts_the_writes_of_a_new_repo(store, double, github):
    store.add(slug="acme", name="Acme", description="", status="interviewing")
    repo = table(teams={"devs": "push"})
    result = Approver(store, lambda: github, ORG, ApproveOptions(dry_run=True), repo=repo).approve("acme")
    assert result.provision.to_dict() == {
        "status": "planned",
        "changes": [{"setting": "teams.devs", "from": None, "to": "push", "result": "planned"}],
        "error": None,
    }
    assert writes(double) == []
