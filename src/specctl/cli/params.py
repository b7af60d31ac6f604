"""Parameter types shared by commands."""

import sys
from typing import Annotated

import typer

from specctl.errors import BadInput
from specctl.names import check_slug, slug_typed
from specctl.output import Output


def _slug(value: str) -> str:
    try:
        return check_slug(slug_typed(value))
    except BadInput as e:
        raise typer.BadParameter(e.message) from None


def complete_slug(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of slugs from the store (never creates it)."""
    from specctl.cli.app import runtime

    try:
        store = runtime(ctx).store(create=False)
        return [p.slug for p in store.projects() if p.slug.startswith(incomplete)][:200]
    except Exception:  # completion must never print a traceback into the user's shell
        return []


def either(first: bool, first_flag: str, second: bool, second_flag: str) -> bool | None:
    """Two opposite flags: True for the first, False for the second, None for neither; both
    together is bad usage rather than whichever came last."""
    if first and second:
        raise BadInput(f"give {first_flag} or {second_flag}, not both")
    return True if first else False if second else None


Slug = Annotated[
    str,
    typer.Argument(
        help="The project's slug, e.g. acme-portal-3f9a1c07.",
        callback=_slug,
        autocompletion=complete_slug,
        show_default=False,
    ),
]


def slugs_given(out: Output, slugs: list[str] | None, stdin: bool) -> list[str]:
    """The slugs given as arguments, then, with --stdin, those read one a line (a terminal is
    told what it waits for)."""
    from specctl.approve import read_slugs  # the workflow's reader; loads when a command runs

    wanted = list(slugs or [])
    if stdin:
        if sys.stdin.isatty():
            out.info("reading slugs, one a line; Ctrl-D to end")
        wanted += read_slugs(sys.stdin)
    return wanted
