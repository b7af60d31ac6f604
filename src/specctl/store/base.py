"""What every store offers, whatever the engine: the records and the Store protocol.

The workflows (approve, set-repo, list-repos) know this protocol only; SQLite and PostgreSQL
implement it with one meaning. Rules live in the workflows: the store offers compare-and-set
writes that say whether they applied, each one short transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from specctl.errors import BadInput

if TYPE_CHECKING:
    from specctl.output import SqlLine

STATUSES = ("interviewing", "review", "active", "complete")
CHUNK = 5000  # rows a listing fetches and hands on at a time: ~0.3 MB of text

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# Rows are NamedTuples rather than dataclasses: a dataclass costs ~0.6 ms to define at every
# start, a NamedTuple ~0.1 ms (measured), and these are immutable records of a row anyway.
class Project(NamedTuple):
    slug: str
    name: str
    description: str
    spec_status: str
    github_repo: str | None
    repo_source: str | None  # "auto" or "manual" when github_repo is set
    created_at: str
    updated_at: str
    org: str | None = None  # the org its repo goes to; None: the config's org

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

    def in_org(self, default_org: str) -> Project:
        """The project as shown and worked on: its own org, else the config's."""
        return self if self.org else self._replace(org=default_org)


class Event(NamedTuple):
    at: str
    kind: str
    details: dict[str, Any]
    actor: str | None = None  # who acted: a GitHub login or `user@host`; None on old events


class StoreInfo(NamedTuple):
    """What `doctor` reports about a store."""

    kind: str  # sqlite | postgresql
    where: str  # a path, or a URL with its password masked
    schema_version: int  # migrations applied
    server_version: str | None = None  # PostgreSQL's


class ProjectCopy(NamedTuple):
    """One project with all its history, as `store copy` moves it from one store to another."""

    project: Project
    events: list[Event]
    attempts: list[Attempt]


def check_org_change(before: Project, diff: dict[str, str]) -> None:
    """A project's org may change only while it has no repo: the repo is where it is."""
    if "org" in diff and before.github_repo:
        raise BadInput(
            f"{before.slug} has its repo {before.github_repo} already; its org can change only while "
            f"it has none (`specctl set-repo {before.slug} --clear` first)"
        )


def os_actor() -> str:
    """The operating system's `user@host`: who acts when GitHub was not asked who it is."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if not user:
        import pwd

        try:
            user = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            user = f"uid{os.getuid()}"
    return f"{user}@{os.uname().nodename}"


class Attempt(NamedTuple):
    name: str
    at: datetime  # the local clock
    run_id: str
    owner: str | None = None  # None: recorded by a specctl that kept no owner
    outcome: str | None = None  # sent, created, name_taken, failed, unknown; None: not kept
    github_at: datetime | None = None  # GitHub's clock (its Date header); None: not known


EDITABLE = ("name", "description", "org")  # what `edit` may change; never the slug (org: while no repo)


def not_found_message(slug: str, where: str, near: str | None) -> str:
    from specctl.errors import shown

    hint = f"did you mean {near}?" if near else "`specctl projects` lists them"
    return f"no project {shown(slug)} in {where}; {hint}"


def one_near_slug(typo: str, prefixed: list[str], same_length_or_so: list[str]) -> str | None:
    """The one slug `typo` is a prefix of, or else the one slug a single edit away; None when
    there is none or more than one (a guess between two would mislead)."""
    from specctl.names import one_edit_apart

    if len(prefixed) == 1:
        return prefixed[0]
    near = [s for s in same_length_or_so if one_edit_apart(typo, s)]
    return near[0] if len(near) == 1 else None


def repo_taken_message(full_name: str, holder: str) -> str:
    return (
        f"{full_name} is already the repo of {holder}: one repo belongs to one project "
        f"(unlink it first: specctl set-repo {holder} --clear)"
    )


class Claim(NamedTuple):
    """Another run's hold on creating a project's repo."""

    holder: str
    seconds_left: float


class Store(Protocol):
    """A store of projects, their event history and repo-creation attempts."""

    where: str  # for messages: a path, or a URL with its password masked
    # Recorded on every event written from now on: `user@host` unless the workflow sets the
    # GitHub login once a command has asked GitHub who the token is.
    actor: str
    now: Clock  # the local clock every stamp is taken from

    def close(self) -> None: ...
    def info(self) -> StoreInfo: ...
    def ping(self) -> None:
        """One round trip to the store (doctor times it)."""
        ...

    # reads
    def get(self, slug: str) -> Project | None: ...
    def require(self, slug: str) -> Project: ...
    def projects(self, *, status: str | None = None, has_repo: bool | None = None) -> Iterator[Project]: ...
    def project_rows(
        self,
        columns: Sequence[str],
        *,
        statuses: Sequence[str] = (),
        has_repo: bool | None = None,
        org: str = "",
        size: int = CHUNK,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """A listing: the projects as `Project.in_org(org)` shows them (timestamps as text), by
        slug, with one of `statuses` (any, when empty), as rows of `columns` (SQL over the
        project's fields: their names, or an expression such as `SqlLine.escaped`), `size`
        rows at a time, streamed from the engine."""
        ...

    def project_lines(
        self,
        line: SqlLine,
        *,
        statuses: Sequence[str] = (),
        has_repo: bool | None = None,
        org: str = "",
        size: int = CHUNK,
    ) -> Iterator[str]:
        """The same listing as text, `line` of each project ending in a newline, the engine
        computing and joining the lines; `size` lines a chunk."""
        ...

    def slug_like(self, typo: str) -> str | None: ...
    def named(self, name: str) -> list[str]: ...
    def events(self, slug: str) -> list[Event]: ...
    def attempts(self, slug: str) -> list[Attempt]: ...
    def orgs(self) -> list[str]:
        """The orgs projects name (not the config's, which projects that name none use)."""
        ...

    # writes, each one transaction
    def add(
        self, *, slug: str, name: str, description: str, status: str, org: str | None = None
    ) -> Project: ...
    def set_status(self, slug: str, *, expected: str, new: str) -> bool: ...
    def edit(self, slug: str, changes: dict[str, str]) -> tuple[Project, Project]:
        """Change what EDITABLE names; `org` only while the project has no repo (BadInput)."""
        ...

    def link_repo_if_unset(
        self, slug: str, full_name: str, *, kind: str, details: dict[str, Any]
    ) -> bool: ...
    def set_manual_repo(self, slug: str, full_name: str | None) -> tuple[Project, Project]: ...
    def record_attempt(
        self,
        slug: str,
        name: str,
        run_id: str,
        *,
        owner: str | None = None,
        github_at: datetime | None = None,
    ) -> str | None: ...
    def set_attempt_outcome(self, slug: str, run_id: str, name: str, outcome: str) -> None: ...
    # The right to create a project's repo (SPEC "The team store"): one holder at a time, until
    # an expiry by the store's own clock (the database server's, for PostgreSQL).
    def claim_create(
        self, slug: str, holder: str, seconds: float, *, replacing: str | None = None
    ) -> Claim | None: ...
    def release_claim(self, slug: str, holder: str) -> None: ...
    def add_event(self, slug: str, kind: str, details: dict[str, Any]) -> None: ...
    def insert_copies(self, copies: list[ProjectCopy]) -> None:
        """Insert whole projects as they are (events keep their time and actor), all in one
        transaction; a slug already here is BadInput and nothing is inserted."""
        ...
