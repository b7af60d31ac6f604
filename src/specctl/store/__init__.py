"""The store: where projects, their events and repo-creation attempts live.

`open_store` is the one place that picks the engine: a path is SQLite (embedded, the default),
a `postgresql://` URL the team store on PostgreSQL (psycopg, imported only then). The workflows
see only the `Store` protocol of `specctl.store.base`.
"""

from __future__ import annotations

from pathlib import Path

from specctl.config import DatabaseURL
from specctl.errors import ConfigError
from specctl.store.base import (
    STATUSES,
    Attempt,
    Claim,
    Clock,
    Event,
    Project,
    ProjectCopy,
    Store,
    StoreInfo,
    os_actor,
    parse_stamp,
    stamp,
    utcnow,
)

__all__ = [
    "STATUSES",
    "Attempt",
    "Claim",
    "Clock",
    "Event",
    "Project",
    "ProjectCopy",
    "Store",
    "StoreInfo",
    "open_store",
    "os_actor",
    "parse_stamp",
    "stamp",
    "utcnow",
]


INSTALL_POSTGRES = "pip install 'specctl[postgres]'"


def open_store(
    setting: Path | DatabaseURL, *, create: bool = True, busy_timeout: float = 10.0, now: Clock = utcnow
) -> Store:
    """Open (and migrate) the store the `db` setting names. `create=False`: a missing SQLite
    file reads as empty and is not made (a PostgreSQL database always exists)."""
    if isinstance(setting, DatabaseURL):
        try:
            from specctl.store.postgres import PostgresStore
        except ImportError as e:
            raise ConfigError(
                f"db {setting} is a PostgreSQL store, which needs psycopg: {INSTALL_POSTGRES} ({e})"
            ) from None
        return PostgresStore.open(setting, now=now)
    from specctl.store.sqlite import SQLiteStore

    return SQLiteStore.open(setting, create=create, busy_timeout=busy_timeout, now=now)
