"""store copy: move every project, event and attempt from one store into another (a laptop's
SQLite file into the team's PostgreSQL), whatever the two engines.

Safe to re-run: a project DEST already holds with the same data and history is left as it is,
so nothing is copied twice. A slug DEST holds with other data is refused, naming it, and then
nothing is copied: the new projects go in as one transaction, so DEST is unchanged on failure.
"""

from __future__ import annotations

from typing import NamedTuple

from specctl.errors import BadInput
from specctl.store.base import ProjectCopy, Store


class Copied(NamedTuple):
    slug: str
    result: str  # copied | present (DEST had it, the same)
    events: int
    attempts: int


def copy_store(source: Store, dest: Store) -> list[Copied]:
    copies = [ProjectCopy(p, source.events(p.slug), source.attempts(p.slug)) for p in source.projects()]
    report, new, conflicts = [], [], []
    for copy in copies:
        slug = copy.project.slug
        there = dest.get(slug)
        if there is None:
            new.append(copy)
            report.append(Copied(slug, "copied", len(copy.events), len(copy.attempts)))
        elif copy == ProjectCopy(there, dest.events(slug), dest.attempts(slug)):
            report.append(Copied(slug, "present", len(copy.events), len(copy.attempts)))
        else:
            conflicts.append(slug)
    if conflicts:
        listed = ", ".join(conflicts[:5]) + (f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else "")
        raise BadInput(
            f"{dest.where} already has {listed} with other data (a different project or history); "
            "nothing was copied"
        )
    dest.insert_copies(new)
    return report
