"""Adding and editing projects and moving their spec status by hand (no CLI, no GitHub)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specctl.errors import BadInput, TransitionNotAllowed, shown
from specctl.names import (
    DESCRIPTION_MAX,
    NAME_MAX,
    check_owner,
    check_slug,
    check_text,
    make_slug,
    random_hex8,
)
from specctl.store import STATUSES, Project, Store


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise BadInput(f"unknown status {shown(value)}: use one of {', '.join(STATUSES)}")
    return value


def prepare_project(
    name: str,
    *,
    slug: str | None = None,
    description: str = "",
    status: str = "interviewing",
    org: str | None = None,
    random_hex: Callable[[], str] = random_hex8,
) -> dict[str, Any]:
    """Check a new project's fields and make its slug; before the store is even opened, so
    bad input never creates or touches a store."""
    check_text(name, "name", max_len=NAME_MAX, required=True)
    check_text(description, "description", max_len=DESCRIPTION_MAX, required=False)
    check_status(status)
    slug = check_slug(slug) if slug is not None else make_slug(name, random_hex)
    if org is not None:
        check_owner(org, "--org")
    return {"slug": slug, "name": name, "description": description, "status": status, "org": org}


def add_project(store: Store, fields: dict[str, str], *, allow_same_name: bool = False) -> Project:
    """Add a prepared project, unless one has that name already: re-running a script that adds
    clients must not double them."""
    same = [] if allow_same_name else store.named(fields["name"])
    if same:
        raise BadInput(
            f"a project named {shown(fields['name'])} exists already: {same[0]} "
            "(give --allow-same-name to add another)"
        )
    return store.add(**fields)


def edit_project(
    store: Store,
    slug: str,
    *,
    name: str | None = None,
    description: str | None = None,
    org: str | None = None,
) -> tuple[Project, Project]:
    """Change the name, description or, while it has no repo, org (never the slug: it is the
    repo's name). Returns the project before and after; they are equal when nothing changed."""
    check_slug(slug)
    changes = {}
    if org is not None:
        changes["org"] = check_owner(org, "--org")
    if name is not None:
        changes["name"] = check_text(name, "name", max_len=NAME_MAX, required=True)
    if description is not None:
        changes["description"] = check_text(
            description, "description", max_len=DESCRIPTION_MAX, required=False
        )
    if not changes:
        raise BadInput("nothing to change: give --name, --description or --org")
    return store.edit(slug, changes)


# The moves made by hand (approve makes interviewing → review): target -> (source, verb).
MOVES = {
    "interviewing": ("review", "reopened"),
    "active": ("review", "activated"),
    "complete": ("active", "completed"),
}
# For a spec not yet far enough along: the command that takes it one step on.
NEXT_STEP = {"interviewing": "approve", "review": "activate"}


def move(store: Store, slug: str, target: str) -> tuple[Project, bool]:
    """Move a spec to `target` from the one status it may come from (SPEC "Spec status").
    Returns the project and whether it moved; already there is no change and no event."""
    check_slug(slug)
    source, verb = MOVES[target]
    while True:
        project = store.require(slug)
        status = project.spec_status
        if status == target:
            return project, False
        if status != source:
            behind = STATUSES.index(status) < STATUSES.index(source)
            hint = f" (first: specctl {NEXT_STEP[status]} {slug})" if behind else ""
            raise TransitionNotAllowed(f"{slug} is {status}: only a spec in {source} can be {verb}{hint}")
        if store.set_status(slug, expected=source, new=target):
            return store.require(slug), True
        # Another process changed the status between our read and write: decide again.


def reopen(store: Store, slug: str) -> tuple[Project, bool]:
    """Send a spec back from review to interviewing. Returns the project and whether it moved."""
    return move(store, slug, "interviewing")
