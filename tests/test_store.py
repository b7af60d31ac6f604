import os
import sqlite3
from pathlib import Path

import pytest

from specctl.errors import BadInput, ProjectNotFound, StoreError
from specctl.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from specctl.output import sql_line, tsv_field
from specctl.store import STATUSES, open_store, os_actor, stamp


def add(store, slug="acme", status="interviewing"):
    return store.add(slug=slug, name=slug.title(), description="d", status=status)


def test_add_and_get(store):
    project = add(store)
    assert store.get("acme") == project
    assert project.spec_status == "interviewing"
    assert project.github_repo is None
    assert [e.kind for e in store.events("acme")] == ["project_added"]


def test_store_file_and_parent_folders_are_created_on_first_write(tmp_path):
    path = tmp_path / "deep" / "er" / "s.db"
    open_store(path).close()
    assert path.exists()


def test_missing_store_reads_as_empty_without_creating_a_file(tmp_path):
    path = tmp_path / "none" / "s.db"
    store = open_store(path, create=False)
    assert list(store.projects()) == []
    assert not path.exists()
    assert not path.parent.exists()


def test_duplicate_slug_is_bad_input(store):
    add(store)
    with pytest.raises(BadInput, match="already exists"):
        add(store)


def test_require_unknown_is_not_found(store):
    with pytest.raises(ProjectNotFound, match="no project 'nope'"):
        store.require("nope")


def test_unknown_slug_suggests_a_unique_prefix_or_one_edit_away(store):
    for slug in ("acme-portal", "acme-shop", "beta"):
        add(store, slug)
    with pytest.raises(ProjectNotFound, match="did you mean beta"):
        store.require("betta")
    with pytest.raises(ProjectNotFound, match="did you mean acme-shop"):
        store.require("acme-s")
    with pytest.raises(ProjectNotFound, match="projects` lists them"):
        store.require("acme")  # a prefix of two: no guess


def test_named_finds_projects_by_name_ignoring_case_and_blanks(store):
    add(store, "acme")
    assert store.named("  ACME ") == ["acme"]
    assert store.named("Beta") == []


def test_edit_changes_name_and_description_with_one_event(store):
    add(store)
    before, after = store.edit("acme", {"name": "Acme Two", "description": "d"})
    assert (before.name, after.name, after.description) == ("Acme", "Acme Two", "d")
    assert store.events("acme")[-1].details == {"name": {"from": "Acme", "to": "Acme Two"}}
    store.edit("acme", {"name": "Acme Two"})  # no change: no event
    assert len(store.events("acme")) == 2


def test_one_repo_belongs_to_one_project(store):
    add(store, "acme")
    add(store, "beta")
    store.set_manual_repo("acme", "client/portal")
    with pytest.raises(BadInput, match="already the repo of acme"):
        store.set_manual_repo("beta", "Client/Portal")
    assert store.require("beta").github_repo is None


def test_set_status_is_compare_and_set(store):
    add(store)
    assert store.set_status("acme", expected="interviewing", new="review") is True
    assert store.set_status("acme", expected="interviewing", new="review") is False
    assert store.require("acme").spec_status == "review"
    kinds = [(e.kind, e.details) for e in store.events("acme")]
    assert kinds[-1] == ("status_changed", {"from": "interviewing", "to": "review"})
    assert len(kinds) == 2


def test_link_repo_if_unset_never_overwrites(store):
    add(store)
    store.set_manual_repo("acme", "client/portal")
    assert store.link_repo_if_unset("acme", "org/acme", kind="repo_created", details={}) is False
    project = store.require("acme")
    assert (project.github_repo, project.repo_source) == ("client/portal", "manual")


def test_attempts_are_recorded_only_while_the_project_has_no_repo(store):
    add(store)
    assert store.record_attempt("acme", "acme", "run1") is None
    assert [a.name for a in store.attempts("acme")] == ["acme"]
    assert store.link_repo_if_unset("acme", "org/acme", kind="repo_created", details={}) is True
    assert store.record_attempt("acme", "acme-x1y2", "run2") == "org/acme"
    assert [a.name for a in store.attempts("acme")] == ["acme"]  # kept as evidence for racers
    store.set_manual_repo("acme", None)
    assert store.attempts("acme") == []  # after --clear they no longer speak for the project


def test_events_record_who_acted(store, monkeypatch):
    monkeypatch.setenv("USER", "ada")
    store.actor = os_actor()
    add(store)
    store.actor = "octocat"  # the workflow's choice once GitHub said who the token is
    store.add_event("acme", "repo_adopted", {"repo": "org/acme"})
    host = os.uname().nodename
    assert [e.actor for e in store.events("acme")] == [f"ada@{host}", "octocat"]


def test_the_os_actor_is_user_at_host(monkeypatch):
    monkeypatch.delenv("USER", raising=False)
    monkeypatch.setenv("LOGNAME", "grace")
    assert os_actor() == f"grace@{os.uname().nodename}"


def test_projects_filters(store):
    add(store, "a")
    add(store, "b", status="review")
    add(store, "c", status="review")
    store.set_manual_repo("c", "x/c")
    assert [p.slug for p in store.projects()] == ["a", "b", "c"]
    assert [p.slug for p in store.projects(status="review")] == ["b", "c"]
    assert [p.slug for p in store.projects(has_repo=False)] == ["a", "b"]
    assert [p.slug for p in store.projects(status="review", has_repo=True)] == ["c"]


COLUMNS = ["slug", "spec_status", "github_repo", "repo_source", "name", "org"]


def shown_rows(store, org="cfg-org", **filters):
    """The listing as Python builds it from Project records: what the store's SQL must match."""
    statuses = filters.get("statuses") or STATUSES
    return [
        tuple(getattr(p.in_org(org), c) for c in COLUMNS)
        for p in store.projects(has_repo=filters.get("has_repo"))
        if p.spec_status in statuses
    ]


def tsv_lines(rows):
    return "".join("\t".join(tsv_field(v) for v in row) + "\n" for row in rows)


def listing_store(store):
    for i, status in enumerate(["review", "interviewing", "active", "review", "complete"]):
        store.add(slug=f"p{i}", name=f"P {i}", description="", status=status, org="own" if i == 2 else None)
    store.set_manual_repo("p3", "x/p3")


@pytest.mark.parametrize(
    "filters",
    [{}, {"statuses": ["review", "active"]}, {"has_repo": True}, {"has_repo": False, "statuses": ["review"]}],
)
def test_listing_rows_and_lines_are_the_projects_as_shown_by_slug(store, filters):
    listing_store(store)
    expected = shown_rows(store, **filters)
    assert len(expected) >= 1
    # size 2: the listing crosses chunk boundaries (the SQLite store pages by slug)
    chunks = list(store.project_rows(COLUMNS, org="cfg-org", size=2, **filters))
    assert [row for chunk in chunks for row in chunk] == expected
    assert all(len(chunk) <= 2 for chunk in chunks)
    lines = store.project_lines(sql_line(COLUMNS), org="cfg-org", size=2, **filters)
    assert "".join(lines) == tsv_lines(expected)


def test_listing_timestamps_are_text_as_the_records_have_them(store):
    listing_store(store)
    rows = [row for chunk in store.project_rows(["slug", "created_at", "updated_at"]) for row in chunk]
    assert rows == [(p.slug, p.created_at, p.updated_at) for p in store.projects()]


@pytest.mark.parametrize("odd", ["a\tb", "a\nb", "a\\b", "a\rb", "\t\t\t\t\t\n", "tab\t"])
def test_listing_lines_escape_as_tsv_field_does_in_any_chunk(store, odd):
    for i in range(7):
        store.add(slug=f"p{i}", name=odd if i in (3, 6) else f"P {i}", description="", status="review")
    lines = "".join(store.project_lines(sql_line(COLUMNS), org="o", size=2))
    assert lines == tsv_lines(shown_rows(store, org="o"))
    assert lines.count("\n") == 7


def test_an_empty_listing_has_no_lines_and_no_rows(store):
    assert list(store.project_lines(sql_line(COLUMNS))) == []
    assert list(store.project_rows(COLUMNS)) == []


@pytest.fixture
def sqlite_store(db_path, clock):
    s = open_store(db_path, now=clock)
    yield s
    s.close()


def test_new_store_uses_wal_and_records_migrations(sqlite_store, db_path):
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_commits_are_synced_to_disk_in_full(sqlite_store):
    """A power cut must not lose the record of a repo being created (NORMAL could, in WAL)."""
    assert sqlite_store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_store_made_by_migration_1_opens_in_this_version_without_loss(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=1)
    conn.execute(
        "INSERT INTO projects (slug, name, description, spec_status, github_repo, repo_source, "
        "created_at, updated_at) VALUES ('old', 'Old', '', 'review', 'o/old', 'manual', 't', 't')"
    )
    conn.execute("INSERT INTO events (at, project_slug, kind, details) VALUES ('t', 'old', 'x', '{}')")
    conn.close()
    store = open_store(path)
    project = store.require("old")
    assert (project.name, project.github_repo, project.repo_source) == ("Old", "o/old", "manual")
    assert [(e.kind, e.actor) for e in store.events("old")] == [("x", None)]  # who: not known then
    assert store.attempts("old") == []  # migration 2's table exists now
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_attempts_of_a_schema_3_store_open_as_unanswered_without_loss(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, upto=3)
    conn.execute(
        "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at) "
        "VALUES ('old', 'Old', '', 'review', 't', 't')"
    )
    conn.execute(
        "INSERT INTO repo_attempts (project_slug, name, at, run_id) "
        "VALUES ('old', 'old', '2026-01-02T03:04:05Z', 'r1')"
    )
    conn.close()
    store = open_store(path)
    [attempt] = store.attempts("old")
    assert (attempt.name, stamp(attempt.at), attempt.run_id) == ("old", "2026-01-02T03:04:05Z", "r1")
    assert (attempt.owner, attempt.outcome, attempt.github_at) == (None, None, None)  # nothing kept then
    store.record_attempt("old", "old", "r2", owner="org")
    store.set_attempt_outcome("old", "r2", "old", "created")
    assert [(a.owner, a.outcome) for a in store.attempts("old")] == [(None, None), ("org", "created")]


def test_store_from_a_newer_specctl_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer specctl"):
        open_store(path)
    assert path.read_bytes() == before


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        open_store(tmp_path)


def test_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(StoreError, match="not a specctl store"):
        open_store(path)
    assert path.read_text() == "hello, this is not a database\n" * 100


def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a specctl store"):
        open_store(path)
    assert path.read_bytes() == before


def test_locked_store_fails_after_the_busy_timeout(db_path):
    open_store(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = open_store(db_path, busy_timeout=0.1)
        with pytest.raises(StoreError, match="locked by another process"):
            add(store)
    finally:
        holder.execute("ROLLBACK")
    assert open_store(db_path).get("acme") is None


def test_store_under_a_file_is_a_store_error(tmp_path: Path):
    # Tests run as root (CI too), where permission bits do not stop writes; a file standing
    # where the folder should be does.
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        open_store(tmp_path / "file" / "sub" / "s.db")


def test_concurrent_first_opens_migrate_once(tmp_path):
    import threading

    path = tmp_path / "race.db"
    errors = []

    def open_it():
        try:
            open_store(path).close()
        except Exception as e:  # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM _migrations").fetchone()[0]
    assert rows == SCHEMA_VERSION


def test_an_older_and_a_newer_specctl_migrating_at_once(tmp_path):
    """An older binary (knowing migration 1) and this one open a new store at the same time."""
    import threading

    path = tmp_path / "two.db"
    errors = []

    def open_as(upto):
        try:
            conn = sqlite3.connect(path, timeout=10, isolation_level=None)
            migrate(conn, upto=upto)
            conn.close()
        except Exception as e:  # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [
        threading.Thread(target=open_as, args=(upto,)) for upto in (1, SCHEMA_VERSION, 1, SCHEMA_VERSION)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")] == [
        n for n, _ in MIGRATIONS
    ]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_doctor_reports_an_sqlite_store_kind_path_and_schema(cli, db_path):
    import json

    assert cli("add", "A", "--slug", "a").exit_code == 0
    checks = {c["name"]: c for c in json.loads(cli("--json", "doctor").stdout)["checks"]}
    assert checks["store"]["detail"] == f"sqlite {db_path} opens, schema {SCHEMA_VERSION} (1 project)"


@pytest.mark.parametrize("side", ["-shm", "-wal"])
def test_a_read_only_shm_or_wal_left_over_is_named(tmp_path, side):
    """SQLite gives `-wal` and `-shm` the store's permissions: after the store was read-only once,
    a 0444 one may be left when the store is writable again. Say which file is the problem."""
    from test_hostile import make_immutable  # as root, permission bits stop no write

    path = tmp_path / "s.db"
    store = open_store(path)
    add(store)
    store.close()
    leftover = Path(f"{path}{side}")
    leftover.write_bytes(b"")
    make_immutable(leftover, True)
    try:
        store = open_store(path)
        with pytest.raises(StoreError) as e:
            add(store, "b")
        store.close()
    finally:
        make_immutable(leftover, False)
    assert f"{leftover} is read-only" in e.value.message
    assert f"chmod u+w {leftover}" in e.value.message


def test_a_listing_left_half_way_is_closed_quietly_after_the_store(store):
    listing_store(store)
    rows = store.project_rows(COLUMNS, size=1)
    lines = store.project_lines(sql_line(COLUMNS), size=1)
    projects = store.projects()
    assert next(rows) == [("p0", "review", None, None, "P 0", "")]
    assert next(lines) == "p0\treview\t\t\tP 0\t\n"
    assert next(projects).slug == "p0"
    store.close()
    rows.close()  # what the garbage collector does to a listing a closed pipe abandoned
    lines.close()
    projects.close()


def test_one_holder_claims_a_projects_repo_creation_at_a_time(store):
    add(store)
    assert store.claim_create("acme", "run-a", 60) is None
    other = store.claim_create("acme", "run-b", 60)
    assert other is not None
    assert other.holder == "run-a"
    assert 0 < other.seconds_left <= 60
    assert store.claim_create("acme", "run-a", 60) is None  # renewed by its holder
    store.release_claim("acme", "run-b")  # not b's: changes nothing
    assert store.claim_create("acme", "run-b", 60) is not None
    store.release_claim("acme", "run-a")
    assert store.claim_create("acme", "run-b", 60) is None
    assert store.claim_create("acme", "run-c", 60, replacing="run-b") is None  # run-b known dead
    assert store.claim_create("acme", "run-b", 60).holder == "run-c"


def test_an_expired_claim_goes_to_the_next_claimer(store):
    import time

    add(store)
    assert store.claim_create("acme", "dead-run", 0.05) is None
    store.now.advance(seconds=1)  # the SQLite store's clock: the injected one
    time.sleep(0.2)  # PostgreSQL's: the server's own
    assert store.claim_create("acme", "run-b", 60) is None
    assert store.claim_create("acme", "dead-run", 60) is not None
