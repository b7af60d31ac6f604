"""The one request path every GitHub call goes through: headers, the token, rate limits,
pacing, retries of reads, same-origin pagination and the mapping of answers to GitHubError.

Knows no endpoint but what it is handed, no store and no CLI. Rate limits are waited out when
the wait is short; mutations are paced; reads retry transient failures; a mutation with no
answer raises `Transient` so that its caller can resolve the unknown outcome (GITHUB.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any, Protocol

from specctl import __version__
from specctl._httpx import httpx
from specctl.config import Token, is_loopback
from specctl.errors import (
    GITHUB_FORBIDDEN,
    GITHUB_NOT_FOUND,
    GITHUB_RATE_LIMITED,
    GITHUB_REPO_NAME_TAKEN,
    GITHUB_UNAUTHORIZED,
    GITHUB_UNAVAILABLE,
    GITHUB_VALIDATION,
    ConfigError,
    GitHubError,
    redact,
)

OWNER = "specctl.owner"  # request extension: whose installation a request is for, when its URL
# does not say (a Link to /organizations/{id}/repos); the app's auth hook reads it
TRIES = 3  # reads: tries in all; creates: POSTs with an unknown outcome, per project per run
RATE_LIMIT_TRIES = 3


class Transient(Exception):
    """A request with no answer: timeout, refused or dropped connection."""


class Credentials(Protocol):
    """Where each request's token comes from when it is not one fixed token: the GitHub App
    (github/app.py) answers a JWT for its own endpoints, else the installation token of the
    request's owner."""

    def bearer(self, request: httpx.Request) -> str: ...

    def renew(self, request: httpx.Request) -> bool:
        """A 401 answered the request: True when a new token is worth one more try."""
        ...


class BadAnswer(GitHubError):
    """A 2xx answer that is not what the endpoint documents: HTML from a proxy, `{}`, a null or
    mistyped field. `problem` says what is wrong, for callers that know more of the context."""

    def __init__(self, problem: str, what: str = "", status: int | None = None):
        where = f" for {what}" if what else ""
        super().__init__(
            GITHUB_UNAVAILABLE,
            f"GitHub's answer{where} is not what specctl expects: {problem}",
            http_status=status,
        )
        self.problem = problem


class BearerAuth(httpx.Auth):
    """Adds the token only to requests for api_url's origin, and only over https (or loopback
    http, for test doubles). Redirects elsewhere lose it (httpx strips it cross-origin).
    The token is asked for per request: a fixed Token, or the app's for that request."""

    requires_response_body = True  # read before a retry after 401, so its connection is free

    def __init__(self, credential: Token | Credentials, origin: tuple[str, str, int | None]):
        self._credential = credential
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        secure = url.scheme == "https" or is_loopback(url.host)
        if not (secure and (url.scheme, url.host, url.port) == self._origin):
            yield request
            return
        credential = self._credential
        if isinstance(credential, Token):
            request.headers["Authorization"] = f"Bearer {credential.value}"
            yield request
            return
        request.headers["Authorization"] = f"Bearer {credential.bearer(request)}"
        response = yield request
        if response.status_code == 401 and credential.renew(request):
            request.headers["Authorization"] = f"Bearer {credential.bearer(request)}"
            yield request

    def __repr__(self) -> str:
        return f"<BearerAuth {self._credential}>"


def http_client(
    api_url: str,
    credential: Token | Credentials,
    *,
    timeout: float = 10.0,
    trace: Callable[[str], None] | None = None,
) -> httpx.Client:
    """An httpx client for `api_url`; `trace` gets one line per response (method, URL, status)."""
    base = httpx.URL(api_url.rstrip("/") + "/")
    hooks: dict[str, list[Callable[[httpx.Response], None]]] = {}
    if trace is not None:
        say = trace
        hooks["response"] = [lambda r: say(redact(f"{r.request.method} {r.request.url} -> {r.status_code}"))]
    try:
        return httpx.Client(
            event_hooks=hooks,
            # Plain http (loopback test doubles only) needs no TLS: skipping the certificate
            # store saves ~45 ms a process; https always verifies.
            verify=base.scheme == "https",
            # Proxies (HTTPS_PROXY, ALL_PROXY, ...) for https alone: https is tunnelled through
            # them encrypted, plain http would hand the proxy the token in clear text.
            trust_env=base.scheme == "https",
            base_url=base,
            auth=BearerAuth(credential, (base.scheme, base.host, base.port)),
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"specctl/{__version__}",
            },
            timeout=timeout,
        )
    except (ImportError, ValueError):  # a proxy httpx can't use; its words would show the URL
        raise ConfigError(
            "the proxy set in HTTPS_PROXY or ALL_PROXY cannot be used: specctl takes http://, "
            "https:// and (with the socksio package) socks5:// proxies"
        ) from None


class Transport:
    def __init__(
        self,
        client: httpx.Client,
        *,
        pace: float = 1.0,
        max_wait: float = 60.0,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.client = client
        self.pace = pace
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self._last_mutation: float | None = None
        self.last_rate: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, waiting out rate limits when the wait is within max_wait."""
        mutating = method != "GET"
        for attempt in range(1, RATE_LIMIT_TRIES + 1):
            if mutating:
                self._wait_for_pace()
            try:
                response = self.client.request(method, url, follow_redirects=not mutating, **kwargs)
            except httpx.TransportError as e:
                raise Transient(_transport_message(e, self.client.base_url.host)) from None
            finally:
                if mutating:
                    self._last_mutation = self.clock()
            self._note_rate(response)
            wait = self._rate_limit_wait(response)
            if wait is None:
                return response
            if wait > self.max_wait or attempt == RATE_LIMIT_TRIES:
                raise self._rate_limited(response, wait)
            self.sleep(wait)
        raise AssertionError("unreachable")

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """A GET, retried with backoff on 5xx and on no answer at all."""
        problem = ""
        status: int | None = None
        for attempt in range(1, TRIES + 1):
            try:
                response = self.send("GET", url, **kwargs)
            except Transient as e:
                problem, status = str(e), None
            else:
                if response.status_code < 500:
                    return response
                problem, status = describe(response), response.status_code
            if attempt < TRIES:
                self.backoff_sleep(attempt)
        raise GitHubError(
            GITHUB_UNAVAILABLE, f"GitHub is unavailable ({problem}) after {TRIES} tries", http_status=status
        )

    def backoff_sleep(self, attempt: int) -> None:
        self.sleep(self.backoff * 2 ** (attempt - 1))

    def same_origin(self, url: str) -> str:
        """A URL GitHub handed us (a Link), refused unless it points at api_url's origin."""
        target, base = httpx.URL(url), self.client.base_url
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise GitHubError(GITHUB_UNAVAILABLE, f"GitHub pointed a page at another host ({target.host})")
        return url

    def _wait_for_pace(self) -> None:
        if self._last_mutation is not None:
            wait = self.pace - (self.clock() - self._last_mutation)
            if wait > 0:
                self.sleep(wait)

    # -- answers ----------------------------------------------------------------------------

    def _note_rate(self, response: httpx.Response) -> None:
        for header in ("x-ratelimit-remaining", "x-ratelimit-limit", "x-ratelimit-reset"):
            if header in response.headers:
                self.last_rate[header] = response.headers[header]

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when the response is a rate limit, else None (GITHUB.md "Rate limits")."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            return max(0.0, float(headers["x-ratelimit-reset"]) - self.clock()) + 1
        if "retry-after" in headers:
            return max(0.0, float(headers["retry-after"]))
        if response.status_code == 429 or "secondary rate limit" in message(response).lower():
            return 60.0
        return None

    def _rate_limited(self, response: httpx.Response, wait: float) -> GitHubError:
        until = datetime.fromtimestamp(self.clock() + wait, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        kind = "primary" if response.headers.get("x-ratelimit-remaining") == "0" else "secondary"
        return GitHubError(
            GITHUB_RATE_LIMITED,
            f"GitHub's {kind} rate limit is reached; it resets at {until} (in {wait:.0f} s, "
            f"more than max_wait {self.max_wait:g} s)",
            http_status=response.status_code,
        )


def error(response: httpx.Response, what: str) -> GitHubError:
    """GitHub's answer as a GitHubError with a stable code and a message that says the fix."""
    status = response.status_code
    text = message(response)
    if status == 401:
        return GitHubError(
            GITHUB_UNAUTHORIZED,
            f"GitHub rejected the token ({text}); create a new one and set GH_TOKEN",
            http_status=status,
        )
    if status == 403:
        return GitHubError(GITHUB_FORBIDDEN, _forbidden_message(response, what), http_status=status)
    if status == 404:
        return GitHubError(
            GITHUB_NOT_FOUND, f"{what} not found, or the token can't see it", http_status=status
        )
    if status == 422 and name_taken(response):
        return GitHubError(GITHUB_REPO_NAME_TAKEN, f"{what}: {text}", http_status=status)
    if 400 <= status < 500:
        return GitHubError(GITHUB_VALIDATION, f"GitHub refused ({text})", http_status=status)
    return GitHubError(GITHUB_UNAVAILABLE, f"GitHub answered {describe(response)}", http_status=status)


def json_body(response: httpx.Response, what: str) -> Any:
    """The answer's JSON; BadAnswer when it is not JSON (or nested past Python's recursion limit)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        kind = response.headers.get("content-type", "").partition(";")[0] or "no content type"
        raise BadAnswer(f"{kind}, not JSON", what, response.status_code) from None


def json_dict(response: httpx.Response, what: str) -> dict[str, Any]:
    data = json_body(response, what)
    if not isinstance(data, dict):
        raise BadAnswer(f"{json_kind(data)} where an object was expected", what, response.status_code)
    return data


def json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number"}
    return "null" if value is None else kinds.get(type(value), "a number")


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is none (for reading error answers)."""
    try:
        return json_dict(response, "")
    except BadAnswer:
        return {}


def message(response: httpx.Response) -> str:
    """GitHub's message and its errors[] messages, on one line, cut short."""
    data = json_object(response)
    parts = [str(data.get("message") or response.reason_phrase or response.status_code)]
    for item in data.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
        elif isinstance(item, str):
            parts.append(item)
    text = redact(": ".join(parts))  # before the cut: a cut secret would not be found
    return " ".join(text.split())[:300]


def name_taken(response: httpx.Response) -> bool:
    """The create's `{field: "name", message: "name already exists…"}`, or the generate
    endpoint's plain string "Could not clone: Name already exists on this account"."""
    return any(
        (
            isinstance(e, dict)
            and e.get("field") == "name"
            and "already exists" in str(e.get("message", "")).lower()
        )
        or (isinstance(e, str) and "name already exists" in e.lower())
        for e in json_object(response).get("errors") or []
    )


def _forbidden_message(response: httpx.Response, what: str) -> str:
    sso = response.headers.get("x-github-sso", "")
    if "url=" in sso:
        url = sso.split("url=", 1)[1].strip()
        return f"{what} enforces SAML SSO; authorize the token for it at {url}"
    accepted = response.headers.get("x-accepted-github-permissions")
    if accepted:
        return f"the token may not do this on {what}: it needs {_permissions(accepted)} ({message(response)})"
    return f"GitHub refused access to {what} ({message(response)})"


def _permissions(header: str) -> str:
    """`administration=write` as "Administration: write". The header lists alternative sets
    separated by ";", the permissions of one set by "," (GitHub changelog, 2023-08-10)."""

    def one(permission: str) -> str:
        name, _, level = permission.partition("=")
        return f"{name.strip().replace('_', ' ').title()}: {level.strip()}"

    sets = [" and ".join(one(p) for p in group.split(",") if p.strip()) for group in header.split(";")]
    return ", or ".join(s for s in sets if s)


def describe(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    return f"{response.status_code} {response.reason_phrase}".strip()


def _transport_message(error: httpx.TransportError, host: str) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {host}"
    return "connection dropped"
