import sqlite3
from pathlib import Path

import pytest

from specctl.errors import BadInput, ProjectNotFound, StoreError
from specctl.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from specctl.store import Store, stamp


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
    Store.open(path).close()
    assert path.exists()


def test_missing_store_reads_as_empty_without_creating_a_file(tmp_path):
    path = tmp_path / "none" / "s.db"
    store = Store.open(path, create=False)
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


def test_projects_filters(store):
    add(store, "a")
    add(store, "b", status="review")
    add(store, "c", status="review")
    store.set_manual_repo("c", "x/c")
    assert [p.slug for p in store.projects()] == ["a", "b", "c"]
    assert [p.slug for p in store.projects(status="review")] == ["b", "c"]
    assert [p.slug for p in store.projects(has_repo=False)] == ["a", "b"]
    assert [p.slug for p in store.projects(status="review", has_repo=True)] == ["c"]


def test_repo_links_are_case_insensitive(store):
    add(store)
    store.set_manual_repo("acme", "Client/Portal")
    assert store.repo_links() == {"client/portal": ("acme", "manual")}


def test_new_store_uses_wal_and_records_migrations(store, db_path):
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_commits_are_synced_to_disk_in_full(store):
    """A power cut must not lose the record of a repo being created (NORMAL could, in WAL)."""
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


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
    store = Store.open(path)
    project = store.require("old")
    assert (project.name, project.github_repo, project.repo_source) == ("Old", "o/old", "manual")
    assert [e.kind for e in store.events("old")] == ["x"]
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
    store = Store.open(path)
    [attempt] = store.attempts("old")
    assert (attempt.name, stamp(attempt.at), attempt.run_id) == ("old", "2026-01-02T03:04:05Z", "r1")
    assert (attempt.owner, attempt.outcome, attempt.github_at) == (None, None, None)  # nothing kept then
    store.record_attempt("old", "old", "r2", owner="org")
    store.set_attempt_outcome("old", "r2", "old", "created")
    assert [(a.owner, a.outcome) for a in store.attempts("old")] == [(None, None), ("org", "created")]


def test_store_from_a_newer_specctl_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer specctl"):
        Store.open(path)
    assert path.read_bytes() == before


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(StoreError, match="not a specctl store"):
        Store.open(path)
    assert path.read_text() == "hello, this is not a database\n" * 100


def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a specctl store"):
        Store.open(path)
    assert path.read_bytes() == before


def test_locked_store_fails_after_the_busy_timeout(db_path):
    Store.open(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = Store.open(db_path, busy_timeout=0.1)
        with pytest.raises(StoreError, match="locked by another process"):
            add(store)
    finally:
        holder.execute("ROLLBACK")
    assert Store.open(db_path).get("acme") is None


def test_store_under_a_file_is_a_store_error(tmp_path: Path):
    # Tests run as root (CI too), where permission bits do not stop writes; a file standing
    # where the folder should be does.
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store.open(tmp_path / "file" / "sub" / "s.db")


def test_concurrent_first_opens_migrate_once(tmp_path):
    import threading

    path = tmp_path / "race.db"
    errors = []

    def open_it():
        try:
            Store.open(path).close()
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


@pytest.mark.parametrize("side", ["-shm", "-wal"])
def test_a_read_only_shm_or_wal_left_over_is_named(tmp_path, side):
    """SQLite gives `-wal` and `-shm` the store's permissions: after the store was read-only once,
    a 0444 one may be left when the store is writable again. Say which file is the problem."""
    from test_hostile import make_immutable  # as root, permission bits stop no write

    path = tmp_path / "s.db"
    store = Store.open(path)
    add(store)
    store.close()
    leftover = Path(f"{path}{side}")
    leftover.write_bytes(b"")
    make_immutable(leftover, True)
    try:
        store = Store.open(path)
        with pytest.raises(StoreError) as e:
            add(store, "b")
        store.close()
    finally:
        make_immutable(leftover, False)
    assert f"{leftover} is read-only" in e.value.message
    assert f"chmod u+w {leftover}" in e.value.message
