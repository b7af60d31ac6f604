"""A hostile or broken GitHub (or proxy): whatever it answers, each request ends soon with a
GitHubError for that call, memory stays bounded, and no secret leaves specctl.

pytest-httpx models the answers it can; a tiny raw-socket server on 127.0.0.1 models what it
cannot (an endless or trickling body, a proxy that records what reaches it)."""

import email.utils
import itertools
import json
import re
import socket
import sqlite3
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress

import httpx
import pytest

from conftest import ORG, TOKEN
from specctl.config import Token
from specctl.errors import ConfigError, GitHubError, register_secret
from specctl.github import GitHub
from test_github import API, CREATE, FakeTime, repo_json

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
    httpx_mock.add_response(url=f"{API}/rate_limit", json={})  # approve learns GitHub's clock first
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
    httpx_mock.add_response(url=f"{API}/user/repos?per_page=100&sort=full_name", **body)
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
    httpx_mock.add_response(url=f"{API}/rate_limit", json={})  # approve learns GitHub's clock first
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, text="<html>Created!</html>")
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("beta"))
    result = cli("--json", "approve", "acme", "beta")
    assert result.exit_code == 0, result.stderr
    acme, beta = json.loads(result.stdout)["results"]
    assert "internal error" not in result.stderr
    assert f"{ORG}/acme was most likely created" in acme["error"]["message"]
    assert beta["github_repo"] == f"{ORG}/beta"


# -- requests that cannot succeed -----------------------------------------------------------


def test_a_redirect_loop_is_a_github_error_and_not_retried(gh, httpx_mock):
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", status_code=301, headers={"Location": f"{API}/repos/{ORG}/acme"},
        is_reusable=True,
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        gh.get_repo(ORG, "acme")
    assert (e.value.code, e.value.message) == (
        "GITHUB_UNAVAILABLE",
        f"GitHub redirected repos/{ORG}/acme more than 20 times (a loop?)",
    )


def certificate_error():
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate in certificate chain"
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("call", ["get", "create"])
def test_an_untrusted_certificate_says_so_and_is_not_retried(gh, httpx_mock, call):
    httpx_mock.add_exception(certificate_error())
    with pytest.raises(GitHubError) as e:
        gh.get_repo(ORG, "acme") if call == "get" else gh.create_org_repo(ORG, "acme")
    assert "TLS certificate of api.github.com is not trusted (self-signed certificate" in e.value.message
    assert "SSL_CERT_FILE" in e.value.message
    assert len(httpx_mock.get_requests()) == 1


def test_an_unreadable_ssl_cert_file_is_bad_config(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(ConfigError, match="SSL_CERT_FILE"):
        GitHub.connect(API, Token(TOKEN, "GH_TOKEN"))


# -- rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def time_():
    return FakeTime()


@pytest.fixture
def timed_gh(time_):
    waits = []
    client = GitHub.connect(
        API, Token(TOKEN, "GH_TOKEN"), pace=0, max_wait=60, sleep=time_.sleep, clock=time_.clock,
        on_wait=lambda seconds, reason: waits.append((seconds, reason)),
    )  # fmt: skip
    client.waits = waits
    yield client
    client.close()


def http_date(timestamp):
    return email.utils.formatdate(timestamp, usegmt=True)


NOW = FakeTime().now
LIMITED = {"x-ratelimit-remaining": "0"}


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": http_date(NOW + 30)}, 30),  # RFC 9110: an HTTP date is as valid as seconds
        ({"retry-after": "7"}, 7),
        ({**LIMITED, "x-ratelimit-reset": str(int(NOW) + 20)}, 21),
        ({**LIMITED, "x-ratelimit-reset": "-1"}, 1),  # in the past: the limit is over
        # unusable values: GitHub's advice without them, wait a minute
        ({**LIMITED, "x-ratelimit-reset": "soon"}, 60),
        ({**LIMITED, "x-ratelimit-reset": ""}, 60),
        ({**LIMITED, "x-ratelimit-reset": "1e20"}, 60),
        ({**LIMITED, "x-ratelimit-reset": "nan"}, 60),
        ({"retry-after": "inf"}, 60),
        ({"retry-after": "-5"}, 60),
        ({"retry-after": "NaN"}, 60),
        ({"retry-after": "9" * 400}, 60),
        ({"retry-after": "Someday, 99 Foo 2026"}, 60),
    ],
)
def test_rate_limit_headers_of_any_form_give_a_bounded_wait(timed_gh, httpx_mock, time_, headers, wait):
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, headers=headers,
        json={"message": "You have exceeded a secondary rate limit."},
    )  # fmt: skip
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    assert timed_gh.create_org_repo(ORG, "acme").repo.name == "acme"
    assert time_.slept == [pytest.approx(wait, abs=1)]


def test_a_rate_limit_wait_is_said_with_what_it_waits_for(timed_gh, httpx_mock, time_):
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", status_code=429, headers={"retry-after": "5"},
        json={"message": "You have exceeded a secondary rate limit."},
    )  # fmt: skip
    httpx_mock.add_response(url=f"{API}/repos/{ORG}/acme", json=repo_json("acme"))
    timed_gh.get_repo(ORG, "acme")
    assert timed_gh.waits == [(5.0, "GitHub's secondary rate limit")]


def test_a_limit_that_stays_on_says_the_tries_were_used_up(timed_gh, httpx_mock, time_):
    httpx_mock.add_response(
        url=f"{API}/repos/{ORG}/acme", status_code=403, headers={"retry-after": "4"},
        json={"message": "You have exceeded a secondary rate limit."}, is_reusable=True,
    )  # fmt: skip
    with pytest.raises(GitHubError) as e:
        timed_gh.get_repo(ORG, "acme")
    assert e.value.code == "GITHUB_RATE_LIMITED"
    assert "still on after 3 tries" in e.value.message
    assert "max_wait" not in e.value.message
    assert time_.slept == [4.0, 4.0]


def test_cli_says_on_stderr_what_it_waits_for_and_until_when(cli, httpx_mock, monkeypatch):
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", API)
    assert cli("add", "Acme", "--slug", "acme").exit_code == 0
    httpx_mock.add_response(url=f"{API}/rate_limit", json={})  # approve learns GitHub's clock first
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, headers={"retry-after": "42"},
        json={"message": "You have exceeded a secondary rate limit."},
    )  # fmt: skip
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    result = cli("approve", "acme")
    assert result.exit_code == 0, result.stderr
    assert re.search(
        r"waiting 42 s for GitHub's secondary rate limit, until \d\d:\d\d:\d\d UTC", result.stderr
    )


# -- pagination -----------------------------------------------------------------------------------

FIRST_PAGE = f"{API}/user/repos?per_page=100&sort=full_name"


def link(**rels):
    return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in rels.items())}


def test_a_next_link_to_a_page_already_read_is_an_error_not_a_loop(gh, httpx_mock):
    gh.concurrency = 1
    page2 = f"{API}/user/repos?per_page=100&page=2"
    httpx_mock.add_response(url=FIRST_PAGE, json=[repo_json("a")], headers=link(next=page2))
    httpx_mock.add_response(url=page2, json=[repo_json("b")], headers=link(next=page2))
    with pytest.raises(GitHubError, match="already read"):
        gh.list_repos()


def test_a_last_page_past_any_real_one_is_an_error_before_anything_is_built(gh, httpx_mock):
    last = f"{API}/user/repos?per_page=100&page=100000000"
    httpx_mock.add_response(
        url=FIRST_PAGE, json=[repo_json(f"r{i}") for i in range(100)],
        headers=link(next=f"{API}/user/repos?per_page=100&page=2", last=last),
    )  # fmt: skip
    with pytest.raises(GitHubError, match="100000000 pages"):
        gh.list_repos()


def test_endless_distinct_next_pages_stop_at_the_page_cap(gh, httpx_mock, monkeypatch):
    monkeypatch.setattr("specctl.github.repos.MAX_PAGES", 3)
    gh.concurrency = 1
    pages = [FIRST_PAGE] + [f"{API}/user/repos?per_page=100&page={p}" for p in range(2, 5)]
    for url, next_url in itertools.pairwise(pages):
        httpx_mock.add_response(url=url, json=[repo_json(url[-1])], headers=link(next=next_url))
    with pytest.raises(GitHubError, match="more than 3 pages"):
        gh.list_repos()


# -- answers that never end -------------------------------------------------------------------------

JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def endless_chunked_body(conn: socket.socket, stopping: threading.Event) -> None:
    read_request(conn)
    conn.sendall(JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    while not stopping.is_set():
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def trickling_body(conn: socket.socket, stopping: threading.Event) -> None:
    read_request(conn)
    conn.sendall(JSON_HEAD + b"Content-Length: 100000\r\n\r\n")
    while not stopping.wait(0.02):  # each read gets bytes long before the read timeout
        conn.sendall(b" " * 10)


def huge_body(conn: socket.socket, stopping: threading.Event) -> None:
    read_request(conn)
    conn.sendall(JSON_HEAD + b"Content-Length: 200000000\r\n\r\n")
    while not stopping.is_set():
        conn.sendall(b" " * 65536)


@pytest.mark.parametrize(
    ("serve", "problem"),
    [
        (endless_chunked_body, "more than 1,000,000 bytes"),
        (trickling_body, "no complete answer within 0.2 s"),
        (huge_body, "more than 1,000,000 bytes"),
    ],
)
def test_an_answer_that_does_not_end_is_cut_off(serve, problem):
    with loopback(serve) as api:
        client = GitHub.connect(
            api, Token(TOKEN, "GH_TOKEN"), sleep=no_sleep, deadline=0.2, max_body=1_000_000
        )
        with closing(client), pytest.raises(GitHubError) as e:
            client.get_repo(ORG, "acme")
    assert e.value.code == "GITHUB_UNAVAILABLE"
    assert problem in e.value.message


def test_the_default_size_cap_reads_no_200_mb_body():
    with loopback(huge_body) as api:
        client = GitHub.connect(api, Token(TOKEN, "GH_TOKEN"), sleep=no_sleep)
        with closing(client), pytest.raises(GitHubError, match="more than 33,554,432 bytes"):
            client.get_repo(ORG, "acme")
