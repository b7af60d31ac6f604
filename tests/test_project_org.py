"""A project in its own org (SPEC "GitHub App authentication", last item): `add --org`, the
sixth `projects` column, `show`, and the migration that adds the column to older stores."""

import json
import sqlite3

from conftest import ORG, file_hash
from specctl.migrations import migrate
from specctl.store import Store


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
    migrate(conn, upto=3)
    conn.execute(
        "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at) "
        "VALUES ('old', 'Old', '', 'review', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    conn.close()
    assert Store.open(db_path).require("old").org is None  # names none
    assert cli("projects").stdout == f"old\treview\t\t\tOld\t{ORG}\n"
    names = [r[0] for r in sqlite3.connect(db_path).execute("SELECT name FROM _migrations")]
    assert "m004_project_org" in names
