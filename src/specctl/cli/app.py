"""The Typer app, the global options and the one boundary where errors become exit codes."""

from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from specctl import __version__
from specctl.errors import EXIT_FAILED, EXIT_USAGE, BadInput, SpecctlError
from specctl.output import OutputFailed, PipeClosed, pipe_closed
from specctl.runtime import Options, Runtime

app = typer.Typer(
    name="specctl",
    help="Approve client specs and give each project exactly one private GitHub repo.",
    epilog="Run 'specctl COMMAND --help' for a command's options and examples.\n\n"
    "Exit codes: 0 ok, 1 failed, 2 bad input, 3 no such project, 4 auth, 5 transition not allowed, "
    "6 approved without repo (--require-repo), 7 drift (provision --check), 130/143 interrupted.",
    add_completion=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Click's exception base, found through Typer's public API (Typer vendors Click from 0.26 on).
_ClickException: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class State:
    """What the root callback parsed, and the Runtime built from it on first use."""

    def __init__(self, make_runtime: Callable[[Options], Runtime]):
        self.options = Options()
        self._make_runtime = make_runtime
        self._runtime: Runtime | None = None

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = self._make_runtime(self.options)
        return self._runtime


def runtime(ctx: typer.Context) -> Runtime:
    state: State = ctx.find_root().obj
    return state.runtime


def _version(value: bool) -> None:
    if value:
        typer.echo(f"specctl {__version__}")
        raise typer.Exit()


def help_without_command(ctx: typer.Context) -> None:
    """`specctl` or `specctl config` alone: the help, exit 0, as gh does (not a usage error)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help(), nl=False)
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH|URL",
            help="Store: an SQLite file, or a postgresql:// URL \\[env: SPECCTL_DB].",
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env", metavar="NAME", help="Use the config's \\[env.NAME] table \\[env: SPECCTL_ENV]."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results, warnings and errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug lines and tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Global options may stand before or after the command: `specctl projects --json`."""
    ctx.obj.options = Options(db=db or None, env=env, json=json_output, quiet=quiet, verbose=verbose)
    help_without_command(ctx)


_GLOBAL_FLAGS = {"--json", "--quiet", "-q", "--verbose", "-v"}
_GLOBAL_VALUED = {"--db", "--env"}


def hoist_global_options(argv: Sequence[str]) -> list[str]:
    """Move global options given after the command to the front, where Click expects them,
    so `specctl projects --json` works as gh users type it. Stops at `--`."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in _GLOBAL_FLAGS:
            front.append(arg)
        elif arg in _GLOBAL_VALUED and i + 1 < len(argv):
            front += [arg, argv[i + 1]]
            i += 1
        elif "=" in arg and arg.partition("=")[0] in _GLOBAL_VALUED:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def run(argv: Sequence[str], make_runtime: Callable[[Options], Runtime] = Runtime) -> int:
    """Run one command line and return its exit code; every error ends here as one line."""
    from specctl.cli import commands  # noqa: F401  (registers the commands)

    state = State(make_runtime)
    try:
        return _run(state, argv)
    finally:
        state.close()


def _run(state: State, argv: Sequence[str]) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=hoist_global_options(argv), prog_name="specctl", standalone_mode=False, obj=state
        )
    except SpecctlError as e:
        state.runtime.output.error(e)
        if state.options.verbose and e.exit_code == EXIT_FAILED:  # not for the user's own mistakes
            _print_traceback()
        return e.exit_code
    except _ClickException as e:
        return _usage_error(state, e)
    except (KeyboardInterrupt, typer.Abort):
        return 130
    except (PipeClosed, BrokenPipeError):
        return pipe_closed()
    except OSError as e:  # the world, not a bug: a full disk under stdout, a file we cannot touch
        state.runtime.output.error(
            OutputFailed(e) if e.filename is None else SpecctlError(f"{e.filename}: {e.strerror or e}")
        )
        return EXIT_FAILED
    except Exception as e:  # a bug: say so in one line; the traceback (no locals) with -v
        state.runtime.output.error(
            SpecctlError(f"internal error: {type(e).__name__}: {e} (run with --verbose for details)")
        )
        if state.options.verbose:
            _print_traceback()
        return EXIT_FAILED
    return result if isinstance(result, int) else 0


def _print_traceback() -> None:
    """The traceback of the error being handled, without local variables."""
    import traceback

    traceback.print_exc()


def _usage_error(state: State, e: Exception) -> int:
    message = e.format_message()  # type: ignore[attr-defined]
    ctx = getattr(e, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    error = BadInput(f"{message}{where}")
    state.runtime.output.error(error)
    return int(getattr(e, "exit_code", EXIT_USAGE))
