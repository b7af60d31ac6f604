"""Who the token is and what it may do: the reads `doctor` makes (and none that change anything)."""

from __future__ import annotations

from typing import Any

from specctl.github.transport import Transport, error, json_dict


class AccountCalls:
    """The user, org and rate-limit endpoints, over `self.http`."""

    http: Transport

    def user(self) -> tuple[dict[str, Any], str | None]:
        """The token's user and, for classic tokens, its scopes (`X-OAuth-Scopes`)."""
        response = self.http.get("user")
        if response.status_code != 200:
            raise error(response, "the authenticated user")
        return json_dict(response, "the authenticated user"), response.headers.get("x-oauth-scopes")

    def org(self, org: str) -> dict[str, Any]:
        response = self.http.get(f"orgs/{org}")
        if response.status_code != 200:
            raise error(response, f"org {org}")
        return json_dict(response, f"org {org}")

    def membership_role(self, org: str) -> str | None:
        response = self.http.get(f"user/memberships/orgs/{org}")
        if response.status_code == 200:
            role = json_dict(response, f"membership in {org}").get("role")
            return role if isinstance(role, str) else None
        if response.status_code in (403, 404):
            return None
        raise error(response, f"membership in {org}")

    def check_create_permission(self, org: str) -> None:
        """Whether the token may create repos in `org`, without creating one: a POST with an
        empty name answers 422 when the permission is there; otherwise the GitHubError says
        what is missing."""
        response = self.http.send("POST", f"orgs/{org}/repos", json={"name": ""})
        if response.status_code != 422:
            raise error(response, f"org {org}")

    def rate_limit(self) -> dict[str, Any]:
        response = self.http.get("rate_limit")
        if response.status_code != 200:
            raise error(response, "the rate limit")
        resources = json_dict(response, "the rate limit").get("resources")
        core = resources.get("core") if isinstance(resources, dict) else None
        return core if isinstance(core, dict) else {}
