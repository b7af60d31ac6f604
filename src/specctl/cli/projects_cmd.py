"""add, projects, show, reopen: the commands that only use the store."""

from typing import Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.params import Slug
from specctl.projects import check_status, prepare_project, reopen
from specctl.store import STATUSES, Project

# `org` last: scripts that cut the first five columns keep working.
PROJECT_COLUMNS = ["slug", "spec_status", "github_repo", "repo_source", "name", "org"]
_STATUS_HELP = f"One of: {', '.join(STATUSES)}."


def project_row(project: Project) -> dict[str, object]:
    return {c: getattr(project, c) for c in PROJECT_COLUMNS}


@app.command(rich_help_panel="Projects")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The project's name.", show_default=False)],
    slug: Annotated[str | None, typer.Option(help="Slug to use instead of one made from the name.")] = None,
    description: Annotated[str, typer.Option(help="Short description (used for the repo).")] = "",
    status: Annotated[str, typer.Option(help=_STATUS_HELP)] = "interviewing",
    org: Annotated[
        str | None, typer.Option(help="The org its repo goes to (a client's own); default: config org.")
    ] = None,
) -> None:
    """Create a project and print its slug.

    Example: specctl add "Acme Portal" --description "Client portal" --org acme-inc
    """
    rt = runtime(ctx)
    fields = prepare_project(name, slug=slug, description=description, status=status, org=org)
    project = rt.store().add(**fields).in_org(rt.settings.org)
    if rt.options.json:
        rt.output.document(project.to_dict())
    else:
        rt.output.line(project.slug)
        rt.output.success(f"Added {project.name!r} as {project.slug} ({project.spec_status})")


@app.command("projects", rich_help_panel="Projects")
def list_projects(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help=_STATUS_HELP)] = None,
    with_repo: Annotated[
        bool | None,
        typer.Option("--with-repo/--without-repo", help="Only projects with (or without) a repo."),
    ] = None,
) -> None:
    """List projects: slug, spec_status, github_repo, repo_source, name, org.

    Example: specctl projects --status review --without-repo | cut -f1
    """
    rt = runtime(ctx)
    if status is not None:
        check_status(status)
    projects = rt.store(create=False).projects(status=status, has_repo=with_repo)
    rows = (project_row(p.in_org(rt.settings.org)) for p in projects)
    rt.output.records(rows, PROJECT_COLUMNS, title="Projects")


@app.command(rich_help_panel="Projects")
def show(ctx: typer.Context, slug: Slug) -> None:
    """Show one project with its event history.

    Example: specctl show acme-portal-3f9a1c07 --json
    """
    rt = runtime(ctx)
    store = rt.store(create=False)
    project = store.require(slug).in_org(rt.settings.org)
    events = store.events(slug)
    out = rt.output
    if out.json_mode:
        out.document(
            {
                "project": project.to_dict(),
                "events": [{"at": e.at, "kind": e.kind, "details": e.details} for e in events],
            }
        )
        return
    import json

    out.records(
        ({"field": k, "value": v} for k, v in project.to_dict().items()), ["field", "value"], project.name
    )
    event_rows = (
        {"record": "event", "at": e.at, "kind": e.kind, "details": json.dumps(e.details, sort_keys=True)}
        for e in events
    )
    columns = ["at", "kind", "details"] if out.tty else ["record", "at", "kind", "details"]
    out.records(event_rows, columns, title="Events")


@app.command("reopen", rich_help_panel="Projects")
def reopen_cmd(ctx: typer.Context, slug: Slug) -> None:
    """Send a spec back from review to interviewing.

    Example: specctl reopen acme-portal-3f9a1c07
    """
    rt = runtime(ctx)
    project, moved = reopen(rt.store(create=False), slug)
    project = project.in_org(rt.settings.org)
    if rt.options.json:
        rt.output.document(project.to_dict())
    else:
        rt.output.records([project_row(project)], PROJECT_COLUMNS)
        rt.output.success(f"{slug} reopened" if moved else f"{slug} is already interviewing")
