"""set-repo and list-repos."""

from typing import Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.params import Slug
from specctl.cli.projects_cmd import PROJECT_COLUMNS, project_row
from specctl.errors import BadInput

REPO_COLUMNS = ["full_name", "visibility", "slug", "repo_source"]


@app.command("set-repo", rich_help_panel="Repos")
def set_repo_cmd(
    ctx: typer.Context,
    slug: Slug,
    repo: Annotated[
        str | None,
        typer.Argument(
            help="OWNER/NAME, or a https://github.com/… or git@github.com:… URL.", show_default=False
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Unlink the repo; the next approve creates one.")
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Don't ask GitHub whether the repo exists.")
    ] = False,
) -> None:
    """Link a project to a repo by hand (a client who owns the repo); approve never overwrites it.

    Example: specctl set-repo acme-portal-3f9a1c07 acme-corp/portal
    """
    from specctl.repos import clear_repo, set_repo  # the workflow loads when the command runs

    rt = runtime(ctx)
    if clear == (repo is not None):
        raise BadInput("give either OWNER/NAME or --clear (see 'specctl set-repo --help')")
    if clear:
        change = clear_repo(rt.store(create=False), slug)
    else:
        assert repo is not None
        if not no_verify:
            rt.check_github_config()
        with rt.output.spinner(f"Checking {repo} on GitHub"):
            change = set_repo(rt.store(create=False), None if no_verify else rt.github, slug, repo)
    after = change.after.in_org(rt.settings.org)
    if rt.options.json:
        rt.output.document(after.to_dict())
    else:
        rt.output.records([project_row(after)], PROJECT_COLUMNS)
    if not change.changed:
        rt.output.info(f"{slug}: nothing to change ({after.github_repo or 'no repo'})")
    elif after.github_repo:
        was = f" (was {change.before.github_repo})" if change.before.github_repo else ""
        rt.output.success(f"{slug} → {after.github_repo}{was}")
    else:
        rt.output.success(f"{slug}: repo {change.before.github_repo} unlinked; GitHub keeps it")


@app.command("list-repos", rich_help_panel="Repos")
def list_repos_cmd(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Only this org's or user's repos.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many repos.")] = None,
    linked: Annotated[
        bool | None, typer.Option("--linked/--unlinked", help="Only repos linked (or not) to a project.")
    ] = None,
) -> None:
    """List the repos the token can reach, with the project each is linked to.

    Columns: full_name, visibility, slug (empty if none), repo_source.
    Example: specctl list-repos --owner auditmos-projects --unlinked
    """
    from specctl.names import check_owner
    from specctl.repos import list_repos

    rt = runtime(ctx)
    if owner is not None:
        check_owner(owner)
    rt.check_github_config()
    store = rt.store(create=False)
    github = rt.github()
    out = rt.output
    with out.progress(None, "Listing repos") as bar:
        listing = list_repos(
            store,
            github,
            owner=owner,
            limit=limit,
            linked=linked,
            on_page=lambda done, total: bar.advance(),
            org=rt.settings.org,
        )
    out.records(listing.rows, REPO_COLUMNS, title="Repos")
    for slug, repo in listing.unseen:
        out.warn(
            f"{slug}: its repo {repo} is not in the listing (deleted, renamed, or not visible to this token)"
        )
