"""The shared parts of every command's --help: examples and the global options it accepts."""

GLOBAL_OPTIONS = (
    "Global options (before or after the command): --db PATH|URL, --env NAME, --json, -q/--quiet, "
    "-v/--verbose. See 'specctl --help' for every command and the exit codes."
)


def examples(*lines: str) -> str:
    """A command's epilog, as gh gives one: its examples, then the global options it inherits."""
    return "\n".join(["Examples:", *(f"  $ {line}" for line in lines)]) + "\n\n" + GLOBAL_OPTIONS
