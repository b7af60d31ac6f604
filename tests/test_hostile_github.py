"""A hostile or broken GitHub (or proxy): whatever it answers, each request ends soon with a
GitHubError for that call, memory stays bounded, and no secret leaves specctl.

pytest-httpx models the answers it can; a tiny raw-socket server on 127.0.0.1 models what it
cannot (an endless or trickling body, a proxy that records what reaches it)."""

import sqlite3

import pytest

from conftest import ORG, TOKEN
from specctl.config import Token
from specctl.errors import GitHubError, register_secret
from specctl.github import GitHub
from test_github import API, CREATE


def no_sleep(seconds):
    pass


@pytest.fixture
def gh():
    client = GitHub.connect(API, Token(TOKEN, "GH_TOKEN"), pace=0, sleep=no_sleep)
    yield client
    client.close()


# -- secrets ----------------------------------------------------------------------------------


def test_a_registered_secret_is_in_no_error_message():
    register_secret("db-password-4711")
    error = GitHubError("GITHUB_VALIDATION", "GitHub refused (password db-password-4711 is wrong)")
    assert "db-password-4711" not in error.message
    assert "db-password-4711" not in str(error)
    assert "password **** is wrong" in error.message


def test_a_token_github_echoes_is_redacted_even_where_the_message_is_cut(gh, httpx_mock):
    # cut at 300 characters first, a prefix of the token would survive the redaction
    echo = "x" * 270 + f" token {TOKEN} is not allowed here"
    httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json={"message": echo})
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert TOKEN[:12] not in e.value.message


def test_a_token_github_echoes_reaches_no_stderr_log_line_or_event(cli, db_path, httpx_mock, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", API)
    assert cli("add", "Acme", "--slug", "acme").exit_code == 0
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, json={"message": f"Bearer {TOKEN} may not create repos"}
    )
    result = cli("--json", "approve", "acme")
    assert result.exit_code == 0
    assert "may not create repos" in result.stderr  # GitHub's message is there, without the token
    with sqlite3.connect(db_path) as db:
        events = " ".join(str(row) for row in db.execute("SELECT * FROM events"))
    assert "may not create repos" in events
    for text in (result.stdout, result.stderr, events):
        assert TOKEN not in text
