"""approve: the spec approval, for one slug, many, or a list on stdin."""

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from specctl.cli.app import app, runtime
from specctl.cli.params import complete_slug
from specctl.errors import BadInput
from specctl.output import Output

if TYPE_CHECKING:
    from specctl.approve import ApproveResult

APPROVE_COLUMNS = ["slug", "spec_status", "github_repo", "action"]


@app.command(rich_help_panel="Approval")
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
    (created, adopted, skipped, failed, none).

    Example: specctl projects --status interviewing | cut -f1 | specctl approve --stdin
    """
    from specctl.approve import ApproveOptions, Approver, approve_all, read_slugs  # loads when run

    rt = runtime(ctx)
    wanted = list(slugs or [])
    if stdin:
        wanted += read_slugs(sys.stdin)
    if not wanted:
        raise BadInput("no slugs: give them as arguments or with --stdin")
    if not no_repo:
        rt.check_github_config()
    options = ApproveOptions(dry_run=dry_run, no_repo=no_repo, require_repo=require_repo)
    out = rt.output
    repo = rt.settings.repo_config()
    approver = Approver(rt.store(create=False), rt.github, rt.settings.org, options, log=out.log, repo=repo)
    with out.progress(len(set(wanted)), "Approving") as bar:  # approve_all drops duplicates

        def report(result: "ApproveResult") -> None:
            _explain(out, result, dry_run)
            if not out.json_mode and not out.tty:
                out.records([result.to_dict()], APPROVE_COLUMNS)
            bar.advance()

        results, exit_code = approve_all(approver, wanted, report)
    if out.json_mode:
        doc: dict[str, object] = {"results": [r.to_dict() for r in results], "exit_code": exit_code}
        if dry_run:
            doc["dry_run"] = True
        out.document(doc)
    elif out.tty:
        out.records((r.to_dict() for r in results), APPROVE_COLUMNS, title="Dry run" if dry_run else "")
    if exit_code:
        raise typer.Exit(exit_code)


def _explain(out: Output, result: "ApproveResult", dry_run: bool) -> None:
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
