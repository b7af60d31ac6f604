"""provision: bring existing repos to the config's [repo] table."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from specctl.cli.app import app, runtime
from specctl.cli.help import examples
from specctl.cli.params import complete_slug, slugs_given
from specctl.errors import BadInput
from specctl.names import slug_typed
from specctl.output import Output

if TYPE_CHECKING:
    from specctl.provision import ProvisionResult, SlugResult

CHANGE_COLUMNS = ["slug", "setting", "from", "to", "result"]


@app.command(
    rich_help_panel="Repos",
    epilog=examples(
        "specctl provision --all --dry-run",
        "specctl provision acme-portal-3f9a1c07",
        "specctl provision --all --check || echo 'repos drifted from the policy'",
    ),
)
def provision(
    ctx: typer.Context,
    slugs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Slugs whose repos to provision.", autocompletion=complete_slug, show_default=False
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every project with a repo specctl made.")] = False,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read slugs from stdin, one a line.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send GETs only.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="As --dry-run, and exit 7 when a repo differs (drift).")
    ] = False,
) -> None:
    """Bring existing repos to the config's \\[repo] table: settings, topics, team access, a readme.

    Reads each repo, then sends only the writes that differ: a repo that matches costs no write.
    Only repos specctl created or adopted; a manual repo is never touched. Prints one line per
    change: slug, setting, from, to, result (applied, planned, failed, not_applied).
    Ctrl-C finishes the slug in hand, prints what was done and exits 130.
    """
    from specctl.cli.interrupts import finish_the_slug_in_hand
    from specctl.provision import Provisioner, auto_repo_slugs, provision_all

    rt = runtime(ctx)
    repo = rt.settings.repo_config()
    if repo is None:
        raise BadInput(
            f"no [repo] table in config {rt.settings.config.path}: add one saying what every repo "
            'must look like, e.g. [repo] with teams = { developers = "push" }'
        )
    out = rt.output
    wanted = slugs_given(out, slugs, stdin)
    store = rt.store(create=False)
    if all_ and wanted:
        raise BadInput("give slugs (or --stdin) or --all, not both")
    if all_:
        wanted = auto_repo_slugs(store)
    elif not wanted:
        raise BadInput("no slugs: give them as arguments, with --stdin, or use --all")
    wanted = list(dict.fromkeys(slug_typed(s) for s in wanted))  # provision_all drops duplicates too
    rt.check_github_config()
    provisioner = Provisioner(store, rt.github, repo, dry_run=dry_run or check, log=out.log)
    with out.progress(len(wanted), "Provisioning") as bar, finish_the_slug_in_hand() as interrupt:

        def report(result: "SlugResult") -> None:
            explain_provision(out, result.slug, result.provision, "provision")
            if not out.json_mode and not out.tty:
                out.records(change_rows(result), CHANGE_COLUMNS)
            bar.advance()

        results, exit_code = provision_all(provisioner, wanted, check=check, on_result=report, stop=interrupt)
    if interrupt():
        exit_code = interrupt.exit_code
    if out.json_mode:
        doc: dict[str, object] = {"results": [r.to_dict() for r in results], "exit_code": exit_code}
        if dry_run or check:
            doc["dry_run"] = True
        if interrupt():
            doc["interrupted"] = {"done": len(results), "of": len(wanted)}
        out.document(doc)
    elif out.tty:
        rows = [row for r in results for row in change_rows(r)]
        out.records(rows, CHANGE_COLUMNS, title="Plan" if dry_run or check else "Changes")
    if interrupt():
        out.warn(f"interrupted: {len(results)} of {len(wanted)} done; run the same command again to finish")
    if exit_code:
        raise typer.Exit(exit_code)


def change_rows(result: "SlugResult") -> list[dict[str, Any]]:
    """One row per change; `from` and `to` as JSON text."""
    import json

    rows = []
    for c in result.provision.changes:
        before, after = json.dumps(c.before), json.dumps(c.after)
        rows.append(
            {"slug": result.slug, "setting": c.setting, "from": before, "to": after, "result": c.result}
        )
    return rows


def explain_provision(out: Output, slug: str, result: "ProvisionResult", command: str) -> None:
    """One line on stderr for a person: what provisioning did to this slug's repo, and the fix."""
    if result.status == "none":
        if result.error is not None:
            out.warn(result.error.message)
        elif command == "provision":
            out.info(f"{slug}: nothing to provision (no repo, or one set by hand)")
        return
    for change in result.changes:
        if change.result == "not_applied":
            out.warn(
                f"{slug}: GitHub accepted {change.setting} = {change.after} but kept {change.before} "
                "(a plan limit?); it will not be asked again"
            )
    n = len(result.changes)
    if result.status == "partial" and result.error is not None:
        steps = ", ".join(result.failed_steps)
        out.warn(
            f"{slug}: repo provisioning is partial ({steps} failed): {result.error.code}: "
            f"{result.error.message}; run `specctl {command} {slug}` again to finish"
        )
    elif result.status == "planned":
        out.info(f"{slug}: {n} change{'s' * (n != 1)} to make")
    elif n:
        out.success(f"{slug}: repo provisioned ({n} change{'s' * (n != 1)})")
    else:
        out.info(f"{slug}: repo matches the [repo] table")
