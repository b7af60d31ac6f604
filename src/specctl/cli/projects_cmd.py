"""add, projects, show, edit, reopen, activate, complete: the commands that only use the store."""

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.help import examples
from specctl.cli.params import Slug, either
from specctl.errors import BadInput
from specctl.projects import add_project, edit_project, move, prepare_project
from specctl.runtime import Runtime
from specctl.store import Project

# `org` last: scripts that cut the first five columns keep working.
PROJECT_COLUMNS = ["slug", "spec_status", "github_repo", "repo_source", "name", "org"]
CSV_EXTRA_COLUMNS = ["description", "created_at", "updated_at"]  # a spreadsheet wants them all


class Status(StrEnum):
    """The statuses as a type, so that Click offers them in completion and refuses others
    (exit 2). test_cli checks that they are the store's STATUSES."""

    interviewing = "interviewing"
    review = "review"
    active = "active"
    complete = "complete"


_STATUS_HELP = f"One of: {', '.join(Status)}."


def project_row(project: Project) -> dict[str, object]:
    return {c: getattr(project, c) for c in PROJECT_COLUMNS}


@app.command(
    rich_help_panel="Projects",
    epilog=examples(
        'specctl add "Acme Portal" --description "Client portal"',
        'specctl add "Société Générale"   # slug societe-generale-3f9a1c07',
        'specctl add "Acme Portal" --slug acme-portal --status review',
        'specctl add "Acme Portal" --org acme-inc   # its repo goes to the client\'s own org',
    ),
)
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The project's name.", show_default=False)],
    slug: Annotated[
        str | None, typer.Option(help="Slug to use instead of one made from the name.", show_default=False)
    ] = None,
    description: Annotated[str, typer.Option(help="Short description (used for the repo).")] = "",
    status: Annotated[Status, typer.Option(metavar="STATUS", help=_STATUS_HELP)] = Status.interviewing,
    allow_same_name: Annotated[
        bool, typer.Option("--allow-same-name", help="Add it even if a project has this name.")
    ] = False,
    org: Annotated[
        str | None,
        typer.Option(
            help="The org its repo goes to (a client's own); default: config org.", show_default=False
        ),
    ] = None,
) -> None:
    """Create a project and print its slug.

    The slug is made from the name (accents folded, lower-cased, then 8 random hex characters)
    and never changes: it becomes the name of the project's GitHub repo. A name another project
    has already is refused (exit 2), so re-running a script does not double its projects.
    """
    rt = runtime(ctx)
    fields = prepare_project(name, slug=slug, description=description, status=status.value, org=org)
    project = add_project(rt.store(), fields, allow_same_name=allow_same_name).in_org(rt.settings.org)
    if rt.options.json:
        rt.output.document(project.to_dict())
    else:
        rt.output.line(project.slug)
        rt.output.success(f"Added {project.name!r} as {project.slug} ({project.spec_status})")


@app.command(
    "projects",
    rich_help_panel="Projects",
    epilog=examples(
        "specctl projects --status review --without-repo | cut -f1",
        "specctl projects --status review --status active",
        "specctl projects --csv > projects.csv",
    ),
)
def list_projects(
    ctx: typer.Context,
    status: Annotated[
        list[Status] | None,
        typer.Option(metavar="STATUS", help=f"{_STATUS_HELP} Give it again for more.", show_default=False),
    ] = None,
    with_repo: Annotated[bool, typer.Option("--with-repo", help="Only projects with a repo.")] = False,
    without_repo: Annotated[bool, typer.Option("--without-repo", help="Only projects without one.")] = False,
    csv: Annotated[
        bool, typer.Option("--csv", help="CSV with a header row and every field, for spreadsheets.")
    ] = False,
) -> None:
    """List projects: slug, spec_status, github_repo, repo_source, name, org.

    --csv adds description, created_at and updated_at after those columns.
    """
    rt = runtime(ctx)
    has_repo = either(with_repo, "--with-repo", without_repo, "--without-repo")
    wanted = {s.value for s in status or []}
    store = rt.store(create=False)
    only = next(iter(wanted)) if len(wanted) == 1 else None  # one status: let SQLite filter
    projects = store.projects(status=only, has_repo=has_repo)
    columns = PROJECT_COLUMNS + CSV_EXTRA_COLUMNS if csv_mode(rt, csv) else PROJECT_COLUMNS
    listed: Iterator[Project] = (p for p in projects if not wanted or p.spec_status in wanted)
    if rt.output.tty and not csv:
        # On a terminal the org column shows only when a project names its own: else it repeats
        # the config's org on every row, and at 70 columns it would squeeze the slugs.
        listed = iter(shown := list(listed))
        if not any(p.org for p in shown):
            columns = [c for c in columns if c != "org"]
    org = rt.settings.org
    rows = ({c: getattr(p, c) for c in columns} for p in (p.in_org(org) for p in listed))
    count = rt.output.records(rows, columns, title="Projects", csv=csv)
    if count == 0 and rt.output.tty and not csv:
        filtered = wanted or has_repo is not None
        rt.output.info(
            "No project matches." if filtered else 'No projects yet: add one with specctl add "NAME".'
        )


def csv_mode(rt: Runtime, csv: bool) -> bool:
    if csv and rt.options.json:
        raise BadInput("give --csv or --json, not both")
    return csv


@app.command(
    rich_help_panel="Projects",
    epilog=examples("specctl show acme-portal-3f9a1c07", "specctl show acme-portal-3f9a1c07 --json"),
)
def show(ctx: typer.Context, slug: Slug) -> None:
    """Show one project with its event history."""
    rt = runtime(ctx)
    store = rt.store(create=False)
    project = store.require(slug).in_org(rt.settings.org)
    events = store.events(slug)
    out = rt.output
    if out.json_mode:
        out.document(
            {
                "project": project.to_dict(),
                "events": [
                    {"at": e.at, "kind": e.kind, "details": e.details, "actor": e.actor} for e in events
                ],
            }
        )
        return
    import json

    out.records(
        ({"field": k, "value": v} for k, v in project.to_dict().items()), ["field", "value"], project.name
    )
    event_rows = (
        {
            "record": "event",
            "at": e.at,
            "kind": e.kind,
            "details": json.dumps(e.details, sort_keys=True),
            "actor": e.actor,
        }
        for e in events
    )
    # Piped, the actor comes last: scripts that cut the first four columns keep working.
    columns = ["at", "actor", "kind", "details"] if out.tty else ["record", "at", "kind", "details", "actor"]
    out.records(event_rows, columns, title="Events")


@app.command(
    "edit",
    rich_help_panel="Projects",
    epilog=examples(
        'specctl edit acme-portal-3f9a1c07 --name "Acme Client Portal"',
        'specctl edit acme-portal-3f9a1c07 --description "Portal and mobile app"',
        "specctl edit acme-portal-3f9a1c07 --org acme-inc   # only while it has no repo",
    ),
)
def edit_cmd(
    ctx: typer.Context,
    slug: Slug,
    name: Annotated[str | None, typer.Option(help="The new name.", show_default=False)] = None,
    description: Annotated[str | None, typer.Option(help="The new description.", show_default=False)] = None,
    org: Annotated[
        str | None, typer.Option(help="The org its repo goes to (while it has none).", show_default=False)
    ] = None,
) -> None:
    """Change a project's name, description or, while it has no repo, org (never its slug: it
    is the repo's name).

    The repo on GitHub is not renamed or changed.
    """
    rt = runtime(ctx)
    store = rt.store(create=False)
    before, after = edit_project(store, slug, name=name, description=description, org=org)
    _print_project(rt, after)
    changed = [k for k in ("name", "description", "org") if getattr(before, k) != getattr(after, k)]
    rt.output.success(f"{slug}: {' and '.join(changed)} changed" if changed else f"{slug}: nothing to change")


def _moved(ctx: typer.Context, slug: str, target: str, done: str) -> None:
    rt = runtime(ctx)
    project, moved = move(rt.store(create=False), slug, target)
    _print_project(rt, project)
    rt.output.success(f"{slug} {done}" if moved else f"{slug} is already {target}")


def _print_project(rt: Runtime, project: Project) -> None:
    project = project.in_org(rt.settings.org)
    if rt.options.json:
        rt.output.document(project.to_dict())
    else:
        rt.output.records([project_row(project)], PROJECT_COLUMNS)


@app.command(
    "reopen",
    rich_help_panel="Projects",
    epilog=examples("specctl reopen acme-portal-3f9a1c07", "specctl reopen acme-portal-3f9a1c07 --json"),
)
def reopen_cmd(ctx: typer.Context, slug: Slug) -> None:
    """Send a spec back from review to interviewing (its repo stays)."""
    _moved(ctx, slug, "interviewing", "reopened")


@app.command(
    "activate",
    rich_help_panel="Projects",
    epilog=examples(
        "specctl activate acme-portal-3f9a1c07",
        "specctl projects --status review | cut -f1 | xargs -n1 specctl activate",
    ),
)
def activate_cmd(ctx: typer.Context, slug: Slug) -> None:
    """Start the work on an approved spec: review → active.

    Exit 5 from any other status; exit 0 and no change when it is active already.
    """
    _moved(ctx, slug, "active", "activated")


@app.command(
    "complete",
    rich_help_panel="Projects",
    epilog=examples("specctl complete acme-portal-3f9a1c07", "specctl show acme-portal-3f9a1c07"),
)
def complete_cmd(ctx: typer.Context, slug: Slug) -> None:
    """Mark the work done: active → complete.

    Exit 5 from any other status; exit 0 and no change when it is complete already.
    """
    _moved(ctx, slug, "complete", "completed")
