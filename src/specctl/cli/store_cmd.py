"""store copy: move a store (SQLite or PostgreSQL) into another."""

from typing import Annotated

import typer

from specctl.cli.app import app, help_without_command, runtime
from specctl.cli.help import examples

COPY_EXAMPLES = (
    "specctl store copy 'postgresql://admin@db.internal/specctl'",
    "specctl store copy team-backup.db --from 'postgresql://admin@db.internal/specctl'",
    "specctl store copy 'postgresql://admin@db.internal/specctl' --from ~/old-laptop/specctl.db",
)
store_app = typer.Typer(
    help="Work on the store as a whole.",
    epilog=examples(*COPY_EXAMPLES),
    invoke_without_command=True,
    callback=help_without_command,
)
app.add_typer(store_app, name="store", rich_help_panel="Setup")

COPY_COLUMNS = ["slug", "result", "events", "attempts"]


@store_app.command("copy", epilog=examples(*COPY_EXAMPLES))
def copy(
    ctx: typer.Context,
    dest: Annotated[
        str,
        typer.Argument(metavar="DEST", help="An SQLite file or a postgresql:// URL.", show_default=False),
    ],
    source: Annotated[
        str | None,
        typer.Option("--from", metavar="SRC", help="Copy from this store instead of the current one."),
    ] = None,
) -> None:
    """Copy every project, event and attempt into DEST. Safe to re-run: projects DEST already
    has, the same, are left alone; a slug DEST has with other data stops the copy (exit 2) and
    DEST is left unchanged.

    Prints slug, result (copied or present), events, attempts.
    """
    from specctl.store.copy import copy_store  # the workflow loads when the command runs

    rt = runtime(ctx)
    out = rt.output
    from_store = rt.other_store(source, create=False) if source else rt.store(create=False)
    to_store = rt.other_store(dest, create=True)
    where = to_store.where  # a URL's password masked
    with out.spinner(f"Copying into {where}"):
        report = copy_store(from_store, to_store)
    rows = [r._asdict() for r in report]
    copied = [r for r in report if r.result == "copied"]
    present = len(report) - len(copied)
    if out.json_mode:
        out.document({"dest": where, "results": rows, "copied": len(copied), "present": present})
    else:
        out.records(rows, COPY_COLUMNS, title=f"Copied into {where}")
    events, attempts = sum(r.events for r in copied), sum(r.attempts for r in copied)
    out.success(
        f"copied {len(copied)} projects ({events} events, {attempts} attempts) into {where}; "
        f"{present} were there already"
    )
