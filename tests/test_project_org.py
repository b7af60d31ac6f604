"""A project in its own org (SPEC "GitHub App authentication", last item): `add --org`, the
sixth `projects` column, `show`, and the migration that adds the column to older stores."""

import json
import sqlite3

import pytest

from conftest import ORG, file_hash
from specctl.migrations import migrate
from specctl.store import open_store


def test_add_org_is_stored_and_listed_as_the_sixth_column(cli):
    assert cli("add", "Acme", "--slug", "acme", "--org", "acme-inc").exit_code == 0
    assert cli("add", "Beta", "--slug", "beta").exit_code == 0
    rows = [line.split("\t") for line in cli("projects").stdout.splitlines()]
    assert [(r[0], r[5]) for r in rows] == [("acme", "acme-inc"), ("beta", ORG)]
    assert all(len(r) == 6 for r in rows)
    assert [p["org"] for p in json.loads(cli("--json", "projects").stdout)] == ["acme-inc", ORG]


def test_a_project_naming_no_org_follows_the_config_org(cli, monkeypatch):
    cli("add", "Beta", "--slug", "beta")
    monkeypatch.setenv("GITHUB_ORG", "other-default")
    assert cli("projects").stdout.split("\t")[5] == "other-default\n"


def test_show_prints_the_org(cli):
    cli("add", "Acme", "--slug", "acme", "--org", "acme-inc")
    doc = json.loads(cli("--json", "show", "acme").stdout)
    assert doc["project"]["org"] == "acme-inc"
    assert doc["events"][0]["details"] == {"name": "Acme", "spec_status": "interviewing", "org": "acme-inc"}
    assert "org\tacme-inc" in cli("show", "acme").stdout


def test_a_bad_org_is_exit_2_and_creates_no_store(cli, db_path):
    result = cli("add", "Acme", "--org", "-bad-")
    assert result.exit_code == 2
    assert "invalid --org '-bad-'" in result.stderr
    assert file_hash(db_path) is None


def test_a_store_from_before_the_org_column_opens_with_the_config_org(cli, db_path):
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path, isolation_level=None)
    migrate(conn, upto=4)  # the last before the org column
    conn.execute(
        "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at) "
        "VALUES ('old', 'Old', '', 'review', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    conn.close()
    assert open_store(db_path).require("old").org is None  # names none
    assert cli("projects").stdout == f"old\treview\t\t\tOld\t{ORG}\n"
    names = [r[0] for r in sqlite3.connect(db_path).execute("SELECT name FROM _migrations")]
    assert "m006_project_org" in names


# -- approve in the project's org ----------------------------------------------------------


def test_approve_creates_the_repo_in_the_projects_own_org(store, double):
    from conftest import TOKEN
    from specctl.approve import ApproveOptions, Approver
    from specctl.config import Token
    from specctl.github import GitHub

    double.add_org("acme-inc")
    store.add(slug="acme", name="Acme", description="", status="interviewing", org="acme-inc")
    store.add(slug="beta", name="Beta", description="", status="interviewing")
    gh = GitHub.connect(double.url, Token(TOKEN, "GH_TOKEN"), pace=0)
    dry = Approver(store, lambda: gh, ORG, ApproveOptions(dry_run=True)).approve("acme")
    assert dry.repo == "acme-inc/acme"
    approver = Approver(store, lambda: gh, ORG)
    assert [approver.approve(s).repo for s in ("acme", "beta")] == ["acme-inc/acme", f"{ORG}/beta"]
    assert double.created == ["acme-inc/acme", f"{ORG}/beta"]


def test_an_earlier_attempt_is_adopted_from_the_projects_org(store, double):
    from conftest import TOKEN
    from specctl.approve import Approver
    from specctl.config import Token
    from specctl.github import GitHub

    double.add_org("acme-inc")
    store.add(slug="acme", name="Acme", description="", status="review", org="acme-inc")
    store.record_attempt("acme", "acme", "an-earlier-run")  # cut off after GitHub created it
    double.add_repo("acme-inc", "acme")
    result = Approver(store, lambda: GitHub.connect(double.url, Token(TOKEN, "x"), pace=0), ORG).approve(
        "acme"
    )
    assert (result.action, result.repo) == ("adopted", "acme-inc/acme")
    assert double.requests("POST") == []


# -- the org in the store, on both engines ---------------------------------------------------


def test_the_store_keeps_a_projects_org_and_lists_the_orgs_named(store):
    store.add(slug="acme", name="Acme", description="", status="interviewing", org="acme-inc")
    store.add(slug="beta", name="Beta", description="", status="interviewing")
    store.add(slug="gamma", name="Gamma", description="", status="interviewing", org="acme-inc")
    assert (store.require("acme").org, store.require("beta").org) == ("acme-inc", None)
    assert store.orgs() == ["acme-inc"]
    assert store.require("beta").in_org(ORG).org == ORG


def test_edit_org_only_while_there_is_no_repo(store):
    from specctl.errors import BadInput
    from specctl.projects import edit_project

    store.add(slug="acme", name="Acme", description="", status="interviewing")
    before, after = edit_project(store, "acme", org="acme-inc")
    assert (before.org, after.org) == (None, "acme-inc")
    assert store.events("acme")[-1].details == {"org": {"from": None, "to": "acme-inc"}}
    store.set_manual_repo("acme", "acme-inc/portal")
    with pytest.raises(BadInput, match=r"has its repo acme-inc/portal already; .*set-repo acme --clear"):
        edit_project(store, "acme", org="other-org")
    assert store.require("acme").org == "acme-inc"
    with pytest.raises(BadInput, match="invalid --org"):
        edit_project(store, "acme", org="-bad-")


def test_edit_org_on_the_command_line(cli):
    cli("add", "Acme", "--slug", "acme")
    edited = cli("edit", "acme", "--org", "acme-inc")
    assert edited.exit_code == 0
    assert edited.stdout.split("\t")[5] == "acme-inc\n"
    assert "org changed" in edited.stderr
    cli("set-repo", "acme", "acme-inc/portal", "--no-verify")
    refused = cli("edit", "acme", "--org", "other-org")
    assert refused.exit_code == 2
    assert "set-repo acme --clear" in refused.stderr


def test_store_copy_keeps_the_org_both_ways(db_path, pg_url, clock):
    from specctl.config import DatabaseURL
    from specctl.store.copy import copy_store

    sqlite_store = open_store(db_path, now=clock)
    sqlite_store.add(slug="acme", name="Acme", description="", status="interviewing", org="acme-inc")
    pg_store = open_store(DatabaseURL(pg_url), now=clock)
    copy_store(sqlite_store, pg_store)
    assert pg_store.require("acme").org == "acme-inc"
    back = open_store(db_path.with_name("back.db"), now=clock)
    copy_store(pg_store, back)
    assert back.require("acme") == sqlite_store.require("acme")
    for s in (sqlite_store, pg_store, back):
        s.close()
