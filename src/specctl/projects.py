"""Adding projects and moving their spec status by hand (no CLI, no GitHub)."""

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


def reopen(store: Store, slug: str) -> tuple[Project, bool]:
    """Send a spec back from review to interviewing. Returns the project and whether it moved."""
    check_slug(slug)
    while True:
        project = store.require(slug)
        if project.spec_status == "interviewing":
            return project, False
        if project.spec_status != "review":
            raise TransitionNotAllowed(
                f"{slug} is {project.spec_status}: only a spec in review can be reopened"
            )
        if store.set_status(slug, expected="review", new="interviewing"):
            return store.require(slug), True
        # Another process changed the status between our read and write: decide again.
