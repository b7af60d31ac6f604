"""Repositories: get, create (with the name-taken retry and unknown outcomes resolved by a
lookup) and list (Link pagination, pages fetched `concurrency` at a time)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from specctl._httpx import httpx
from specctl.errors import GITHUB_REPO_NAME_TAKEN, GITHUB_UNAVAILABLE, GitHubError, shown
from specctl.github.transport import (
    OWNER,
    TRIES,
    BadAnswer,
    Transient,
    Transport,
    describe,
    error,
    json_body,
    json_kind,
)

PER_PAGE = 100
MAX_PAGES = 1000  # 100,000 repos: past any real listing, short of one that never ends
# GitHub's characters for logins (`_` in managed users' ones) and repository names
_FULL_NAME = re.compile(r"[\w.-]+/[\w.-]+", re.ASCII)
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
    def from_api(cls, data: Any) -> Repo:
        """A repository object of GitHub's; BadAnswer when it is none (no usable full_name,
        created_at not a date): whatever is stored or compared later is what it claims."""
        if not isinstance(data, dict):
            raise BadAnswer(f"{json_kind(data)} where a repository was expected")
        full_name = data.get("full_name")
        if not isinstance(full_name, str) or not _FULL_NAME.fullmatch(full_name):
            raise BadAnswer(f"full_name is {_shown_json(full_name)}, not OWNER/NAME")
        private = data.get("private") is True
        return cls(
            full_name=full_name,
            name=full_name.partition("/")[2],
            private=private,
            visibility=_text(data.get("visibility")) or ("private" if private else "public"),
            default_branch=_text(data.get("default_branch")),
            html_url=_text(data.get("html_url")),
            created_at=_created_at(data.get("created_at")),
        )


class Listed(NamedTuple):
    """A repo as a listing prints it: only these fields are taken from each page."""

    full_name: str
    visibility: str

    @classmethod
    def from_api(cls, data: Any) -> Listed:
        """BadAnswer when it is no repository object (no usable full_name), as Repo.from_api."""
        if not isinstance(data, dict):
            raise BadAnswer(f"{json_kind(data)} where a repository was expected")
        full_name = data.get("full_name")
        if not isinstance(full_name, str) or not _FULL_NAME.fullmatch(full_name):
            raise BadAnswer(f"full_name is {_shown_json(full_name)}, not OWNER/NAME")
        visibility = data.get("visibility")
        if not isinstance(visibility, str) or not visibility:
            visibility = "private" if data.get("private") is True else "public"
        return cls(full_name, visibility)


class Created(NamedTuple):
    repo: Repo
    adopted: bool  # True: an earlier POST of ours made it, we found it and took it


# What a POST's answer says it did. `sent` (no answer yet) and `unknown` (5xx, timeout, dropped
# connection) may have made the repo; so did `created`. `name_taken` and `failed` made nothing.
MAY_HAVE_MADE = ("sent", "unknown", "created")
VISIBLE_WAITS = 4  # waits for a repo GitHub says exists but does not show yet: 1+2+4+8 s


class AttemptLog(Protocol):
    """What the caller knows of the POSTs made for one project; lets it decide what is its own."""

    def before_post(self, owner: str, name: str) -> None:
        """Called before each POST: record it (or raise to stop before posting)."""

    def answered(self, name: str, outcome: str) -> None:
        """What the POST of `name` just sent did, as far as its answer says (MAY_HAVE_MADE)."""

    def pending(self, owner: str, name: str) -> bool:
        """Whether a recent POST of `owner/name` for this project may have made a repo that
        GitHub's reads do not show yet: one with no definite answer (or `created`)."""

    def is_ours(self, repo: Repo) -> bool:
        """Whether an existing repo was made by a POST of this project's."""

    def retry_name(self, base: str) -> str | None:
        """A suffixed name an earlier or racing attempt chose, to converge on."""


class NoAttemptLog:
    """Without a record of earlier attempts, only a POST of this call can have made the repo."""

    def __init__(self) -> None:
        self._unanswered: set[str] = set()

    def before_post(self, owner: str, name: str) -> None:
        pass

    def answered(self, name: str, outcome: str) -> None:
        if outcome in MAY_HAVE_MADE:
            self._unanswered.add(name.lower())

    def pending(self, owner: str, name: str) -> bool:
        return name.lower() in self._unanswered

    def is_ours(self, repo: Repo) -> bool:
        return repo.private and repo.name.lower() in self._unanswered

    def retry_name(self, base: str) -> str | None:
        return None


class RepoCalls:
    """The repository endpoints, over `self.http`."""

    http: Transport
    concurrency: int
    suffix: Callable[[], str]
    _clock_probed = False

    def github_now(self) -> datetime | None:
        """Now by GitHub's clock, to time attempts the way GitHub times `created_at`. Learnt
        from the Date of its answers; before any, from one GET /rate_limit (which costs no rate
        limit), once. None when GitHub sends no Date."""
        if self.http.server_now() is None and not self._clock_probed:
            self._clock_probed = True
            with suppress(Transient, GitHubError):  # the POST that follows meets it and reports it
                self.http.send("GET", "rate_limit")
        now = self.http.server_now()
        return None if now is None else datetime.fromtimestamp(now, UTC)

    def create_lease(self) -> float:
        """Seconds one create may take before its next POST renews its claim: every try of a
        request to its deadline, a rate-limit wait, the pace, the backoffs and the waits for a
        repo GitHub says exists but does not show yet (SPEC "The team store")."""
        h = self.http
        backoffs = sum(h.backoff * 2 ** (i - 1) for i in range(1, TRIES)) + h.backoff * (2**VISIBLE_WAITS - 1)
        return float(TRIES * h.deadline + h.max_wait + h.pace + backoffs)

    def get_repo(self, owner: str, name: str) -> Repo | None:
        """The repo with GitHub's canonical `full_name`; None when absent or invisible (404)."""
        response = self.http.get(f"repos/{owner}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error(response, f"repo {owner}/{name}")
        return _repo(response, f"repo {owner}/{name}")

    def await_repo(self, owner: str, name: str) -> Repo:
        """A repo GitHub says exists (its POST met "already exists") but its reads do not show
        yet: they lag its writes by seconds. Looked up again with backoff, a bounded time."""
        for wait in range(1, VISIBLE_WAITS + 1):
            self.http.backoff_sleep(wait)
            repo = self.get_repo(owner, name)
            if repo is not None:
                return repo
        raise GitHubError(
            GITHUB_UNAVAILABLE,
            f"{owner}/{name} was created but is not visible yet; run approve again in a minute",
        )

    def create_org_repo(
        self,
        org: str,
        name: str,
        description: str = "",
        attempts: AttemptLog | None = None,
        *,
        post: Callable[[str], httpx.Response] | None = None,
    ) -> Created:
        """Create a private repo `org/name` (SPEC "approve" step 3).

        Name taken → one retry as `name-xxxx`, then GITHUB_REPO_NAME_TAKEN; other 422s are not
        retried. A 5xx, timeout or dropped connection leaves the outcome unknown: the name is
        looked up, and only when absent is it POSTed again, after a backoff, TRIES times at most.
        "Name taken" while a POST of that name may have made a repo (`attempts.pending`) means
        the repo is most likely ours and not visible yet: wait for it, never suffix.
        `attempts` records each POST and its outcome and says which existing repo is ours.
        `post(name)` sends one create of `name` (default: POST /orgs/{org}/repos); the template
        create sends its own request through this same loop, under the same rules.
        """
        log = attempts or NoAttemptLog()
        candidate, unknown_outcomes = name, 0
        while True:
            response = self._post_repo(org, candidate, description, log, post)
            if response is not None and response.status_code == 201:
                return Created(_created_repo(response, f"{org}/{candidate}"), adopted=False)
            existing = self.get_repo(org, candidate)
            if response is None or response.status_code >= 500:
                unknown_outcomes += 1
                if existing is None:  # not there, or not visible yet: the same name again
                    if unknown_outcomes >= TRIES:
                        raise _gave_up(org, candidate, response, unknown_outcomes)
                    self.http.backoff_sleep(unknown_outcomes)
                    continue
            elif existing is None and log.pending(org, candidate):
                existing = self.await_repo(org, candidate)
            if existing is not None and log.is_ours(existing):
                return Created(existing, adopted=True)
            # The name is taken by a repo that is not ours (or that the token cannot see).
            if candidate != name:  # the suffixed name is taken too
                raise GitHubError(
                    GITHUB_REPO_NAME_TAKEN,
                    f"{org}/{name} and {org}/{candidate} already exist; set a repo with "
                    "`specctl set-repo` or retry approve",
                    http_status=422,
                )
            candidate = log.retry_name(name) or f"{name}-{self.suffix()}"

    def _post_repo(
        self,
        org: str,
        name: str,
        description: str,
        log: AttemptLog,
        post: Callable[[str], httpx.Response] | None,
    ) -> httpx.Response | None:
        """One create, recorded before it is sent and its outcome after; None when no answer
        came. Refusals other than "name taken" are raised."""
        log.before_post(org, name)
        body = {"name": name, "description": description, "private": True, "auto_init": False}
        try:
            response = post(name) if post else self.http.send("POST", f"orgs/{org}/repos", json=body)
        except Transient:
            log.answered(name, "unknown")
            return None
        except GitHubError:  # a rate limit that outlasted max_wait: GitHub did nothing
            log.answered(name, "failed")
            raise
        if response.status_code == 201:
            log.answered(name, "created")
        elif response.status_code >= 500:
            log.answered(name, "unknown")
        else:
            refused = error(response, f"org {org}")
            taken = refused.code == GITHUB_REPO_NAME_TAKEN
            log.answered(name, "name_taken" if taken else "failed")
            if not taken:
                raise refused
        return response

    def list_repos(
        self,
        owner: str | None = None,
        *,
        limit: int | None = None,
        on_page: Callable[[int, int | None], None] | None = None,
    ) -> list[Listed]:
        """Every repo of the listing `repo_pages` streams, in one list."""
        return [repo for page in self.repo_pages(owner, limit=limit, on_page=on_page) for repo in page]

    def repo_pages(
        self,
        owner: str | None = None,
        *,
        limit: int | None = None,
        on_page: Callable[[int, int | None], None] | None = None,
    ) -> Iterator[list[Listed]]:
        """Every repo the token reaches (`/user/repos`), or one owner's (org, else user), a page
        at a time in order, each repo as the fields a listing prints; in one order with or
        without an owner: by full_name (`sort=full_name`, which only `/user/repos` has by
        default; orgs' and users' lists would come newest first).

        Follows the Link header as given; once `rel="last"` is known, the remaining pages are
        built from it (only `page` changed) and fetched `concurrency` at a time, handed on in
        order as each one's turn comes. Links that loop, or more than MAX_PAGES pages, are a
        GitHubError rather than a listing that never ends. `on_page(pages_done, pages_total)`
        reports progress.
        """
        params = {"per_page": PER_PAGE, "sort": "full_name"}
        # Each page names the owner: its Link URLs (/organizations/{id}/repos) do not, and as
        # an app, the owner decides which installation's token the page is asked with.
        ext = {OWNER: owner} if owner else {}
        response = self.http.get(
            f"orgs/{owner}/repos" if owner else "user/repos", params=params, extensions=ext
        )
        if owner and response.status_code == 404:
            response = self.http.get(f"users/{owner}/repos", params=params, extensions=ext)
        first = self._page(response, f"repos of {owner}" if owner else "your repos")
        last = _link(response, "last")
        total = _page_number(last) if last else None
        wanted = total if limit is None or total is None else min(total, -(-limit // PER_PAGE))
        if wanted is not None and wanted > MAX_PAGES:
            raise _too_many_pages(f"GitHub reports {total} pages")
        if on_page:
            on_page(1, total)
        if last and wanted and self.concurrency > 1:
            urls = [str(httpx.URL(last).copy_set_param("page", str(p))) for p in range(2, wanted + 1)]
            pages = self._pages_at_once(first, urls, ext)
        else:
            pages = self._follow_next(response, first, ext)
        for done, page in enumerate(pages, 1):
            if done > 1 and on_page:
                on_page(done, total)
            if limit is not None:
                page = page[:limit]
                limit -= len(page)
            yield page
            if limit == 0:
                return

    def _pages_at_once(
        self, first: list[Listed], urls: list[str], ext: dict[str, str]
    ) -> Iterator[list[Listed]]:
        """The first page, then the others fetched `concurrency` at a time, in order. A caller
        that stops early cancels the pages not yet asked for."""
        from concurrent.futures import ThreadPoolExecutor

        yield first
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            yield from pool.map(lambda url: self._get_page(url, ext), urls)
        finally:
            pool.shutdown(cancel_futures=True)

    def _follow_next(
        self, response: httpx.Response, first: list[Listed], ext: dict[str, str]
    ) -> Iterator[list[Listed]]:
        """Page after page by `rel="next"`; a URL met twice is a loop."""
        yield first
        seen = {str(response.url)}
        next_url = _link(response, "next")
        while next_url:
            if next_url in seen:
                raise GitHubError(GITHUB_UNAVAILABLE, f"GitHub's next page is one already read ({next_url})")
            if len(seen) >= MAX_PAGES:
                raise _too_many_pages(f"GitHub has more than {MAX_PAGES} pages")
            seen.add(next_url)
            response = self.http.get(self.http.same_origin(next_url), extensions=ext)
            yield self._page(response, "the next page")
            next_url = _link(response, "next")

    def _get_page(self, url: str, ext: dict[str, str]) -> list[Listed]:
        return self._page(self.http.get(self.http.same_origin(url), extensions=ext), "a page of repos")

    def _page(self, response: httpx.Response, what: str) -> list[Listed]:
        if response.status_code != 200:
            raise error(response, what)
        items = json_body(response, what)
        if not isinstance(items, list):
            raise BadAnswer(f"{json_kind(items)} where a list was expected", what, response.status_code)
        try:
            return [Listed.from_api(item) for item in items]
        except BadAnswer as e:
            raise BadAnswer(e.problem, what, response.status_code) from None


def _repo(response: httpx.Response, what: str) -> Repo:
    try:
        return Repo.from_api(json_body(response, what))
    except BadAnswer as e:
        raise BadAnswer(e.problem, what, response.status_code) from None


def _created_repo(response: httpx.Response, full_name: str) -> Repo:
    """The 201's repo. A 201 says the repo was made, whatever its body: a garbled body is
    reported so, and the next approve finds and adopts the repo by its name."""
    try:
        return Repo.from_api(json_body(response, full_name))
    except BadAnswer as e:
        raise GitHubError(
            GITHUB_UNAVAILABLE,
            f"{full_name} was most likely created, but GitHub's answer is not what specctl expects "
            f"({e.problem}); run approve again to adopt it",
            http_status=response.status_code,
        ) from None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _created_at(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        created = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadAnswer(f"created_at is {_shown_json(value)}, not a date") from None
    return created if created.tzinfo else created.replace(tzinfo=UTC)  # comparable with ours


def _shown_json(value: Any) -> str:
    return shown(value) if isinstance(value, str) else json_kind(value)


def _link(response: httpx.Response, rel: str) -> str | None:
    """The Link header's URL for `rel`, normalized, so that one page always reads the same."""
    url = response.links.get(rel, {}).get("url")
    try:
        return None if url is None else str(httpx.URL(url))
    except httpx.InvalidURL:
        raise BadAnswer(f"its Link {rel} is not a URL", "a page of repos", response.status_code) from None


def _gave_up(org: str, name: str, response: httpx.Response | None, tries: int) -> GitHubError:
    return GitHubError(
        GITHUB_UNAVAILABLE,
        f"GitHub did not create {org}/{name} after {tries} tries ({describe(response)}); "
        "re-run approve later",
        http_status=response.status_code if response is not None else None,
    )


def _page_number(url: str) -> int | None:
    page = httpx.URL(url).params.get("page")
    return int(page) if page and page.isascii() and page.isdigit() else None


def _too_many_pages(found: str) -> GitHubError:
    return GitHubError(
        GITHUB_UNAVAILABLE,
        f"{found} of repos; specctl reads at most {MAX_PAGES} ({MAX_PAGES * PER_PAGE} repos): "
        "list one owner's, or fewer",
    )
