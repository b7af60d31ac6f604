"""set-repo (the manual override) and list-repos (what the token reaches, joined with the store).

No Typer, no Rich. The store is read and written here; GitHub is only asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from specctl.errors import GITHUB_NOT_FOUND, GitHubError
from specctl.names import check_slug, parse_repo
from specctl.store import Project, Store

if TYPE_CHECKING:
    from specctl.github import GitHub, Repo


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


@dataclass(frozen=True)
class RepoListing:
    rows: list[dict[str, Any]]  # full_name, visibility, slug, repo_source
    unseen: list[tuple[str, str]]  # (slug, github_repo) of linked projects not in the listing


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
    """The repos GitHub lists, each with the project it is linked to (if any): one row per
    linked project, as a store from before set-repo refused a shared repo may link two.

    A GitHub App has no "every repo I reach" (an installation token has no user): without
    `owner`, it lists each org it works in (`org`, the config's, and every project's own),
    one after another, through that org's installation."""
    links: dict[str, list[tuple[str | None, str | None]]] = {}
    for project in store.projects(has_repo=True):
        links.setdefault(str(project.github_repo).lower(), []).append((project.slug, project.repo_source))
    if owner is None and github.app is not None:
        orgs = {o.lower(): o for o in ([org] if org else []) + store.orgs()}  # once each
        repos: list[Repo] = []
        for each in sorted(orgs.values()):
            if limit is not None and len(repos) >= limit:
                break
            left = None if limit is None else limit - len(repos)
            repos += github.list_repos(each, limit=left, on_page=on_page)
    else:
        repos = github.list_repos(owner, limit=limit, on_page=on_page)
    rows: list[dict[str, Any]] = []
    for repo in repos:
        holders = links.get(repo.full_name.lower())
        if linked is None or linked == bool(holders):
            rows.extend(
                {
                    "full_name": repo.full_name,
                    "visibility": repo.visibility,
                    "slug": slug,
                    "repo_source": source,
                }
                for slug, source in holders or [(None, None)]
            )
    unseen: list[tuple[str, str]] = []
    if limit is None:  # only a complete listing can say a repo is missing
        listed = {repo.full_name.lower() for repo in repos}
        prefix = f"{owner.lower()}/" if owner else ""
        unseen = sorted(
            (str(slug), name)
            for name, holders in links.items()
            if name.startswith(prefix) and name not in listed
            for slug, _ in holders
        )
    return RepoListing(rows, unseen)
