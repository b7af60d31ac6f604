"""The command line: parse, call the workflow, print. `main` is the console script.

`specctl --version` is answered before Typer is imported: start-up is part of the product.
The command modules do not use `from __future__ import annotations`: Typer reads every
parameter's annotation at each start, and string annotations cost ~5 ms a run to compile and
evaluate (measured with cProfile; `typer.main.get_command` went from 7.0 to 1.7 ms).
"""

import gc
import os
import sys
from collections.abc import Sequence


def main() -> None:
    """The console script: run the command line, then end the process at once."""
    # Importing Typer and httpx runs the cycle collector ~60 times at its default threshold (700)
    # to free ~600 objects: ~5 ms a run. Collections still happen, so a long batch stays bounded.
    gc.set_threshold(50_000)
    code = 0
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()  # a short output is written here, so a closed pipe or full disk shows up here
        sys.stderr.flush()
    except BrokenPipeError:
        from specctl.output import pipe_closed

        code = pipe_closed()
    except OSError as e:
        if code == 0:  # a failed command has said why already (maybe this very write, still buffered)
            code = _output_failed(e)
    # Everything is written and flushed, and run() has closed the store and the HTTP client:
    # skip the interpreter's teardown, which frees Typer's and httpx's modules one object at a
    # time (~15 ms of every run, measured on exit). No atexit handlers: specctl registers none.
    os._exit(code)


def _output_failed(error: OSError) -> int:
    from specctl.output import OutputFailed

    failure = OutputFailed(error)
    sys.stderr.write(f"specctl: error: {failure.message}\n")
    return failure.exit_code


def run(argv: Sequence[str]) -> int:
    """Run one command line and return its exit code."""
    if list(argv) == ["--version"]:
        from specctl import __version__

        sys.stdout.write(f"specctl {__version__}\n")
        return 0
    from specctl.cli.app import run as run_app

    return run_app(argv)
