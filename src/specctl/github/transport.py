"""The one request path every GitHub call goes through: headers, the token, rate limits,
pacing, retries of reads, same-origin pagination and the mapping of answers to GitHubError.

Knows no endpoint but what it is handed, no store and no CLI. Rate limits are waited out when
the wait is short; mutations are paced; reads retry transient failures; a mutation with no
answer raises `Transient` so that its caller can resolve the unknown outcome (GITHUB.md).
Whatever a server does, a request ends: each has a deadline and a size cap, and any answer
that can't be used (redirect loop, untrusted certificate, garbled body) is a GitHubError.
"""

from __future__ import annotations

import math
import ssl
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
DEADLINE = 60.0  # seconds for a whole request; `timeout` bounds each read only
MAX_BODY = 32 * 2**20  # bytes: a page of 100 repos is ~0.6 MB
UNKNOWN_WAIT = 60.0  # a limit without a usable time to wait: GitHub asks for at least a minute
LONGEST_WAIT = 86400.0  # a reset or Retry-After further away than this is nonsense


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

    # False: httpx would read every answer whole before handing it back, past the transport's
    # size cap and deadline (an endless body grew without bound). httpx still reads a 401 in
    # full before the one retry with a fresh token, which frees its connection.
    requires_response_body = False

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
    except OSError as e:  # httpx reads them for https: a missing file, or not PEM (ssl.SSLError)
        raise ConfigError(
            f"the CA certificates in SSL_CERT_FILE or SSL_CERT_DIR cannot be used ({e.strerror or e}); "
            "point it at a PEM file, or unset it"
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
        on_wait: Callable[[float, str], None] | None = None,
        deadline: float = DEADLINE,
        max_body: int = MAX_BODY,
    ):
        """`on_wait(seconds, reason)` hears of each rate-limit wait before it starts."""
        self.client = client
        self.deadline = deadline
        self.max_body = max_body
        self.on_wait = on_wait
        self.pace = pace
        self.max_wait = max_wait
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self._last_mutation: float | None = None
        self.server_offset: float | None = None  # GitHub's clock minus ours, from its Date header

    def close(self) -> None:
        self.client.close()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, waiting out rate limits when the wait is within max_wait."""
        mutating = method != "GET"
        for attempt in range(1, RATE_LIMIT_TRIES + 1):
            if mutating:
                self._wait_for_pace()
            try:
                response = self._request(method, url, follow_redirects=not mutating, **kwargs)
            except httpx.TooManyRedirects:
                loop = f"GitHub redirected {url} more than 20 times (a loop?)"
                raise GitHubError(GITHUB_UNAVAILABLE, loop) from None
            except httpx.RequestError as e:
                raise _no_answer(e, self.client.base_url.host) from None
            finally:
                if mutating:
                    self._last_mutation = self.clock()
            self._note_date(response)
            wait = self._rate_limit_wait(response)
            if wait is None:
                return response
            if wait > self.max_wait or attempt == RATE_LIMIT_TRIES:
                raise self._rate_limited(response, wait, tries_used=wait <= self.max_wait)
            if self.on_wait is not None:
                self.on_wait(wait, f"GitHub's {_limit_kind(response)} rate limit")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _request(self, method: str, url: str, *, follow_redirects: bool, **kwargs: Any) -> httpx.Response:
        """One request, its answer read whole within `deadline` seconds and `max_body` bytes,
        else Transient: a read timeout alone lets a trickle or an endless body go on for ever."""
        ends = time.monotonic() + self.deadline
        request = self.client.build_request(method, url, **kwargs)
        response = self.client.send(request, stream=True, follow_redirects=follow_redirects)
        try:
            body = self._read(response, ends)
        finally:
            response.close()
        # The body as read, already decoded: no Content-Encoding left to decode it again.
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=response.request,
            extensions=response.extensions,
        )

    def _read(self, response: httpx.Response, ends: float) -> bytes:
        too_large = Transient(f"an answer of more than {self.max_body:,} bytes")
        length = response.headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > self.max_body:
            raise too_large
        body = bytearray()
        for chunk in response.iter_bytes():  # decoded: the cap holds for a gzip bomb too
            body += chunk
            if len(body) > self.max_body:
                raise too_large
            if time.monotonic() > ends:
                raise Transient(f"no complete answer within {self.deadline:g} s")
        return bytes(body)

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

    def _note_date(self, response: httpx.Response) -> None:
        """Keep how far GitHub's clock is from ours. Its Date has whole seconds and left GitHub
        before we read it, so this errs early: a moment we time by it is never later than GitHub's."""
        from email.utils import parsedate_to_datetime  # loaded by httpx already

        try:
            date = parsedate_to_datetime(response.headers["date"])
            if date.tzinfo is None:
                date = date.replace(tzinfo=UTC)
            self.server_offset = date.timestamp() - self.clock()
        except (KeyError, TypeError, ValueError, IndexError, OverflowError):
            pass  # no Date, or not a date: keep what we knew

    def server_now(self) -> float | None:
        """Now by GitHub's clock (epoch seconds), once an answer had a Date; else None."""
        return None if self.server_offset is None else self.clock() + self.server_offset

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when the response is a rate limit, else None (GITHUB.md "Rate limits").
        Headers of any form give a wait from 0 to LONGEST_WAIT: one that can't be read (`soon`,
        NaN, inf, negative, 1e20) counts as absent."""
        if response.status_code not in (403, 429):
            return None
        headers, now = response.headers, self.clock()
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _finite(headers.get("x-ratelimit-reset", ""))
            if reset is not None and reset - now <= LONGEST_WAIT:
                return max(0.0, reset - now) + 1
            return UNKNOWN_WAIT
        if "retry-after" in headers:
            wait = _retry_after(headers["retry-after"], now)
            return UNKNOWN_WAIT if wait is None or wait > LONGEST_WAIT else wait
        if response.status_code == 429 or "secondary rate limit" in message(response).lower():
            return UNKNOWN_WAIT
        return None

    def _rate_limited(self, response: httpx.Response, wait: float, tries_used: bool) -> GitHubError:
        until = datetime.fromtimestamp(self.clock() + wait, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        kind = _limit_kind(response)
        if tries_used:
            text = (
                f"GitHub's {kind} rate limit is still on after {RATE_LIMIT_TRIES} tries; retry after {until}"
            )
        else:
            text = (
                f"GitHub's {kind} rate limit is reached; it resets at {until} (in {wait:.0f} s, "
                f"more than max_wait {self.max_wait:g} s)"
            )
        return GitHubError(GITHUB_RATE_LIMITED, text, http_status=response.status_code)


def _limit_kind(response: httpx.Response) -> str:
    return "primary" if response.headers.get("x-ratelimit-remaining") == "0" else "secondary"


def _finite(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _retry_after(value: str, now: float) -> float | None:
    """Retry-After's seconds from now: delta-seconds, or an HTTP date (RFC 9110 allows both)."""
    seconds = _finite(value)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    import email.utils  # here, not at the top: only a rate limit needs it

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, said to be of unknown origin
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


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


def _no_answer(error: httpx.RequestError, host: str) -> Exception:
    """A request that got no usable answer: Transient (retried, or resolved by a lookup), but
    a certificate GitHub's host can't prove is a GitHubError at once: retrying can't fix it."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        reason = getattr(cause, "verify_message", None) or "verify failed"
        return GitHubError(
            GITHUB_UNAVAILABLE,
            f"the TLS certificate of {host} is not trusted ({reason}); for GitHub Enterprise Server "
            "with a private CA, set SSL_CERT_FILE to that CA's certificate file (PEM)",
        )
    if isinstance(error, httpx.TimeoutException):
        return Transient("timed out")
    if isinstance(error, httpx.ConnectError):
        return Transient(f"cannot connect to {host}")
    return Transient("connection dropped")
