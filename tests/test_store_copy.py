"""store copy: a laptop's store into the team database (and back), safe to re-run, all or nothing."""

import json

import pytest

from specctl.config import DatabaseURL
from specctl.errors import BadInput
from specctl.store import ProjectCopy, open_store


def contents(store):
    return [(p, store.events(p.slug), store.attempts(p.slug)) for p in store.projects()]


def laptop(db_path, clock):
    """A store with history: an approved project with a repo, one with an attempt on record."""
    store = open_store(db_path, now=clock)
    store.add(slug="acme", name="Acme", description="portal", status="interviewing")
    store.set_status("acme", expected="interviewing", new="review")
    store.set_manual_repo("acme", "client/acme")
    store.add(slug="beta", name="Beta", description="", status="review")
    store.actor = "octocat"
    store.record_attempt("beta", "beta", "run1")
    store.add_event("beta", "repo_create_failed", {"code": "GITHUB_UNAVAILABLE", "http_status": 502})
    return store


def test_copy_moves_every_project_event_and_attempt_into_postgres(cli, db_path, pg_url, clock):
    source = laptop(db_path, clock)
    result = cli("store", "copy", pg_url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["acme\tcopied\t3\t0", "beta\tcopied\t2\t1"]
    assert "copied 2 projects (5 events, 1 attempts)" in result.stderr
    dest = open_store(DatabaseURL(pg_url))
    assert contents(dest) == contents(source)
    assert dest.events("beta")[-1].actor == "octocat"  # who acted then, not who copied


def test_copy_again_copies_nothing_twice_and_only_what_is_new(cli, db_path, pg_url, clock):
    source = laptop(db_path, clock)
    assert cli("store", "copy", pg_url).exit_code == 0
    again = cli("--json", "store", "copy", pg_url)
    assert again.exit_code == 0
    doc = json.loads(again.stdout)
    assert (doc["copied"], doc["present"]) == (0, 2)
    source.add(slug="gamma", name="Gamma", description="", status="interviewing")
    third = cli("store", "copy", pg_url)
    assert third.stdout.splitlines() == ["acme\tpresent\t3\t0", "beta\tpresent\t2\t1", "gamma\tcopied\t1\t0"]
    assert contents(open_store(DatabaseURL(pg_url))) == contents(source)


def test_a_slug_with_other_data_in_dest_is_refused_and_dest_is_unchanged(cli, db_path, pg_url, clock):
    laptop(db_path, clock).add(slug="gamma", name="Gamma", description="", status="interviewing")
    dest = open_store(DatabaseURL(pg_url))
    dest.add(slug="beta", name="Someone else's beta", description="", status="interviewing")
    before = contents(dest)
    result = cli("store", "copy", pg_url)
    assert result.exit_code == 2
    assert "already has beta with other data" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert contents(dest) == before  # acme and gamma were not copied either


def test_copy_from_postgres_into_a_new_sqlite_file(cli, pg_url, tmp_path, clock):
    source = open_store(DatabaseURL(pg_url), now=clock)
    source.add(slug="acme", name="Acme", description="", status="interviewing")
    target = tmp_path / "new" / "laptop.db"
    result = cli("store", "copy", str(target), "--from", pg_url)
    assert result.exit_code == 0, result.stderr
    assert contents(open_store(target)) == contents(source)


def test_the_password_in_a_dest_url_is_never_printed(cli, db_path, pg_url, clock):
    laptop(db_path, clock)
    password = "copy-canary-pw"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    for args in (("store", "copy", url), ("--json", "store", "copy", url), ("-v", "store", "copy", url)):
        result = cli(*args)
        assert result.exit_code == 0
        assert "postgres:****@" in result.stdout + result.stderr
        assert password not in result.stdout + result.stderr


def test_insert_copies_is_all_or_nothing(store, clock):
    store.add(slug="taken", name="Taken", description="", status="interviewing")
    taken = ProjectCopy(store.require("taken"), store.events("taken"), [])
    fresh = ProjectCopy(taken.project._replace(slug="fresh"), [], [])
    with pytest.raises(BadInput, match="has a project taken already"):
        store.insert_copies([fresh, taken])
    assert store.get("fresh") is None
