"""GitHub's REST API, as specctl needs it: create, get and list repositories, and the checks
doctor makes. Over an injected httpx.Client; knows no store and no CLI.

Every answer GitHub can give is turned into a Repo or a GitHubError with a stable code
(SPEC "GitHub"). Rate limits are waited out when the wait is short; mutations are paced;
reads retry transient failures; a create whose outcome is unknown is resolved by looking the
repo up, never by posting blindly again (GITHUB.md "Unknown outcomes").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

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
    GitHubError,
)

PER_PAGE = 100
TRIES = 3  # reads: tries in all; creates: POSTs with an unknown outcome, per project per run
RATE_LIMIT_TRIES = 3
_SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def random_suffix() -> str:
    import secrets

    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(4))


class Repo(NamedTuple):
    full_name: str
    name: str
    private: bool
    visibility: str
    default_branch: str | None
    html_url: str | None
    created_at: datetime | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Repo:
        created = data.get("created_at")
        private = bool(data.get("private"))
        return cls(
            full_name=data["full_name"],
            name=data["name"],
            private=private,
            visibility=data.get("visibility") or ("private" if private else "public"),
            default_branch=data.get("default_branch"),
            html_url=data.get("html_url"),
            created_at=datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None,
        )


class Created(NamedTuple):
    repo: Repo
    adopted: bool  # True: an earlier POST of ours made it, we found it and took it


class AttemptLog(Protocol):
    """What the caller knows of earlier attempts; lets it decide what is its own repo."""

    def before_post(self, name: str) -> None: ...

    def may_adopt(self, repo: Repo, own_post_may_have_landed: bool) -> bool: ...

    def retry_name(self, base: str) -> str | None: ...


class NoAttemptLog:
    """Without a record of earlier attempts, only a POST of this call can have made the repo."""

    def before_post(self, name: str) -> None:
        pass

    def may_adopt(self, repo: Repo, own_post_may_have_landed: bool) -> bool:
        return own_post_may_have_landed

    def retry_name(self, base: str) -> str | None:
        return None


class _Transient(Exception):
    """A request with no answer: timeout, refused or dropped connection."""


class _BearerAuth(httpx.Auth):
    """Adds the token only to requests for api_url's origin, and only over https (or loopback
    http, for test doubles). Redirects elsewhere lose it (httpx strips it cross-origin)."""

    def __init__(self, token: Token, origin: tuple[str, str, int | None]):
        self._token = token
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        secure = url.scheme == "https" or is_loopback(url.host)
        if secure and (url.scheme, url.host, url.port) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token.value}"
        yield request

    def __repr__(self) -> str:
        return f"<BearerAuth {self._token}>"


class GitHub:
    def __init__(
        self,
        client: httpx.Client,
        *,
        pace: float = 1.0,
        max_wait: float = 60.0,
        concurrency: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        suffix: Callable[[], str] = random_suffix,
    ):
        self.client = client
        self.pace = pace
        self.max_wait = max_wait
        self.concurrency = concurrency
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.suffix = suffix
        self._last_mutation: float | None = None
        self.last_rate: dict[str, str] = {}

    @classmethod
    def connect(
        cls,
        api_url: str,
        token: Token,
        *,
        timeout: float = 10.0,
        trace: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> GitHub:
        """A client for `api_url`; `trace` gets one line per response (method, URL, status)."""
        base = httpx.URL(api_url.rstrip("/") + "/")
        hooks: dict[str, list[Callable[[httpx.Response], None]]] = {}
        if trace is not None:
            say = trace
            hooks["response"] = [lambda r: say(f"{r.request.method} {r.request.url} -> {r.status_code}")]
        client = httpx.Client(
            event_hooks=hooks,
            # Plain http (loopback test doubles only) needs no TLS: skipping the certificate
            # store saves ~45 ms a process; https always verifies.
            verify=base.scheme == "https",
            base_url=base,
            auth=_BearerAuth(token, (base.scheme, base.host, base.port)),
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"specctl/{__version__}",
            },
            timeout=timeout,
        )
        return cls(client, **kwargs)

    def close(self) -> None:
        self.client.close()

    # -- the API ----------------------------------------------------------------------------

    def get_repo(self, owner: str, name: str) -> Repo | None:
        """The repo with GitHub's canonical `full_name`; None when absent or invisible (404)."""
        response = self._get(f"repos/{owner}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._error(response, f"repo {owner}/{name}")
        return Repo.from_api(response.json())

    def create_org_repo(
        self, org: str, name: str, description: str = "", attempts: AttemptLog | None = None
    ) -> Created:
        """Create a private repo `org/name` (SPEC "approve" step 3).

        Name taken → one retry as `name-xxxx`, then GITHUB_REPO_NAME_TAKEN; other 422s are not
        retried. A 5xx, timeout or dropped connection leaves the outcome unknown: the name is
        looked up, and only when absent is it POSTed again, after a backoff, TRIES times at most.
        `attempts` records each POST before it is sent and says which existing repo is ours.
        """
        log = attempts or NoAttemptLog()
        candidate, unknown_outcomes = name, 0
        while True:
            log.before_post(candidate)
            body = {"name": candidate, "description": description, "private": True, "auto_init": False}
            try:
                response: httpx.Response | None = self._send("POST", f"orgs/{org}/repos", json=body)
            except _Transient:
                response = None
            if response is not None and response.status_code == 201:
                return Created(Repo.from_api(response.json()), adopted=False)
            if response is not None and response.status_code < 500:
                error = self._error(response, f"org {org}")
                if error.code != GITHUB_REPO_NAME_TAKEN:
                    raise error
                landed = False
            else:
                unknown_outcomes += 1
                landed = True
            existing = self.get_repo(org, candidate)
            if existing is not None and log.may_adopt(existing, own_post_may_have_landed=landed):
                return Created(existing, adopted=True)
            if landed and existing is None:  # the POST did not land: try the same name again
                if unknown_outcomes >= TRIES:
                    status = response.status_code if response is not None else None
                    raise GitHubError(
                        GITHUB_UNAVAILABLE,
                        f"GitHub did not create {org}/{candidate} after {unknown_outcomes} tries "
                        f"({_describe(response)}); re-run approve later",
                        http_status=status,
                    )
                self.sleep(self.backoff * 2 ** (unknown_outcomes - 1))
                continue
            # The name is taken by a repo that is not ours (or that the token cannot see).
            if candidate != name:  # the suffixed name is taken too
                raise GitHubError(
                    GITHUB_REPO_NAME_TAKEN,
                    f"{org}/{name} and {org}/{candidate} already exist; set a repo with "
                    "`specctl set-repo` or retry approve",
                    http_status=422,
                )
            candidate = log.retry_name(name) or f"{name}-{self.suffix()}"

    def list_repos(
        self,
        owner: str | None = None,
        *,
        limit: int | None = None,
        on_page: Callable[[int, int | None], None] | None = None,
    ) -> list[Repo]:
        """Every repo the token reaches (`/user/repos`), or one owner's (org, else user).

        Follows the Link header as given; once `rel="last"` is known, the remaining pages are
        built from it (only `page` changed) and fetched `concurrency` at a time.
        `on_page(pages_done, pages_total)` reports progress.
        """
        first = f"orgs/{owner}/repos" if owner else "user/repos"
        response = self._get(first, params={"per_page": PER_PAGE})
        if owner and response.status_code == 404:
            response = self._get(f"users/{owner}/repos", params={"per_page": PER_PAGE})
        repos = self._page(response, f"repos of {owner}" if owner else "your repos")
        last = response.links.get("last", {}).get("url")
        total = _page_number(last) if last else None
        if on_page:
            on_page(1, total)
        if last and total and self.concurrency > 1:
            wanted = total if limit is None else min(total, -(-limit // PER_PAGE))
            urls = [str(httpx.URL(last).copy_set_param("page", str(p))) for p in range(2, wanted + 1)]
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                for done, page in enumerate(pool.map(self._get_page, urls), 2):
                    repos.extend(page)
                    if on_page:
                        on_page(done, total)
        else:
            next_url = response.links.get("next", {}).get("url")
            done = 1
            while next_url and (limit is None or len(repos) < limit):
                response = self._get(self._same_origin(next_url))
                repos.extend(self._page(response, "the next page"))
                next_url = response.links.get("next", {}).get("url")
                done += 1
                if on_page:
                    on_page(done, total)
        return repos if limit is None else repos[:limit]

    def user(self) -> tuple[dict[str, Any], str | None]:
        """The token's user and, for classic tokens, its scopes (`X-OAuth-Scopes`)."""
        response = self._get("user")
        if response.status_code != 200:
            raise self._error(response, "the authenticated user")
        return response.json(), response.headers.get("x-oauth-scopes")

    def org(self, org: str) -> dict[str, Any]:
        response = self._get(f"orgs/{org}")
        if response.status_code != 200:
            raise self._error(response, f"org {org}")
        return dict(response.json())

    def membership_role(self, org: str) -> str | None:
        response = self._get(f"user/memberships/orgs/{org}")
        if response.status_code == 200:
            return str(response.json().get("role"))
        if response.status_code in (403, 404):
            return None
        raise self._error(response, f"membership in {org}")

    def check_create_permission(self, org: str) -> None:
        """Whether the token may create repos in `org`, without creating one: a POST with an
        empty name answers 422 when the permission is there; otherwise the GitHubError says
        what is missing."""
        response = self._send("POST", f"orgs/{org}/repos", json={"name": ""})
        if response.status_code != 422:
            raise self._error(response, f"org {org}")

    def rate_limit(self) -> dict[str, Any]:
        response = self._get("rate_limit")
        if response.status_code != 200:
            raise self._error(response, "the rate limit")
        return dict(response.json().get("resources", {}).get("core", {}))

    # -- requests ---------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, waiting out rate limits when the wait is within max_wait."""
        mutating = method != "GET"
        for attempt in range(1, RATE_LIMIT_TRIES + 1):
            if mutating:
                self._wait_for_pace()
            try:
                response = self.client.request(method, url, follow_redirects=not mutating, **kwargs)
            except httpx.TransportError as e:
                raise _Transient(_transport_message(e, self.client.base_url.host)) from None
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

    def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        """A GET, retried with backoff on 5xx and on no answer at all."""
        problem = ""
        status: int | None = None
        for attempt in range(1, TRIES + 1):
            try:
                response = self._send("GET", url, **kwargs)
            except _Transient as e:
                problem, status = str(e), None
            else:
                if response.status_code < 500:
                    return response
                problem, status = _describe(response), response.status_code
            if attempt < TRIES:
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise GitHubError(
            GITHUB_UNAVAILABLE, f"GitHub is unavailable ({problem}) after {TRIES} tries", http_status=status
        )

    def _get_page(self, url: str) -> list[Repo]:
        return self._page(self._get(self._same_origin(url)), "a page of repos")

    def _page(self, response: httpx.Response, what: str) -> list[Repo]:
        if response.status_code != 200:
            raise self._error(response, what)
        return [Repo.from_api(item) for item in response.json()]

    def _same_origin(self, url: str) -> str:
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
        if response.status_code == 429 or "secondary rate limit" in _message(response).lower():
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

    def _error(self, response: httpx.Response, what: str) -> GitHubError:
        status = response.status_code
        message = _message(response)
        if status == 401:
            return GitHubError(
                GITHUB_UNAUTHORIZED,
                f"GitHub rejected the token ({message}); create a new one and set GH_TOKEN",
                http_status=status,
            )
        if status == 403:
            return GitHubError(GITHUB_FORBIDDEN, _forbidden_message(response, what), http_status=status)
        if status == 404:
            return GitHubError(
                GITHUB_NOT_FOUND, f"{what} not found, or the token can't see it", http_status=status
            )
        if status == 422 and _name_taken(response):
            return GitHubError(GITHUB_REPO_NAME_TAKEN, f"{what}: {message}", http_status=status)
        if 400 <= status < 500:
            return GitHubError(GITHUB_VALIDATION, f"GitHub refused ({message})", http_status=status)
        return GitHubError(GITHUB_UNAVAILABLE, f"GitHub answered {_describe(response)}", http_status=status)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(response: httpx.Response) -> str:
    """GitHub's message and its errors[] messages, on one line, cut short."""
    data = _json(response)
    parts = [str(data.get("message") or response.reason_phrase or response.status_code)]
    for item in data.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
        elif isinstance(item, str):
            parts.append(item)
    text = ": ".join(parts)
    return " ".join(text.split())[:300]


def _name_taken(response: httpx.Response) -> bool:
    return any(
        isinstance(e, dict)
        and e.get("field") == "name"
        and "already exists" in str(e.get("message", "")).lower()
        for e in _json(response).get("errors") or []
    )


def _forbidden_message(response: httpx.Response, what: str) -> str:
    sso = response.headers.get("x-github-sso", "")
    if "url=" in sso:
        url = sso.split("url=", 1)[1].strip()
        return f"{what} enforces SAML SSO; authorize the token for it at {url}"
    accepted = response.headers.get("x-accepted-github-permissions")
    if accepted:
        return (
            f"the token may not do this on {what}: it needs {_permissions(accepted)} ({_message(response)})"
        )
    return f"GitHub refused access to {what} ({_message(response)})"


def _permissions(header: str) -> str:
    """`administration=write` as "Administration: write". The header lists alternative sets
    separated by ";", the permissions of one set by "," (GitHub changelog, 2023-08-10)."""

    def one(permission: str) -> str:
        name, _, level = permission.partition("=")
        return f"{name.strip().replace('_', ' ').title()}: {level.strip()}"

    sets = [" and ".join(one(p) for p in group.split(",") if p.strip()) for group in header.split(";")]
    return ", or ".join(s for s in sets if s)


def _describe(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    return f"{response.status_code} {response.reason_phrase}".strip()


def _transport_message(error: httpx.TransportError, host: str) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {host}"
    return "connection dropped"


def _page_number(url: str) -> int | None:
    page = httpx.URL(url).params.get("page")
    return int(page) if page and page.isdigit() else None
