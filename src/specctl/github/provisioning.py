"""Provisioning endpoints (GITHUB.md "Provisioning endpoints"): create from a template, and
the reads and writes that bring a repo to the `[repo]` table: settings, topics, team
permissions, the README. Every write is one request through the transport, which paces it;
none is retried blindly (a write with no answer fails its step, and the next run re-reads)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from specctl._httpx import httpx
from specctl.errors import GITHUB_UNAVAILABLE, GITHUB_VALIDATION, GitHubError
from specctl.github.repos import AttemptLog, Created
from specctl.github.transport import Transient, Transport, error, name_taken

PER_PAGE = 100


class ProvisioningCalls:
    """The provisioning endpoints, over `self.http`."""

    http: Transport
    create_org_repo: Callable[..., Created]

    def generate_repo(
        self, template: str, org: str, name: str, description: str = "", attempts: AttemptLog | None = None
    ) -> Created:
        """Create private `org/name` from `template` (`POST /repos/{template}/generate`) under
        exactly the rules of the plain create: its loop sends this request instead. A template
        that is missing, invisible or not a template fails with a message naming it. The
        template's files arrive a little after the 201: nothing here waits for them."""

        def post(candidate: str) -> httpx.Response:
            body = {"owner": org, "name": candidate, "description": description, "private": True}
            response = self.http.send("POST", f"repos/{template}/generate", json=body)
            if 400 <= response.status_code < 500 and not name_taken(response):
                refused = error(response, f"template {template}")
                if refused.code == GITHUB_VALIDATION:  # e.g. "… is not a template repository"
                    message = f"cannot create from template {template}: {refused.message}"
                    raise GitHubError(refused.code, message, http_status=refused.http_status)
                raise refused
            return response

        return self.create_org_repo(org, name, description, attempts, post=post)

    # -- reads (safe to run at once) --------------------------------------------------------

    def repo_data(self, owner: str, name: str) -> dict[str, Any] | None:
        """The repo as GitHub reports it, settings included; None when absent or invisible."""
        response = self.http.get(f"repos/{owner}/{name}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error(response, f"repo {owner}/{name}")
        return dict(response.json())

    def topics(self, owner: str, name: str) -> list[str]:
        response = self.http.get(f"repos/{owner}/{name}/topics")
        if response.status_code != 200:
            raise error(response, f"topics of {owner}/{name}")
        return [str(t) for t in response.json().get("names") or []]

    def repo_teams(self, owner: str, name: str) -> dict[str, str]:
        """Team slug (lower-cased) -> the permission it holds on the repo, over every page."""
        response = self.http.get(f"repos/{owner}/{name}/teams", params={"per_page": PER_PAGE})
        teams: dict[str, str] = {}
        while True:
            if response.status_code != 200:
                raise error(response, f"teams of {owner}/{name}")
            for team in response.json():
                teams[str(team["slug"]).lower()] = str(team.get("permission"))
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return teams
            response = self.http.get(self.http.same_origin(next_url))

    def has_readme(self, owner: str, name: str) -> bool:
        """Whether the repo has a README, whatever its name (404: none, or an empty repo)."""
        response = self.http.get(f"repos/{owner}/{name}/readme")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise error(response, f"README of {owner}/{name}")
        return True

    def team(self, org: str, slug: str) -> dict[str, Any] | None:
        response = self.http.get(f"orgs/{org}/teams/{slug}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error(response, f"team {slug} of {org}")
        return dict(response.json())

    # -- writes (serial, paced by the transport) --------------------------------------------

    def update_repo(self, owner: str, name: str, settings: dict[str, Any]) -> dict[str, Any]:
        """PATCH the settings; returns the repo as GitHub now reports it."""
        response = self._write("PATCH", f"repos/{owner}/{name}", f"repo {owner}/{name}", json=settings)
        return dict(response.json())

    def set_topics(self, owner: str, name: str, topics: list[str]) -> None:
        self._write("PUT", f"repos/{owner}/{name}/topics", f"repo {owner}/{name}", json={"names": topics})

    def set_team_permission(self, org: str, team: str, owner: str, name: str, permission: str) -> None:
        url = f"orgs/{org}/teams/{team}/repos/{owner}/{name}"
        self._write("PUT", url, f"team {team} of {org}", json={"permission": permission})

    def create_file(self, owner: str, name: str, path: str, content: str, message: str) -> None:
        """A new file (no `sha`: GitHub refuses to replace one this way, so nothing is overwritten)."""
        body = {"message": message, "content": base64.b64encode(content.encode()).decode()}
        self._write("PUT", f"repos/{owner}/{name}/contents/{path}", f"repo {owner}/{name}", json=body)

    def _write(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.send(method, url, **kwargs)
        except Transient as e:
            raise GitHubError(
                GITHUB_UNAVAILABLE, f"{method} {what}: {e}; its outcome is unknown, re-run to check"
            ) from None
        if response.status_code >= 300:
            raise error(response, what)
        return response
