"""How results reach people and scripts, decided once per run.

stdout carries results only; messages, warnings, progress and log lines go to stderr.
A terminal gets Rich tables and colour; a pipe gets tab-separated lines with no header;
`--json` gets one JSON document. Rich is imported only when a terminal will see it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any, NamedTuple, Protocol

from specctl.errors import SpecctlError, redact


class Progress(Protocol):
    def advance(self, steps: int = 1) -> None: ...

    def update(self, completed: int, total: int | None) -> None: ...


class _NoProgress:
    def advance(self, steps: int = 1) -> None:
        pass

    def update(self, completed: int, total: int | None) -> None:
        pass


# On a narrow terminal, the free-text columns (a project's name, an event's details) wrap to
# make room; the others keep their width. The columns a person tells rows apart by are never cut
# with "…": at worst (a slug wider than the terminal) they fold onto a second line.
FREE_TEXT_COLUMNS = {"name", "details", "detail", "value", "description"}
KEY_COLUMNS = {"slug", "full_name", "github_repo"}
FREE_TEXT_MIN = 8


class PipeClosed(Exception):
    """stdout's reader went away. Not an OSError, so that it passes through Click's own
    EPIPE handling (exit 1) up to specctl's boundary."""


class OutputFailed(SpecctlError):
    """stdout cannot be written (a full disk, an I/O error): the results are lost; say so."""

    def __init__(self, error: OSError, stopped: str = ""):
        super().__init__(f"cannot write the output: {error.strerror or error}{stopped}")


EXIT_PIPE_CLOSED = 141  # as a process killed by SIGPIPE (`… | head`), which is what Unix tools do


def pipe_closed() -> int:
    """stdout's reader went away: stop quietly. Point stdout at /dev/null so that the final
    flush at exit does not fail a second time."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PIPE_CLOSED


def tsv_field(value: Any) -> str:
    """One field of a tab-separated line: None is empty; tabs, newlines and backslashes escaped."""
    if value is None:
        return ""
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


# The escaping of tsv_field in SQL, for listings that the store's engine writes as text: per row,
# Python costs ~1 µs a field to escape and join; SQL (SQLite and PostgreSQL alike: replace,
# coalesce, ||) a fraction of it. Literal control characters sit inside the quotes; no escapes.
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # the backslash first


class SqlLine(NamedTuple):
    """One tab-separated line as SQL over `fields` (column names), for the store to compute.

    `escaped` is the line exactly as `records()` writes it (`tsv_field` on each, joined by tabs).
    `plain` joins the fields as they are (SQLite's printf, NULL as empty), which costs a third
    of `escaped`, and is the same text when no field holds a backslash, tab, newline or CR:
    `exact` tells that from the joined lines, so a store may compute `plain` and fall back to
    `escaped` for the lines where it is not exact."""

    fields: tuple[str, ...]
    escaped: str
    plain: str

    def exact(self, text: str, lines: int) -> bool:
        """Whether `lines` plain lines joined by newlines are the escaped ones: no backslash or CR
        anywhere, and no tab or newline but the separators."""
        return (
            "\\" not in text
            and "\r" not in text
            and text.count("\t") == (len(self.fields) - 1) * lines
            and text.count("\n") == lines - 1
        )


def sql_line(fields: Sequence[str]) -> SqlLine:
    def escaped(field: str) -> str:
        sql = f"coalesce({field}, '')"
        for char, escape in _ESCAPES:
            sql = f"replace({sql}, '{char}', '{escape}')"
        return sql

    plain = "printf('" + "\t".join("%s" for _ in fields) + "', " + ", ".join(fields) + ")"
    return SqlLine(tuple(fields), " || '\t' || ".join(escaped(f) for f in fields), plain)


class Output:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        verbose: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ):
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.tty = self.stdout.isatty() and not json_mode
        self.err_tty = self.stderr.isatty()
        self._consoles: dict[IO[str], Any] = {}

    # -- results on stdout ------------------------------------------------------------------

    def records(
        self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str], title: str = "", *, csv: bool = False
    ) -> int:
        """Print records: a JSON list, CSV when asked, a Rich table on a terminal, else TSV
        lines. Streams."""
        try:
            return self._records(rows, columns, title, csv)
        except BrokenPipeError:
            raise PipeClosed() from None

    def _records(
        self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str], title: str, csv: bool
    ) -> int:
        count = 0
        if csv:
            import csv as csv_module  # only when asked for

            writer = csv_module.writer(self.stdout, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                count += 1
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
        elif self.json_mode:
            import json  # only when asked for: most runs print TSV or a table

            self.stdout.write("[")
            for count, row in enumerate(rows, 1):
                self.stdout.write(("\n  " if count == 1 else ",\n  ") + json.dumps(dict(row)))
            self.stdout.write("\n]\n" if count else "]\n")
        elif self.tty:
            cells = [["" if row.get(c) is None else str(row.get(c)) for c in columns] for row in rows]
            count = len(cells)
            self._console(self.stdout).print(self._table(columns, cells, title))
        else:
            write = self.stdout.write
            for row in rows:
                count += 1
                write("\t".join(tsv_field(row.get(c)) for c in columns) + "\n")
        return count

    def text(self, chunks: Iterable[str]) -> None:
        """Write text as it comes, a chunk at a time (lines a store has joined already)."""
        write = self.stdout.write
        try:
            for chunk in chunks:
                write(chunk)
        except BrokenPipeError:
            raise PipeClosed() from None

    def json_rows(self, chunks: Iterable[Sequence[Sequence[Any]]], columns: Sequence[str]) -> None:
        """Rows as `records()` writes them in JSON (`json.dumps` of each as a dict), from chunks
        of tuples in `columns` order: each row fills a template of its keys, each value encoded
        by json's C functions, one write a chunk (100,000 rows: ~80 ms, against ~250 ms)."""
        import json
        from json.encoder import encode_basestring_ascii as quoted  # what json.dumps uses

        def value(v: Any) -> str:
            return "null" if v is None else quoted(v) if type(v) is str else json.dumps(v)

        keys = (json.dumps(c).replace("%", "%%") for c in columns)
        template = "{" + ", ".join(f"{key}: %s" for key in keys) + "}"
        write = self.stdout.write
        try:
            write("[")
            separator = "\n  "
            for chunk in chunks:
                if chunk:
                    write(separator + ",\n  ".join([template % tuple(map(value, row)) for row in chunk]))
                    separator = ",\n  "
            write("\n]\n" if separator != "\n  " else "]\n")
        except BrokenPipeError:
            raise PipeClosed() from None

    def document(self, doc: Any) -> None:
        import json

        self.line(json.dumps(doc, indent=2))

    def console(self) -> Any:
        """The Rich console on stdout, for a command's own terminal layout."""
        return self._console(self.stdout)

    def flush(self) -> None:
        """Push what is buffered to stdout now, so that a full disk shows at this record."""
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise PipeClosed() from None

    def line(self, text: str) -> None:
        try:
            self.stdout.write(text + "\n")
        except BrokenPipeError:
            raise PipeClosed() from None

    # -- messages on stderr -----------------------------------------------------------------

    def info(self, message: str) -> None:
        if not self.quiet:
            self._say(message, "")

    def success(self, message: str) -> None:
        if not self.quiet:
            self._say(message, "[green]✓[/] " if self.err_tty else "")

    def warn(self, message: str) -> None:
        self._say(message, "[yellow]![/] warning: " if self.err_tty else "warning: ")

    def error(self, error: SpecctlError) -> None:
        if self.json_mode and not isinstance(error, OutputFailed):
            self.document({"error": error.to_dict()})
        self._say(error.message, "[red]✗[/] error: " if self.err_tty else "error: ")

    def log(self, record: Mapping[str, Any]) -> None:
        """A structured log line (one JSON object) on stderr."""
        import json

        self._plain_line(json.dumps(dict(record), sort_keys=True))

    def debug(self, message: str) -> None:
        if self.verbose:
            self._plain_line(f"debug: {message}")

    def _plain_line(self, text: str) -> None:
        """A line as it is, never markup: on a terminal through the console, so that it lands
        above a live progress bar instead of inside it. Secrets masked, as a last defence."""
        text = redact(text)
        if self.err_tty:
            self._console(self.stderr).print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stderr.write(text + "\n")

    def _say(self, message: str, prefix: str) -> None:
        message = redact(message)  # error messages are masked when made; any other text is here
        if self.err_tty:
            from rich.markup import escape

            # Wrapped by Rich at word boundaries, not by the terminal in the middle of a word.
            self._console(self.stderr).print(prefix + escape(message))
        else:
            self.stderr.write(f"specctl: {prefix}{message}\n")

    @contextmanager
    def progress(self, total: int | None, description: str) -> Iterator[Progress]:
        """A progress bar on a terminal's stderr; nothing when piped, quiet or tiny."""
        if not self.err_tty or self.quiet or (total is not None and total < 2):
            yield _NoProgress()
            return
        from rich.progress import MofNCompleteColumn
        from rich.progress import Progress as RichProgress

        columns = (*RichProgress.get_default_columns(), MofNCompleteColumn())
        with RichProgress(*columns, console=self._console(self.stderr), transient=True) as bar:
            task = bar.add_task(description, total=total)

            class _Bar:
                def advance(self, steps: int = 1) -> None:
                    bar.advance(task, steps)

                def update(self, completed: int, total: int | None) -> None:
                    bar.update(task, completed=completed, total=total)

            yield _Bar()

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        """A spinner on a terminal's stderr while one slow call runs; nothing when piped."""
        if not self.err_tty or self.quiet:
            yield
            return
        from rich.markup import escape  # the description may name a user's value

        with self._console(self.stderr).status(escape(description)):
            yield

    # -- Rich, on terminals only ------------------------------------------------------------

    def _console(self, file: IO[str]) -> Any:
        """One Console per stream, so messages printed while a progress bar is live go through
        the bar's console and appear above it instead of tearing it."""
        if file not in self._consoles:
            from rich.console import Console

            self._consoles[file] = Console(file=file, highlight=False)
        return self._consoles[file]

    def _table(self, columns: Sequence[str], cells: list[list[str]], title: str) -> Any:
        """A table whose free-text columns give way on a narrow terminal. The key columns
        (slug, owner/name) stay on one line when they fit beside FREE_TEXT_MIN characters of each
        free-text column, else they fold; either way they are never cut. Cells are text, never markup."""
        from rich.cells import cell_len
        from rich.table import Table
        from rich.text import Text

        widths = [max([cell_len(c), *(cell_len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
        free = sum(1 for c in columns if c in FREE_TEXT_COLUMNS)
        fixed = sum(w + 2 for c, w in zip(columns, widths, strict=True) if c not in FREE_TEXT_COLUMNS)
        keys_fit = fixed + FREE_TEXT_MIN * free <= self._console(self.stdout).width
        table = Table(
            title=Text(title) if title else None,
            title_justify="left",
            box=None,
            header_style="bold",
            pad_edge=False,
        )
        for column in columns:
            if column in FREE_TEXT_COLUMNS:
                table.add_column(column, overflow="fold")
            elif column in KEY_COLUMNS:
                table.add_column(column, no_wrap=keys_fit, overflow="fold")
            else:
                table.add_column(column, no_wrap=True)
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))
        return table
