"""set-repo and list-repos."""

from typing import Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.help import examples
from specctl.cli.params import Slug, either
from specctl.cli.projects_cmd import PROJECT_COLUMNS, csv_mode, project_row
from specctl.errors import BadInput

REPO_COLUMNS = ["full_name", "visibility", "slug", "repo_source"]


@app.command(
    "set-repo",
    rich_help_panel="Repos",
    epilog=examples(
        "specctl set-repo acme-portal-3f9a1c07 acme-corp/portal",
        "specctl set-repo acme-portal-3f9a1c07 https://github.com/acme-corp/portal/tree/main",
        "specctl set-repo acme-portal-3f9a1c07 --clear",
    ),
)
def set_repo_cmd(
    ctx: typer.Context,
    slug: Slug,
    repo: Annotated[
        str | None,
        typer.Argument(
            help="OWNER/NAME, or any URL GitHub shows for the repo (browser, https or ssh clone).",
            show_default=False,
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

    One repo belongs to one project: a repo another project has is refused (exit 2).
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


@app.command(
    "list-repos",
    rich_help_panel="Repos",
    epilog=examples(
        "specctl list-repos auditmos-projects --unlinked",
        "specctl list-repos -L 50",
        "specctl list-repos --linked --csv > linked-repos.csv",
    ),
)
def list_repos_cmd(
    ctx: typer.Context,
    owner_arg: Annotated[
        str | None,
        typer.Argument(metavar="[OWNER]", help="Only this org's or user's repos.", show_default=False),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="The same as OWNER.", show_default=False)] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-L", min=1, help="Stop after this many repos.")
    ] = None,
    linked: Annotated[bool, typer.Option("--linked", help="Only repos linked to a project.")] = False,
    unlinked: Annotated[bool, typer.Option("--unlinked", help="Only repos no project has.")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row, for spreadsheets.")] = False,
) -> None:
    """List the repos the token can reach, with the project each is linked to.

    Columns: full_name, visibility, slug (empty if none), repo_source. Without OWNER, every
    repo the token reaches (GitHub's /user/repos). Sorted by full_name, with or without OWNER.
    """
    from specctl.names import check_owner
    from specctl.repos import list_repos

    rt = runtime(ctx)
    if owner_arg is not None and owner is not None and owner_arg.lower() != owner.lower():
        raise BadInput(f"give the owner once: {owner_arg} or --owner {owner}")
    owner = owner or owner_arg
    if owner is not None:
        check_owner(owner)
    only_linked = either(linked, "--linked", unlinked, "--unlinked")
    as_csv = csv_mode(rt, csv)
    rt.check_github_config()
    store = rt.store(create=False)
    github = rt.github()
    out = rt.output
    # Piped, TSV and CSV rows are written as each page comes (50,000 repos need not sit in
    # memory); a terminal's table and a JSON document wait for the last page, so that a failure
    # half-way leaves no half table or half document behind.
    streamed = not out.stdout.isatty() and not out.json_mode
    with out.progress(None, "Listing repos (pages)") as bar:
        listing = list_repos(
            store,
            github,
            owner=owner,
            limit=limit,
            linked=only_linked,
            on_page=bar.update,
            org=rt.settings.org,
        )
        rows = listing.rows if streamed else iter(list(listing.rows))
        if streamed:
            out.records(rows, REPO_COLUMNS, csv=as_csv)
    if not streamed:
        out.records(rows, REPO_COLUMNS, title="Repos", csv=as_csv)
    for slug, repo in listing.unseen:
        out.warn(
            f"{slug}: its repo {repo} is not in the listing (deleted, renamed, or not visible to this token)"
        )
