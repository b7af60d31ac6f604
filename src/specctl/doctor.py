"""doctor: check store, config, token and GitHub access, and say what to fix.

No Typer, no Rich: returns checks; the CLI prints them. Never creates a repo (the create
permission is probed with an empty name, which GitHub refuses with 422 when it is allowed)
and never prints the token, only where it came from and what kind it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specctl.config import Token, check_api_url
from specctl.errors import EXIT_FAILED, EXIT_OK, SpecctlError

if TYPE_CHECKING:
    from specctl.github.app import App
    from specctl.runtime import Runtime

TOKEN_KINDS = {
    "ghp_": "classic personal access token",
    "github_pat_": "fine-grained personal access token",
    "gho_": "OAuth token (gh auth login)",
    "ghs_": "GitHub App installation token",
    "ghu_": "GitHub App user token",
}


@dataclass
class Check:
    name: str
    status: str  # ok | fail | skip | warn
    detail: str
    exit_code: int = EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def token_kind(value: str) -> str:
    for prefix, kind in TOKEN_KINDS.items():
        if value.startswith(prefix):
            return kind
    return "token of unknown kind"


class Doctor:
    def __init__(self, rt: Runtime, timer: Callable[[], float] = time.perf_counter):
        self.rt = rt
        self.timer = timer
        self.checks: list[Check] = []

    def run(self) -> tuple[list[Check], int]:
        if self._check("config", self._config):
            self._check("store", self._store)
            if self._check("api_url", self._api_url) and self._check("token", self._token):
                self._github_checks()
        failed = [c.exit_code for c in self.checks if c.status == "fail"]
        return self.checks, failed[0] if failed else EXIT_OK

    def _check(self, name: str, probe: Callable[[], str]) -> bool:
        try:
            detail = probe()
        except SpecctlError as e:
            self.checks.append(Check(name, "fail", e.message, e.exit_code))
            return False
        self.checks.append(Check(name, "ok", detail))
        return True

    def _config(self) -> str:
        s = self.rt.settings
        where = f"[env.{s.env_name}] of " if s.env_name else ""
        if not s.config.exists:
            return f"no config file at {s.config.path} (defaults and environment); org {s.org}"
        if s.config.readable_by_others:
            self.checks.append(
                Check(
                    "config mode", "warn", f"others can read {s.config.path}: run chmod 600 {s.config.path}"
                )
            )
        return f"{where}{s.config.path} parses; org {s.org}"

    def _store(self) -> str:
        """Kind, where (a URL's password masked), schema; for PostgreSQL the server's version
        and one round trip's time."""
        path = self.rt.settings.db
        if isinstance(path, Path) and not path.exists():
            return f"sqlite {path} does not exist yet; the first `specctl add` creates it"
        store = self.rt.store(create=False)
        info = store.info()
        count = sum(1 for _ in store.projects())
        projects = f"{count} project{'' if count == 1 else 's'}"
        detail = f"{info.kind} {info.where} opens, schema {info.schema_version} ({projects})"
        if info.server_version is None:
            return detail
        start = self.timer()
        store.ping()
        round_trip = (self.timer() - start) * 1000
        return f"{detail}; server PostgreSQL {info.server_version}, round trip {round_trip:.1f} ms"

    def _api_url(self) -> str:
        check_api_url(self.rt.settings.api_url)
        return self.rt.settings.api_url

    def _token(self) -> str:
        credential = self.rt.credential()
        if isinstance(credential, Token):
            return f"from {credential.source} ({token_kind(credential.value)})"
        self.rt.app(credential).jwt()  # reads and checks the key, even with a cached token
        where = self.rt.settings.sources["app_id"]
        return f"{credential.source} (from {where}), key {credential.key_path}"

    def _github_checks(self) -> None:
        org = self.rt.settings.org
        gh = self.rt.github()
        if gh.app is not None and not self._app_checks(gh.app, org):
            return

        def user() -> str:
            data, scopes = gh.user()
            extra = f"; scopes: {scopes}" if scopes is not None else ""
            return f"authenticated as {data.get('login')}{extra}"

        def org_access() -> str:
            gh.org(org)
            role = gh.membership_role(org)
            return f"{org} is visible" + (f"; you are {role}" if role else "")

        def can_create() -> str:
            gh.check_create_permission(org)
            return f"the token may create repos in {org}"

        def rate() -> str:
            core = gh.rate_limit()
            return f"{core.get('remaining')} of {core.get('limit')} requests left this hour"

        if gh.app is not None:  # an installation token has no user (GET /user is not for it)
            if self._check("org", lambda: f"{gh.org(org).get('login', org)} is visible"):
                self._check("create repos", can_create)
                self._repo_table_checks()
            self._check("rate limit", rate)
        elif self._check("github user", user):
            if self._check("org", org_access):
                self._check("create repos", can_create)
                self._repo_table_checks()
            self._check("rate limit", rate)

    def _app_checks(self, app: App, org: str) -> bool:
        """The app, its installation on the org and whether its permissions cover specctl's
        work: Administration: write to create repos; Contents: write and Members: read for
        the [repo] steps (README, teams)."""
        installation: dict[str, Any] = {}

        def about_app() -> str:
            info = app.info()
            owner = (info.get("owner") or {}).get("login")
            return f"{info.get('name')} ({info.get('slug')}), owned by {owner}"

        def about_installation() -> str:
            installation.update(app.installation(org))
            account = installation.get("account") or {}
            return (
                f"{installation.get('id')} on {account.get('login')} ({account.get('type')}); "
                f"repository selection: {installation.get('repository_selection')}"
            )

        if not (self._check("app", about_app) and self._check("installation", about_installation)):
            return False
        granted = installation.get("permissions") or {}
        if granted.get("administration") == "write":
            self.checks.append(Check("app permissions", "ok", "Administration: write (create repos)"))
        else:
            detail = (
                f"the app needs Administration: write on {org} to create repos; add it in the "
                f"app's settings and have {org} accept it"
            )
            self.checks.append(Check("app permissions", "fail", detail, EXIT_FAILED))
        missing = [
            label
            for name, level, label in (
                ("contents", "write", "Contents: write"),
                ("members", "read", "Members: read"),
            )
            if granted.get(name) not in (level, "write")
        ]
        if missing:
            detail = f"the [repo] steps need {' and '.join(missing)} (README, teams); the app lacks them"
            self.checks.append(Check("[repo] permissions", "warn", detail))
        else:
            self.checks.append(Check("[repo] permissions", "ok", "Contents: write, Members: read"))
        return True

    def _repo_table_checks(self) -> None:
        """The [repo] table against GitHub, reading only (SPEC "Provisioning")."""
        repo = self.rt.settings.repo_config()
        if repo is None:
            return
        org = self.rt.settings.org
        gh = self.rt.github()

        def template() -> str:
            assert repo.template is not None
            owner, name = repo.template.split("/", 1)
            data = gh.repo_data(owner, name)
            if data is None:
                raise SpecctlError(f"template {repo.template} not found, or the token can't see it")
            if not data.get("is_template"):
                raise SpecctlError(
                    f"{repo.template} is not a template repository; tick 'Template repository' "
                    "in its settings"
                )
            return f"{repo.template} is a template repository"

        def teams() -> str:
            missing = [t for t in repo.teams if gh.team(org, t) is None]
            if missing:
                raise SpecctlError(f"no team {', '.join(missing)} in {org}; create it or fix [repo] teams")
            return ", ".join(f"{t} ({p})" for t, p in repo.teams.items()) + f" exist in {org}"

        if repo.template:
            self._check("repo template", template)
            if repo.readme:
                self.checks.append(
                    Check(
                        "repo readme",
                        "warn",
                        "readme is ignored with a template: the template's content decides",
                    )
                )
        if repo.teams:
            self._check("repo teams", teams)
        if repo.topics is not None:
            self.checks.append(Check("repo topics", "ok", f"{len(repo.topics)} valid topics (of at most 20)"))
        needs = "Administration: write (settings, topics, teams)"
        if repo.seeds_readme:
            needs += " and Contents: write (README)"
        self.checks.append(Check("repo permissions", "ok", f"the [repo] steps need {needs}"))
