"""set-repo (the manual override) and list-repos (what the token reaches, joined with the store).

No Typer, no Rich. The store is read and written here; GitHub is only asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from specctl.errors import GITHUB_NOT_FOUND, GitHubError
from specctl.names import check_slug, parse_repo
from specctl.store import Project, Store

if TYPE_CHECKING:
    from specctl.github import GitHub, Listed


@dataclass(frozen=True)
class RepoChange:
    before: Project
    after: Project

    @property
    def changed(self) -> bool:
        return self.before.github_repo != self.after.github_repo


def set_repo(store: Store, github: Callable[[], GitHub] | None, slug: str, value: str) -> RepoChange:
    """Link `slug` to OWNER/NAME by hand (`github=None`: without asking GitHub). GitHub's
    canonical `full_name` is recorded, as `manual`; approve never overwrites it."""
    check_slug(slug)
    owner, name = parse_repo(value)
    current = store.require(slug)  # an unknown slug fails before any request
    full_name = f"{owner}/{name}"
    if github is not None:
        repo = github().get_repo(owner, name)
        if repo is None:
            raise GitHubError(
                GITHUB_NOT_FOUND,
                f"repo {full_name} not found, or the token can't see it "
                "(check the name, or set it anyway with --no-verify)",
                http_status=404,
            )
        full_name = repo.full_name
    same = (current.github_repo or "").lower() == full_name.lower()  # GitHub names ignore case
    if same and current.repo_source == "manual":
        return RepoChange(current, current)
    before, after = store.set_manual_repo(slug, full_name)
    return RepoChange(before, after)


def clear_repo(store: Store, slug: str) -> RepoChange:
    """Unlink the repo (GitHub keeps it); the next approve creates a new one."""
    check_slug(slug)
    current = store.require(slug)
    if current.github_repo is None:
        return RepoChange(current, current)
    before, after = store.set_manual_repo(slug, None)
    return RepoChange(before, after)


class RepoListing:
    """The repos GitHub lists, each with the project it is linked to (if any): `rows` streams
    them as GitHub's pages come, one row per linked project (a store from before set-repo
    refused a shared repo may link two). Once the rows are all read, `unseen` names the linked
    projects whose repo was not among them (only a complete listing can say so)."""

    def __init__(
        self,
        pages: Iterable[list[Listed]],
        links: dict[str, list[tuple[str, str | None]]],
        *,
        linked: bool | None,
        owner: str | None,
        complete: bool,
    ):
        self._links = links
        self._found: set[str] = set()  # the linked repos listed, lower-cased
        self._prefix = f"{owner.lower()}/" if owner else ""
        self._complete = complete
        self.rows = self._rows(pages, linked)

    def _rows(self, pages: Iterable[list[Listed]], linked: bool | None) -> Iterator[dict[str, Any]]:
        for page in pages:
            for full_name, visibility in page:
                holders = self._links.get(full_name.lower())
                if holders:
                    self._found.add(full_name.lower())
                if linked is None or linked == bool(holders):
                    for slug, source in holders or _NOBODY:
                        yield {
                            "full_name": full_name,
                            "visibility": visibility,
                            "slug": slug,
                            "repo_source": source,
                        }

    @property
    def unseen(self) -> list[tuple[str, str]]:
        """(slug, github_repo) of the linked projects whose repo the complete listing lacked."""
        if not self._complete:
            return []
        return sorted(
            (slug, name)
            for name, holders in self._links.items()
            if name.startswith(self._prefix) and name not in self._found
            for slug, _ in holders
        )


_NOBODY: list[tuple[str | None, str | None]] = [(None, None)]


def list_repos(
    store: Store,
    github: GitHub,
    *,
    owner: str | None = None,
    limit: int | None = None,
    linked: bool | None = None,
    on_page: Callable[[int, int | None], None] | None = None,
    org: str | None = None,
) -> RepoListing:
    """The repos GitHub lists, joined with the store's links, streamed (see RepoListing).

    A GitHub App has no "every repo I reach" (an installation token has no user): without
    `owner`, it lists each org it works in (`org`, the config's, and every project's own),
    one after another, through that org's installation."""
    links: dict[str, list[tuple[str, str | None]]] = {}
    for project in store.projects(has_repo=True):
        links.setdefault(str(project.github_repo).lower(), []).append((project.slug, project.repo_source))
    if owner is None and github.app is not None:
        orgs = {o.lower(): o for o in ([org] if org else []) + store.orgs()}  # once each
        pages = _each_org(github, sorted(orgs.values()), limit, on_page)
    else:
        pages = github.repo_pages(owner, limit=limit, on_page=on_page)
    return RepoListing(pages, links, linked=linked, owner=owner, complete=limit is None)


def _each_org(
    github: GitHub, orgs: list[str], limit: int | None, on_page: Callable[[int, int | None], None] | None
) -> Iterator[list[Listed]]:
    """The pages of each org in turn, `limit` repos in all."""
    for each in orgs:
        for page in github.repo_pages(each, limit=limit, on_page=on_page):
            yield page
            if limit is not None:
                limit -= len(page)
        if limit is not None and limit <= 0:
            return
