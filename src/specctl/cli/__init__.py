"""The command line: parse, call the workflow, print. `main` is the console script.

`specctl --version` is answered before Typer is imported: start-up is part of the product.
The command modules do not use `from __future__ import annotations`: Typer reads every
parameter's annotation at each start, and string annotations cost ~5 ms a run to compile and
evaluate (measured with cProfile; `typer.main.get_command` went from 7.0 to 1.7 ms).
"""

import sys
from collections.abc import Sequence


def main() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:
        from specctl import __version__

        sys.stdout.write(f"specctl {__version__}\n")
        sys.exit(0)
    from specctl.cli.app import run

    code = run(argv)
    try:
        sys.stdout.flush()  # a short output is written here, so a closed pipe shows up here
    except BrokenPipeError:
        from specctl.output import pipe_closed

        code = pipe_closed()
    sys.exit(code)


def run(argv: Sequence[str]) -> int:
    from specctl.cli.app import run as run_app

    return run_app(argv)
