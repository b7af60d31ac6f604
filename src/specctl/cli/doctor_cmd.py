"""doctor."""

import typer

from specctl.cli.app import app, runtime
from specctl.cli.help import examples

_MARKS = {"ok": "[green]✓[/]", "fail": "[red]✗[/]", "warn": "[yellow]![/]", "skip": "-"}


@app.command(
    rich_help_panel="Setup",
    epilog=examples("specctl doctor", "specctl --env staging doctor", "specctl doctor --json"),
)
def doctor(ctx: typer.Context) -> None:
    """Check the store, config, token and GitHub access, and say what to fix.

    Exits 0 when every check passes, else with the code of the first failure.
    """
    from specctl.doctor import Doctor  # the workflow loads when the command runs

    rt = runtime(ctx)
    out = rt.output
    with out.spinner("Checking"):
        checks, exit_code = Doctor(rt).run()
    if out.json_mode:
        out.document({"checks": [c.to_dict() for c in checks], "exit_code": exit_code})
    elif out.tty:
        from rich.markup import escape

        console = out.console()
        for c in checks:
            console.print(f"{_MARKS[c.status]} [bold]{c.name}[/]: {escape(c.detail)}")
    else:
        out.records((c.to_dict() for c in checks), ["name", "status", "detail"])
    if exit_code:
        raise typer.Exit(exit_code)
