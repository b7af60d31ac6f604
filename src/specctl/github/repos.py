"""Repositories: get, create (with the name-taken retry and unknown outcomes resolved by a
lookup) and list (Link pagination, pages fetched `concurrency` at a time)."""

from __future__ import annotations

import re
from collections.abc import Callable
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


class RepoCalls:
    """The repository endpoints, over `self.http`."""

    http: Transport
    concurrency: int
    suffix: Callable[[], str]

    def get_repo(self, owner: str, name: str) -> Repo | None:
        """The repo with GitHub's canonical `full_name`; None when absent or invisible (404)."""
        response = self.http.get(f"repos/{owner}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error(response, f"repo {owner}/{name}")
        return _repo(response, f"repo {owner}/{name}")

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
        `attempts` records each POST before it is sent and says which existing repo is ours.
        `post(name)` sends one create of `name` (default: POST /orgs/{org}/repos); the template
        create sends its own request through this same loop, under the same rules.
        """
        log = attempts or NoAttemptLog()
        candidate, unknown_outcomes = name, 0
        while True:
            log.before_post(candidate)
            body = {"name": candidate, "description": description, "private": True, "auto_init": False}
            try:
                response: httpx.Response | None = (
                    post(candidate) if post else self.http.send("POST", f"orgs/{org}/repos", json=body)
                )
            except Transient:
                response = None
            if response is not None and response.status_code == 201:
                return Created(_created_repo(response, f"{org}/{candidate}"), adopted=False)
            if response is not None and response.status_code < 500:
                refused = error(response, f"org {org}")
                if refused.code != GITHUB_REPO_NAME_TAKEN:
                    raise refused
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
                        f"({describe(response)}); re-run approve later",
                        http_status=status,
                    )
                self.http.backoff_sleep(unknown_outcomes)
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
        # Each page names the owner: its Link URLs (/organizations/{id}/repos) do not, and as
        # an app, the owner decides which installation's token the page is asked with.
        ext = {OWNER: owner} if owner else {}
        response = self.http.get(first, params={"per_page": PER_PAGE}, extensions=ext)
        if owner and response.status_code == 404:
            response = self.http.get(f"users/{owner}/repos", params={"per_page": PER_PAGE}, extensions=ext)
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
                pages = pool.map(lambda url: self._get_page(url, ext), urls)
                for done, page in enumerate(pages, 2):
                    repos.extend(page)
                    if on_page:
                        on_page(done, total)
        else:
            next_url = response.links.get("next", {}).get("url")
            done = 1
            while next_url and (limit is None or len(repos) < limit):
                response = self.http.get(self.http.same_origin(next_url), extensions=ext)
                repos.extend(self._page(response, "the next page"))
                next_url = response.links.get("next", {}).get("url")
                done += 1
                if on_page:
                    on_page(done, total)
        return repos if limit is None else repos[:limit]

    def _get_page(self, url: str, ext: dict[str, str]) -> list[Repo]:
        return self._page(self.http.get(self.http.same_origin(url), extensions=ext), "a page of repos")

    def _page(self, response: httpx.Response, what: str) -> list[Repo]:
        if response.status_code != 200:
            raise error(response, what)
        items = json_body(response, what)
        if not isinstance(items, list):
            raise BadAnswer(f"{json_kind(items)} where a list was expected", what, response.status_code)
        try:
            return [Repo.from_api(item) for item in items]
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


def _page_number(url: str) -> int | None:
    page = httpx.URL(url).params.get("page")
    return int(page) if page and page.isdigit() else None
