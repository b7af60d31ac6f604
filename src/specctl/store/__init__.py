"""The store: where projects, their events and repo-creation attempts live.

`open_store` is the one place that picks the engine: a path is SQLite (embedded, the default).
The workflows see only the `Store` protocol of `specctl.store.base`.
"""

from __future__ import annotations

from pathlib import Path

from specctl.store.base import (
    STATUSES,
    Attempt,
    Clock,
    Event,
    Project,
    Store,
    parse_stamp,
    stamp,
    utcnow,
)

__all__ = [
    "STATUSES",
    "Attempt",
    "Clock",
    "Event",
    "Project",
    "Store",
    "open_store",
    "parse_stamp",
    "stamp",
    "utcnow",
]


def open_store(
    setting: Path, *, create: bool = True, busy_timeout: float = 10.0, now: Clock = utcnow
) -> Store:
    """Open (and migrate) the store the `db` setting names."""
    from specctl.store.sqlite import SQLiteStore

    return SQLiteStore.open(setting, create=create, busy_timeout=busy_timeout, now=now)
