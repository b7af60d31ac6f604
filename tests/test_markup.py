"""Nothing from users or GitHub is ever read as Rich markup (issue 13, item 14)."""

import io

import pytest

from specctl.output import Output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    "text", ["Acme [/] Portal", "[link=https://evil.example/]click[/link]", "[bold]x", "[red]"]
)
def test_table_cells_and_titles_print_markup_as_text(text):
    screen = Terminal()
    out = Output(stdout=screen, stderr=io.StringIO())
    out.records([{"slug": "acme", "name": text}], ["slug", "name"], title=text)
    shown = screen.getvalue()
    assert shown.count(text) == 2  # the cell and the title, verbatim
    assert "\x1b]8;" not in shown  # no live hyperlink escape


def test_messages_on_a_terminal_print_markup_as_text():
    err = Terminal()
    out = Output(stdout=io.StringIO(), stderr=err)
    out.warn("GitHub said [/] and [link=https://evil.example/]x[/link]")
    assert "[/] and [link=https://evil.example/]x[/link]" in err.getvalue()
    assert "\x1b]8;" not in err.getvalue()


def test_a_spinner_naming_a_users_value_prints_it_as_text():
    err = Terminal()
    out = Output(stdout=io.StringIO(), stderr=err)
    with out.spinner("Checking [/]evil on GitHub"):
        pass
    assert "Checking [/]evil on GitHub" in err.getvalue()


def test_a_registered_secret_never_reaches_stderr_through_messages_or_log_lines():
    from specctl.errors import register_secret

    register_secret("ghs_canary-output-boundary-0001")
    err = io.StringIO()
    out = Output(stdout=io.StringIO(), stderr=err, verbose=True)
    out.info("GitHub said ghs_canary-output-boundary-0001 is wrong")
    out.log({"github_error": {"message": "token ghs_canary-output-boundary-0001"}})
    out.debug("GET /x with ghs_canary-output-boundary-0001")
    assert "ghs_canary-output-boundary-0001" not in err.getvalue()
    assert err.getvalue().count("****") == 3
