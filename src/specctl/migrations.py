"""The store's schema as named migrations, applied in order and recorded (like llm's).

`PRAGMA user_version` holds how many have run, so opening an up-to-date store costs one pragma
and sqlite-utils is imported only when there is something to migrate. Never edit a migration
that has shipped: add a new one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


def m001_projects_and_events(db: Database) -> None:
    db.table("projects").create(
        {
            "id": int,
            "slug": str,
            "name": str,
            "description": str,
            "spec_status": str,
            "github_repo": str,
            "repo_source": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"slug", "name", "description", "spec_status", "created_at", "updated_at"},
    )
    db.table("projects").create_index(["slug"], unique=True)
    db.table("events").create(
        {"id": int, "at": str, "project_slug": str, "kind": str, "details": str},
        pk="id",
        not_null={"at", "project_slug", "kind", "details"},
    )


def m002_repo_attempts(db: Database) -> None:
    # Each POST that may create a repo is recorded first, so a lost answer or a killed run can be
    # told apart from someone else's same-named repo (SPEC "approve" step 5).
    db.table("repo_attempts").create(
        {"id": int, "project_slug": str, "name": str, "at": str, "run_id": str},
        pk="id",
        not_null={"project_slug", "name", "at", "run_id"},
    )
    db.table("repo_attempts").create_index(["project_slug"])


def m003_indexes(db: Database) -> None:
    db.table("events").create_index(["project_slug", "id"])
    db.table("projects").create_index(["spec_status"])


def m004_event_actor(db: Database) -> None:
    # Who acted (SPEC "The team store"): a GitHub login or `user@host`; NULL on older events.
    db.table("events").add_column("actor", str)


def m005_attempt_outcomes(db: Database) -> None:
    # What became of each POST (sent, then created, name_taken, failed or unknown), which owner it
    # went to and when by GitHub's clock: a 422 "name exists" on a name whose POST got no answer
    # means the repo is most likely ours (GitHub's reads lag its writes). Rows from before keep
    # NULLs: no answer on record, the run's org, the local clock.
    attempts = db.table("repo_attempts")
    attempts.add_column("owner", str)
    attempts.add_column("outcome", str)
    attempts.add_column("github_at", str)


def m006_project_org(db: Database) -> None:
    # A project may name its own org (a client's); NULL names none: the config's org, so
    # existing projects keep theirs, whichever [env.NAME] first opens the upgraded store.
    db.table("projects").add_column("org", str)


def m007_repo_claims(db: Database) -> None:
    # Who may create a project's repo now, until when (epoch seconds): one run at a time, so two
    # runs never both choose a name or POST for one project; a dead run's claim runs out.
    db.table("repo_claims").create(
        {"project_slug": str, "holder": str, "expires_at": float},
        pk="project_slug",
        not_null={"holder", "expires_at"},
    )


MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = [
    ("m001_projects_and_events", m001_projects_and_events),
    ("m002_repo_attempts", m002_repo_attempts),
    ("m003_indexes", m003_indexes),
    ("m004_event_actor", m004_event_actor),
    ("m005_attempt_outcomes", m005_attempt_outcomes),
    ("m006_project_org", m006_project_org),
    ("m007_repo_claims", m007_repo_claims),
]
SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


class NotOurs(Exception):
    """An SQLite file with tables of its own and no specctl schema."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> None:
    """Bring the store up to `upto` migrations; safe when several processes race to do it."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise NewerSchema(version)
    if version >= upto:
        return
    from sqlite_utils import Database

    db = Database(conn, recursive_triggers=False, execute_plugins=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn)  # another process may have migrated while we waited
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise NotOurs()
        for name, step in MIGRATIONS[version:upto]:
            if name == MIGRATIONS[0][0]:
                db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
            step(db)
            applied_at = datetime.now(UTC).isoformat(timespec="seconds")
            db.table("_migrations").insert({"name": name, "applied_at": applied_at})
        conn.execute(f"PRAGMA user_version = {max(version, upto)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if version == 0:
        _enable_wal(conn)


def _enable_wal(conn: sqlite3.Connection, seconds: float = 10.0) -> None:
    """WAL lets readers and one writer share the file; the mode is stored in the file, so this
    runs once per store. Switching needs the file to itself and SQLite does not wait for that
    (no busy handler), so when processes race to create the store, wait here."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # an in-memory store answers "memory"
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                raise
        if time.monotonic() > deadline:
            return  # still correct without WAL, only less concurrent
        time.sleep(0.02)
