"""approve: the spec approval, for one slug, many, or a list on stdin."""

from typing import TYPE_CHECKING, Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.help import examples
from specctl.cli.params import complete_slug, slugs_given
from specctl.errors import BadInput
from specctl.names import slug_typed
from specctl.output import Output, OutputFailed

if TYPE_CHECKING:
    from specctl.approve import ApproveResult

APPROVE_COLUMNS = ["slug", "spec_status", "github_repo", "action"]


@app.command(
    rich_help_panel="Approval",
    epilog=examples(
        "specctl approve acme-portal-3f9a1c07",
        "specctl projects --status interviewing | cut -f1 | specctl approve --stdin",
        "specctl approve acme-portal-3f9a1c07 beta-shop-00ff00ff --dry-run",
    ),
)
def approve(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None,
        typer.Argument(help="Slugs to approve.", autocompletion=complete_slug, show_default=False),
    ] = None,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read slugs from stdin, one a line.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Change nothing; say what would happen.")
    ] = False,
    no_repo: Annotated[bool, typer.Option("--no-repo", help="Approve without touching GitHub.")] = False,
    require_repo: Annotated[
        bool, typer.Option("--require-repo", help="Exit 6 when a project ends without a repo.")
    ] = False,
) -> None:
    """Approve specs (interviewing → review) and ensure each project has its private repo.

    The approval is recorded first and stands even when GitHub fails; re-run approve to
    retry a failed repo creation. Prints slug, spec_status, github_repo, action
    (created, adopted, skipped, failed, none). Ctrl-C finishes the slug in hand, prints what
    was done and exits 130; running the same command again finishes the batch.
    """
    from specctl.approve import ApproveOptions, Approver, approve_all  # loads when run
    from specctl.cli.interrupts import finish_the_slug_in_hand

    rt = runtime(ctx)
    out = rt.output
    wanted = slugs_given(out, slugs, stdin)
    if not wanted:
        raise BadInput("no slugs: give them as arguments or with --stdin")
    wanted = list(dict.fromkeys(slug_typed(s) for s in wanted))  # approve_all drops duplicates too
    if not no_repo:
        rt.check_github_config()
    options = ApproveOptions(dry_run=dry_run, no_repo=no_repo, require_repo=require_repo)
    repo = rt.settings.repo_config()
    approver = Approver(
        rt.store(create=False), rt.github, rt.settings.org, options,
        log=out.log, repo=repo, sleep=rt.sleep, say=out.info,
    )  # fmt: skip
    with out.progress(len(wanted), "Approving") as bar, finish_the_slug_in_hand() as interrupt:
        reported: list[ApproveResult] = []

        def report(result: "ApproveResult") -> None:
            reported.append(result)
            _explain(out, result, dry_run, rt.settings.org)
            if not out.json_mode and not out.tty:
                _print_now(out, result, done=len(reported), of=len(wanted))
            bar.advance()

        results, exit_code = approve_all(approver, wanted, report, stop=interrupt)
    if interrupt():
        exit_code = interrupt.exit_code
    if out.json_mode:
        doc: dict[str, object] = {"results": [r.to_dict() for r in results], "exit_code": exit_code}
        if dry_run:
            doc["dry_run"] = True
        if interrupt():
            doc["interrupted"] = {"done": len(results), "of": len(wanted)}
        out.document(doc)
    elif out.tty:
        out.records((r.to_dict() for r in results), APPROVE_COLUMNS, title="Dry run" if dry_run else "")
    if interrupt():
        out.warn(f"interrupted: {len(results)} of {len(wanted)} done; run the same command again to finish")
    if exit_code:
        raise typer.Exit(exit_code)


def _print_now(out: Output, result: "ApproveResult", done: int, of: int) -> None:
    """A piped result line, flushed at once: a full disk then stops the batch at this slug,
    whether or not stdout is buffered, and says how far it got."""
    try:
        out.records([result.to_dict()], APPROVE_COLUMNS)
        out.flush()
    except OSError as e:  # not a closed pipe: that is PipeClosed, which ends quietly
        stopped = f"; stopped after {done} of {of} slugs (run the same command again to finish)"
        raise OutputFailed(e, stopped) from None


def _explain(out: Output, result: "ApproveResult", dry_run: bool, org: str) -> None:
    """One line on stderr for a person: what happened to this slug and, on failure, the fix."""
    would = "would be " if dry_run else ""
    repo = result.repo
    error = result.error
    if error is not None and result.action == "none":
        out.warn(error.message)  # it names the slug, quoted and escaped where it is not a slug
        return
    approved = f"{result.slug} {would}approved" if result.approved_now else f"{result.slug} in review"
    if error is not None:
        out.warn(f"{approved}, but no repo: {error.code}: {error.message}")
    elif result.action in ("created", "adopted") and repo is None:  # a dry run on a taken name
        out.success(
            f"{approved}; repo {org}/{result.slug}-xxxx {would}{result.action} (xxxx: 4 random a-z0-9)"
        )
    elif result.action in ("created", "adopted"):
        out.success(f"{approved}; repo {repo} {would}{result.action}")
    elif result.action == "skipped":
        out.success(f"{approved}; repo already set: {repo}")
    else:
        out.success(f"{approved}; no repo work (--no-repo)")
    for note in result.notes:
        out.info(f"{result.slug}: {note}")
    if result.provision is not None:
        from specctl.cli.provision_cmd import explain_provision

        explain_provision(out, result.slug, result.provision, "approve")
