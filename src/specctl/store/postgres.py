"""The team store on PostgreSQL (psycopg 3): the methods of the SQLite store, with one meaning.

Imported only for a `postgresql://` URL, so SQLite commands never load psycopg (~125 ms).
The connection runs in autocommit: a read is one statement, every write one short explicit
transaction, so nothing stays open across an HTTP request and no other admin waits on us.
Rows that a write reads before it decides are locked (`FOR UPDATE`), as SQLite's
`BEGIN IMMEDIATE` locks the whole file.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb

from specctl.config import DatabaseURL
from specctl.errors import BadInput, ConfigError, ProjectNotFound, StoreError
from specctl.store.base import (
    CHUNK,
    EDITABLE,
    Attempt,
    Claim,
    Clock,
    Event,
    Project,
    ProjectCopy,
    StoreInfo,
    check_org_change,
    not_found_message,
    one_near_slug,
    os_actor,
    parse_stamp,
    repo_taken_message,
    stamp,
    utcnow,
)

# Named migrations, applied in order and recorded in specctl_migrations. Never edit one that
# has shipped: add a new one.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_projects_events_attempts",
        """
        CREATE TABLE projects (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            slug text NOT NULL UNIQUE,
            name text NOT NULL,
            description text NOT NULL,
            spec_status text NOT NULL,
            github_repo text,
            repo_source text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE INDEX projects_spec_status ON projects (spec_status);
        CREATE TABLE events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at timestamptz NOT NULL,
            project_slug text NOT NULL REFERENCES projects (slug),
            kind text NOT NULL,
            details jsonb NOT NULL,
            actor text
        );
        CREATE INDEX events_project_slug_id ON events (project_slug, id);
        CREATE TABLE repo_attempts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_slug text NOT NULL REFERENCES projects (slug),
            name text NOT NULL,
            at timestamptz NOT NULL,
            run_id text NOT NULL
        );
        CREATE INDEX repo_attempts_project_slug ON repo_attempts (project_slug);
        """,
    ),
    (
        # As the SQLite store's m005_attempt_outcomes: where each POST went, what its answer
        # said, and when by GitHub's clock. Rows from before keep NULLs.
        "m002_attempt_outcomes",
        """
        ALTER TABLE repo_attempts ADD COLUMN owner text;
        ALTER TABLE repo_attempts ADD COLUMN outcome text;
        ALTER TABLE repo_attempts ADD COLUMN github_at timestamptz;
        """,
    ),
    # A project may name its own org (a client's); NULL names none: the config's org.
    ("m003_project_org", "ALTER TABLE projects ADD COLUMN org text;"),
    (
        # As the SQLite store's m007_repo_claims; the expiry is by the server's clock, the one
        # clock every admin's machine shares.
        "m004_repo_claims",
        """
        CREATE TABLE repo_claims (
            project_slug text PRIMARY KEY REFERENCES projects (slug),
            holder text NOT NULL,
            expires_at timestamptz NOT NULL
        );
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
# Any constant will do: it names the lock that serializes first use across processes.
MIGRATION_LOCK = 0x5EC7C71_0001
CONNECT_TIMEOUT = 10  # seconds; libpq's default is to wait for ever

if TYPE_CHECKING:
    from specctl.output import SqlLine

_PROJECT_COLUMNS = ", ".join(Project._fields)
# A listing's projects as `Project.in_org` shows them, timestamps as text as `stamp` writes them.
_STAMP = """'YYYY-MM-DD"T"HH24:MI:SS"Z"'"""
_SHOWN = (
    "(SELECT slug, name, description, spec_status, github_repo, repo_source, "
    f"to_char(created_at AT TIME ZONE 'UTC', {_STAMP}) AS created_at, "
    f"to_char(updated_at AT TIME ZONE 'UTC', {_STAMP}) AS updated_at, "
    "coalesce(nullif(org, ''), %(org)s) AS org FROM projects) AS p"
)


class NewerSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


class NotOurs(Exception):
    """A database with tables of its own and no specctl schema."""


class PostgresStore:
    def __init__(self, conn: psycopg.Connection[Any], url: DatabaseURL, now: Clock = utcnow):
        self.conn = conn
        self.url = url
        self.where = str(url)  # the password masked
        self.host = describe_host(url)
        self.now = now
        self.actor = os_actor()
        self._cursor_names = itertools.count(1)

    @classmethod
    def open(cls, url: DatabaseURL, *, now: Clock = utcnow) -> PostgresStore:
        """Connect and migrate. The database must exist; its tables are made on first use."""
        params = _params(url)
        options: dict[str, Any] = {"autocommit": True, "application_name": "specctl"}
        if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
            options["connect_timeout"] = CONNECT_TIMEOUT
        try:
            conn = psycopg.connect(url.url, **options)
        except psycopg.Error as e:
            raise StoreError(f"cannot reach the store at {describe_host(url)}: {_reason(e, url)}") from None
        store = cls(conn, url, now)
        with store._errors():
            migrate(conn)
        return store

    def close(self) -> None:
        self.conn.close()

    def info(self) -> StoreInfo:
        with self._errors():
            applied = applied_migrations(self.conn) or []
        number = self.conn.info.server_version  # e.g. 150004 for 15.4
        return StoreInfo("postgresql", self.where, len(applied), f"{number // 10000}.{number % 10000}")

    def ping(self) -> None:
        with self._errors():
            self.conn.execute("SELECT 1").fetchone()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn psycopg's failures into one StoreError naming the host, never the password."""
        try:
            yield
        except NewerSchema as e:
            raise StoreError(
                f"store {self.where} was written by a newer specctl (schema {e.found}, this one "
                f"knows {SCHEMA_VERSION}); upgrade specctl"
            ) from None
        except NotOurs:
            raise StoreError(
                f"{self.where} has tables of its own and is not a specctl store; "
                "give specctl an empty database"
            ) from None
        except psycopg.Error as e:
            if self.conn.broken or self.conn.closed:
                raise StoreError(
                    f"lost the connection to the store at {self.host}: {_reason(e, self.url)}"
                ) from None
            raise StoreError(f"store at {self.host}: {_reason(e, self.url)}") from None

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One short transaction; it commits on leaving, or rolls back on any error."""
        with self._errors(), self.conn.transaction():
            yield self.conn

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """One statement as its own transaction (autocommit): atomic on its own, and one round
        trip where BEGIN … COMMIT around it would take three."""
        with self._errors():
            return self.conn.execute(sql, params).fetchone()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._errors():
            return self.conn.execute(sql, params).fetchall()

    def _stream(self, sql: str, params: Any, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Rows `size` at a time through a server-side cursor (it lives in a transaction): the
        server keeps the result, not this process, and the first rows come before the last are
        read. Other reads may run while it is open; it is closed when the rows end or the
        caller stops."""
        name = f"specctl_listing_{next(self._cursor_names)}"
        with self._errors(), self.conn.transaction(), self.conn.cursor(name=name) as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield rows

    def _stamp_now(self) -> datetime:
        return self.now().astimezone(UTC).replace(microsecond=0)  # as the SQLite store keeps it

    # -- reads ------------------------------------------------------------------------------

    def get(self, slug: str) -> Project | None:
        for row in self._rows(f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE slug = %s", (slug,)):
            return _project(row)
        return None

    def require(self, slug: str) -> Project:
        project = self.get(slug)
        if project is None:
            raise ProjectNotFound(not_found_message(slug, self.where, self.slug_like(slug)))
        return project

    def slug_like(self, typo: str) -> str | None:
        """A "did you mean" for a slug not found (see `one_near_slug`)."""
        sql = "SELECT slug FROM projects WHERE substr(slug, 1, %s) = %s LIMIT 2"
        prefixed = [slug for (slug,) in self._rows(sql, (len(typo), typo))] if typo else []
        sql = "SELECT slug FROM projects WHERE length(slug) BETWEEN %s AND %s"
        nearby = [slug for (slug,) in self._rows(sql, (len(typo) - 1, len(typo) + 1))]
        return one_near_slug(typo, prefixed, nearby)

    def named(self, name: str) -> list[str]:
        """Slugs of the projects with this name, ignoring case and surrounding blanks."""
        sql = (
            "SELECT slug FROM projects WHERE lower(trim(name)) = lower(trim(%s)) "
            'ORDER BY created_at, slug COLLATE "C"'
        )
        return [slug for (slug,) in self._rows(sql, (name,))]

    def projects(self, *, status: str | None = None, has_repo: bool | None = None) -> Iterator[Project]:
        where, params = [], []
        if status is not None:
            where.append("spec_status = %s")
            params.append(status)
        if has_repo is not None:
            where.append(f"github_repo IS {'NOT ' if has_repo else ''}NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f'SELECT {_PROJECT_COLUMNS} FROM projects{clause} ORDER BY slug COLLATE "C"'
        for rows in self._stream(sql, tuple(params), CHUNK):
            for row in rows:
                yield _project(row)

    def project_rows(
        self,
        columns: Sequence[str],
        *,
        statuses: Sequence[str] = (),
        has_repo: bool | None = None,
        org: str = "",
        size: int = CHUNK,
    ) -> Iterator[list[tuple[Any, ...]]]:
        where, params = [], {"org": org, "statuses": list(statuses)}
        if statuses:
            where.append("spec_status = ANY(%(statuses)s)")
        if has_repo is not None:
            where.append(f"github_repo IS {'NOT ' if has_repo else ''}NULL")
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        sql = f'SELECT {", ".join(columns)} FROM {_SHOWN}{clause} ORDER BY slug COLLATE "C"'
        yield from self._stream(sql, params, size)

    def project_lines(
        self,
        line: SqlLine,
        *,
        statuses: Sequence[str] = (),
        has_repo: bool | None = None,
        org: str = "",
        size: int = CHUNK,
    ) -> Iterator[str]:
        """The escaped lines, computed by the server (in its own process, beside ours)."""
        listing = self.project_rows([line.escaped], statuses=statuses, has_repo=has_repo, org=org, size=size)
        for rows in listing:
            yield "\n".join([row[0] for row in rows]) + "\n"

    def events(self, slug: str) -> list[Event]:
        sql = "SELECT at, kind, details, actor FROM events WHERE project_slug = %s ORDER BY id"
        rows = self._rows(sql, (slug,))
        return [Event(stamp(at), kind, details, actor) for at, kind, details, actor in rows]

    def attempts(self, slug: str) -> list[Attempt]:
        sql = (
            "SELECT name, at, run_id, owner, outcome, github_at FROM repo_attempts "
            "WHERE project_slug = %s ORDER BY id"
        )
        return [
            Attempt(n, at.astimezone(UTC), r, o, out, g.astimezone(UTC) if g else None)
            for n, at, r, o, out, g in self._rows(sql, (slug,))
        ]

    def orgs(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT DISTINCT org FROM projects WHERE org IS NOT NULL")]

    # -- writes -----------------------------------------------------------------------------

    def add(self, *, slug: str, name: str, description: str, status: str, org: str | None = None) -> Project:
        at = self._stamp_now()
        with self._write() as db:
            inserted = db.execute(
                "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at, org) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (slug) DO NOTHING",
                (slug, name, description, status, at, at, org),
            ).rowcount
            if not inserted:
                raise BadInput(f"a project with slug {slug} already exists; choose another --slug")
            added = {"name": name, "spec_status": status} | ({"org": org} if org else {})
            self._event(db, slug, "project_added", added, at)
        return self.require(slug)

    def set_status(self, slug: str, *, expected: str, new: str) -> bool:
        """Compare-and-set: move `slug` from `expected` to `new`; False if it was not `expected`."""
        at = self._stamp_now()
        # The move and its event in one statement: one round trip, atomic on its own.
        row = self._one(
            "WITH moved AS (UPDATE projects SET spec_status = %s, updated_at = %s "
            "WHERE slug = %s AND spec_status = %s RETURNING slug), "
            "logged AS (INSERT INTO events (at, project_slug, kind, details, actor) "
            "SELECT %s, slug, 'status_changed', %s, %s FROM moved RETURNING 1) "
            "SELECT count(*) FROM logged",
            (new, at, slug, expected, at, Jsonb({"from": expected, "to": new}), self.actor),
        )
        return bool(row and row[0])

    def edit(self, slug: str, changes: dict[str, str]) -> tuple[Project, Project]:
        """Change a project's name, description or org; an event lists what changed (none: no event)."""
        at = self._stamp_now()
        with self._write() as db:
            before = self._locked(db, slug)
            diff = {k: v for k, v in changes.items() if k in EDITABLE and getattr(before, k) != v}
            check_org_change(before, diff)
            if diff:
                sets = ", ".join(f"{column} = %s" for column in diff)
                db.execute(
                    f"UPDATE projects SET {sets}, updated_at = %s WHERE slug = %s", (*diff.values(), at, slug)
                )
                details = {k: {"from": getattr(before, k), "to": v} for k, v in diff.items()}
                self._event(db, slug, "project_edited", details, at)
            after = self.require(slug)
        return before, after

    def link_repo_if_unset(self, slug: str, full_name: str, *, kind: str, details: dict[str, Any]) -> bool:
        """Record an auto repo unless the project got one meanwhile (a manual set-repo wins)."""
        at = self._stamp_now()
        with self._write() as db:
            changed = db.execute(
                "UPDATE projects SET github_repo = %s, repo_source = 'auto', updated_at = %s "
                "WHERE slug = %s AND github_repo IS NULL",
                (full_name, at, slug),
            ).rowcount
            if changed:
                self._event(db, slug, kind, {"repo": full_name, **details}, at)
        return bool(changed)

    def set_manual_repo(self, slug: str, full_name: str | None) -> tuple[Project, Project]:
        """Set (or with None clear) the repo by hand; returns the project before and after."""
        at = self._stamp_now()
        with self._write() as db:
            before = self._locked(db, slug)
            if full_name:
                # Two set-repos of one repo to two projects lock different rows: serialize them on
                # the repo's name so the second sees the first's link.
                db.execute("SELECT pg_advisory_xact_lock(hashtext(lower(%s)))", (full_name,))
                holder = db.execute(
                    "SELECT slug FROM projects WHERE lower(github_repo) = lower(%s) AND slug != %s LIMIT 1",
                    (full_name, slug),
                ).fetchone()
                if holder is not None:
                    raise BadInput(repo_taken_message(full_name, holder[0]))
            source = "manual" if full_name else None
            db.execute(
                "UPDATE projects SET github_repo = %s, repo_source = %s, updated_at = %s WHERE slug = %s",
                (full_name, source, at, slug),
            )
            # Earlier attempts no longer speak for this project (see the SQLite store).
            db.execute("DELETE FROM repo_attempts WHERE project_slug = %s", (slug,))
            if full_name:
                self._event(db, slug, "repo_set", {"from": before.github_repo, "to": full_name}, at)
            else:
                self._event(db, slug, "repo_cleared", {"from": before.github_repo}, at)
            after = self.require(slug)
        return before, after

    def record_attempt(
        self,
        slug: str,
        name: str,
        run_id: str,
        *,
        owner: str | None = None,
        github_at: datetime | None = None,
    ) -> str | None:
        """Record that `owner/name` is about to be POSTed for `slug` (outcome `sent`), unless the
        project has a repo by now: then record nothing and return that repo (checked and written
        atomically). `github_at` is the moment by GitHub's clock, when known."""
        # One statement, one round trip, atomic on its own: the project's row is locked while
        # the attempt goes in only if it still has no repo.
        row = self._one(
            "WITH p AS (SELECT github_repo FROM projects WHERE slug = %s FOR UPDATE), "
            "recorded AS (INSERT INTO repo_attempts "
            "(project_slug, name, at, run_id, owner, outcome, github_at) "
            "SELECT %s, %s, %s, %s, %s, 'sent', %s FROM p WHERE p.github_repo IS NULL RETURNING 1) "
            "SELECT github_repo, (SELECT count(*) FROM recorded) FROM p",
            (slug, slug, name, self._stamp_now(), run_id, owner, github_at),
        )
        if row is None:
            self.require(slug)  # raises ProjectNotFound with the usual message
        assert row is not None
        return str(row[0]) if row[0] is not None else None

    def set_attempt_outcome(self, slug: str, run_id: str, name: str, outcome: str) -> None:
        """What GitHub answered to the newest POST of `name` by run `run_id`."""
        with self._errors():
            self.conn.execute(
                "UPDATE repo_attempts SET outcome = %s WHERE id = (SELECT max(id) FROM repo_attempts "
                "WHERE project_slug = %s AND run_id = %s AND name = %s)",
                (outcome, slug, run_id, name),
            )

    def claim_create(
        self, slug: str, holder: str, seconds: float, *, replacing: str | None = None
    ) -> Claim | None:
        """Claim, or renew, the right to create `slug`'s repo for `seconds` from now by the
        server's clock (as the SQLite store's). None when `holder` has it now; else the other's.
        One atomic statement decides; the look at another's claim after it only informs."""
        taken = self._one(
            "INSERT INTO repo_claims (project_slug, holder, expires_at) "
            "VALUES (%s, %s, now() + make_interval(secs => %s)) "
            "ON CONFLICT (project_slug) DO UPDATE SET holder = EXCLUDED.holder, "
            "expires_at = EXCLUDED.expires_at "
            "WHERE repo_claims.holder IN (EXCLUDED.holder, %s) OR repo_claims.expires_at <= now() "
            "RETURNING holder",
            (slug, holder, seconds, replacing or holder),
        )
        if taken is not None:
            return None
        row = self._one(
            "SELECT holder, extract(epoch FROM expires_at - now()) FROM repo_claims WHERE project_slug = %s",
            (slug,),
        )
        return Claim(row[0], max(0.0, float(row[1]))) if row else Claim("", 0.0)

    def release_claim(self, slug: str, holder: str) -> None:
        with self._errors():
            self.conn.execute(
                "DELETE FROM repo_claims WHERE project_slug = %s AND holder = %s", (slug, holder)
            )

    def add_event(self, slug: str, kind: str, details: dict[str, Any]) -> None:
        with self._write() as db:
            self._event(db, slug, kind, details, self._stamp_now())

    def insert_copies(self, copies: list[ProjectCopy]) -> None:
        with self._write() as db:
            for project, events, attempts in copies:
                p = project
                inserted = db.execute(
                    f"INSERT INTO projects ({_PROJECT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (slug) DO NOTHING",
                    (*p[:6], parse_stamp(p.created_at), parse_stamp(p.updated_at), p.org),
                ).rowcount
                if not inserted:
                    raise BadInput(f"{self.where} has a project {p.slug} already; nothing was copied")
                with db.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO events (at, project_slug, kind, details, actor) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        [(parse_stamp(e.at), p.slug, e.kind, Jsonb(e.details), e.actor) for e in events],
                    )
                    cur.executemany(
                        "INSERT INTO repo_attempts "
                        "(project_slug, name, at, run_id, owner, outcome, github_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(p.slug, a.name, a.at, a.run_id, a.owner, a.outcome, a.github_at) for a in attempts],
                    )

    def _locked(self, db: psycopg.Connection[Any], slug: str) -> Project:
        """The project's row, locked until the transaction ends."""
        row = db.execute(
            f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE slug = %s FOR UPDATE", (slug,)
        ).fetchone()
        if row is None:
            self.require(slug)  # raises ProjectNotFound with the usual message
        assert row is not None
        return _project(row)

    def _event(
        self, db: psycopg.Connection[Any], slug: str, kind: str, details: dict[str, Any], at: datetime
    ) -> None:
        db.execute(
            "INSERT INTO events (at, project_slug, kind, details, actor) VALUES (%s, %s, %s, %s, %s)",
            (at, slug, kind, Jsonb(details), self.actor),
        )


def _project(row: tuple[Any, ...]) -> Project:
    """A row as the SQLite store gives it: timestamps as `YYYY-MM-DDTHH:MM:SSZ` text."""
    slug, name, description, spec_status, github_repo, repo_source, created_at, updated_at, org = row
    return Project(
        slug,
        name,
        description,
        spec_status,
        github_repo,
        repo_source,
        stamp(created_at),
        stamp(updated_at),
        org,
    )


# -- schema ---------------------------------------------------------------------------------


def applied_migrations(conn: psycopg.Connection[Any]) -> list[str] | None:
    """The names of the migrations run on this database; None before the first."""
    # pg_tables, not to_regclass(): its catalog cache may not yet see a table that another
    # process committed while we waited for the lock.
    found = conn.execute(
        "SELECT count(*) FROM pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'specctl_migrations'"
    ).fetchone()
    if found == (0,):
        return None
    return [name for (name,) in conn.execute("SELECT name FROM specctl_migrations ORDER BY name")]


def migrate(conn: psycopg.Connection[Any], upto: int = SCHEMA_VERSION) -> None:
    """Bring the database up to `upto` migrations. Processes starting at once on an empty
    database queue on a transaction-level advisory lock: one migrates, the others then find
    nothing to do. The lock ends with the transaction, so a dead client strands nothing."""
    wanted = [name for name, _ in MIGRATIONS[:upto]]
    applied = applied_migrations(conn) or []
    _refuse_newer(applied)
    if all(name in applied for name in wanted):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = applied_migrations(conn)  # another process may have migrated while we waited
        if found is None:
            if _has_tables(conn):
                raise NotOurs()
            conn.execute(
                "CREATE TABLE specctl_migrations "
                "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            found = []
        _refuse_newer(found)
        for name, ddl in MIGRATIONS[:upto]:
            if name not in found:
                conn.execute(ddl.encode())  # no parameters: several statements in one go
                conn.execute("INSERT INTO specctl_migrations (name) VALUES (%s)", (name,))


def _has_tables(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
    return row is not None and row[0] > 0


def _refuse_newer(applied: list[str]) -> None:
    known = {name for name, _ in MIGRATIONS}
    if any(name not in known for name in applied):
        raise NewerSchema(len(applied))


# -- messages that name the host, never the password -----------------------------------------


def _params(url: DatabaseURL) -> dict[str, Any]:
    try:
        return conninfo_to_dict(url.url)
    except psycopg.Error as e:
        raise ConfigError(f"db {url} is not a valid PostgreSQL URL: {_reason(e, url)}") from None


def describe_host(url: DatabaseURL) -> str:
    """Where the server is, for messages: host (or socket folder) and port, as libpq picks them."""
    try:
        params = conninfo_to_dict(url.url)
    except psycopg.Error:
        params = {}
    host = params.get("host") or os.environ.get("PGHOST") or "the default local socket"
    port = params.get("port") or os.environ.get("PGPORT")
    return f"{host}:{port}" if port else str(host)


def _reason(error: Exception, url: DatabaseURL) -> str:
    """The server's or libpq's reason on one line, with any password taken out."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__
    for secret in _passwords(url):
        text = text.replace(secret, "****")
    return text


def _passwords(url: DatabaseURL) -> list[str]:
    from urllib.parse import unquote

    secrets: list[str] = []
    authority = url.url.partition("://")[2].partition("?")[0]
    userinfo, at, _ = authority.rpartition("@")
    if at and ":" in userinfo:
        raw = userinfo.split(":", 1)[1]
        secrets += [raw, unquote(raw)]
    for param in url.url.partition("?")[2].split("&"):
        key, _, value = param.partition("=")
        if key.lower() == "password" and value:
            secrets += [value, unquote(value)]
    return [s for s in secrets if s]
