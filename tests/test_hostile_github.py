"""A hostile or broken GitHub (or proxy): whatever it answers, each request ends soon with a
GitHubError for that call, memory stays bounded, and no secret leaves specctl.

pytest-httpx models the answers it can; a tiny raw-socket server on 127.0.0.1 models what it
cannot (an endless or trickling body, a proxy that records what reaches it)."""

import json
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest

from conftest import ORG, TOKEN
from specctl.config import Token
from specctl.errors import ConfigError, GitHubError, register_secret
from specctl.github import GitHub
from test_github import API, CREATE, repo_json

Serve = Callable[[socket.socket, threading.Event], None]


@contextmanager
def loopback(serve: Serve) -> Iterator[str]:
    """A raw HTTP server on 127.0.0.1 (a free port): `serve(conn, stopping)` answers each
    connection in its own thread. Yields the base URL; stops itself, and its connections, after."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stopping = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn, suppress(OSError):  # the client hung up: what a hostile server must expect
            serve(conn, stopping)

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join()
        listener.close()


def read_request(conn: socket.socket) -> bytes:
    """The request's head (a GET's whole request, as specctl sends them)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def answer_json(body: object, received: list[bytes] | None = None) -> Serve:
    def serve(conn: socket.socket, stopping: threading.Event) -> None:
        while request := read_request(conn):
            if received is not None:
                received.append(request)
            content = json.dumps(body).encode()
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
            )
            conn.sendall(head.encode() + content)

    return serve


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


@pytest.mark.parametrize("var", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_a_plain_http_api_url_never_goes_through_a_proxy(monkeypatch, var):
    # through a proxy, plain http would hand the token to the proxy host in clear text
    to_proxy: list[bytes] = []
    with loopback(answer_json({"login": "api"})) as api, loopback(answer_json({}, to_proxy)) as proxy:
        monkeypatch.setenv(var, proxy)
        client = GitHub.connect(api, Token(TOKEN, "GH_TOKEN"))
        try:
            assert client.user()[0] == {"login": "api"}
        finally:
            client.close()
    assert to_proxy == []


def test_a_proxy_httpx_cannot_use_is_bad_config_not_a_crash(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "ftp://user:proxy-pw@proxy.invalid:21")
    with pytest.raises(ConfigError) as e:
        GitHub.connect(API, Token(TOKEN, "GH_TOKEN"))
    assert "ALL_PROXY" in e.value.message
    assert "proxy-pw" not in e.value.message


# -- answers that are not what GitHub documents -------------------------------------------------

NOT_A_REPO = [
    pytest.param({"text": "<html><body>Proxy login</body></html>"}, "JSON", id="html"),
    pytest.param({"json": {}}, "full_name", id="empty-object"),
    pytest.param({"json": []}, "a list", id="list"),
    pytest.param({"json": {**repo_json("acme"), "full_name": None}}, "full_name", id="full_name-null"),
    pytest.param({"json": {**repo_json("acme"), "full_name": 7}}, "full_name", id="full_name-number"),
    pytest.param({"json": {**repo_json("acme"), "created_at": "yesterday"}}, "created_at", id="created_at"),
    pytest.param({"text": "[" * 100_000 + "]" * 100_000}, "JSON", id="nested-too-deep"),
]


@pytest.mark.parametrize(("body", "problem"), NOT_A_REPO)
def test_a_200_that_is_not_a_repo_is_a_github_error(gh, httpx_mock, body, problem):
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", **body)
    with pytest.raises(GitHubError) as e:
        gh.get_repo(ORG, "acme")
    assert e.value.code == "GITHUB_UNAVAILABLE"
    assert "not what specctl expects" in e.value.message
    assert problem in e.value.message


@pytest.mark.parametrize(("body", "problem"), NOT_A_REPO)
def test_a_201_that_is_not_a_repo_says_the_repo_was_made(gh, httpx_mock, body, problem):
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, **body)
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "acme")
    assert e.value.code == "GITHUB_UNAVAILABLE"
    assert f"{ORG}/acme was most likely created" in e.value.message
    assert "approve again" in e.value.message
    assert problem in e.value.message


@pytest.mark.parametrize(
    "body",
    [{"json": {}}, {"json": [repo_json("a"), None]}, {"text": "<html/>"}, {"json": [{"full_name": []}]}],
)
def test_a_page_of_repos_that_is_not_one_is_a_github_error(gh, httpx_mock, body):
    httpx_mock.add_response(url=f"{API}/user/repos?per_page=100", **body)
    with pytest.raises(GitHubError, match="not what specctl expects"):
        gh.list_repos()


@pytest.mark.parametrize("call", ["user", "org", "membership_role", "rate_limit"])
@pytest.mark.parametrize("body", [{"text": "<html/>"}, {"json": []}, {"json": "a string"}])
def test_doctors_reads_of_a_garbled_answer_are_github_errors(gh, httpx_mock, call, body):
    httpx_mock.add_response(**body)
    with pytest.raises(GitHubError, match="not what specctl expects"):
        getattr(gh, call)(*([ORG] if call in ("org", "membership_role") else []))


def test_doctors_reads_of_an_object_missing_its_fields_are_empty(gh, httpx_mock):
    httpx_mock.add_response(url=f"{API}/user/memberships/orgs/{ORG}", json={"role": ["admin"]})
    httpx_mock.add_response(url=f"{API}/rate_limit", json={"resources": []})
    assert gh.membership_role(ORG) is None
    assert gh.rate_limit() == {}


def test_a_batch_goes_on_after_a_201_that_is_not_json(cli, httpx_mock, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", API)
    for slug in ("acme", "beta"):
        assert cli("add", slug.title(), "--slug", slug).exit_code == 0
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, text="<html>Created!</html>")
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("beta"))
    result = cli("--json", "approve", "acme", "beta")
    assert result.exit_code == 0, result.stderr
    acme, beta = json.loads(result.stdout)["results"]
    assert "internal error" not in result.stderr
    assert f"{ORG}/acme was most likely created" in acme["error"]["message"]
    assert beta["github_repo"] == f"{ORG}/beta"
