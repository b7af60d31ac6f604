"""Provisioning: bring a repo specctl made to the `[repo]` table, and keep it there (SPEC
"Provisioning: the repo the agency needs").

Plan, then apply: `read` asks GitHub what the repo looks like (GETs, `concurrency` at once),
`plan` is a pure function of the table and that observation giving the writes that differ,
`apply` sends exactly those, one at a time (the transport paces them). A converged repo costs
no write. `Provisioner` is the workflow around them: only `auto` repos, a failing step leaves
the others going, and the store gets one event per change set and per failure.
No Typer, no Rich: the CLI prints what this returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from specctl.errors import (
    EXIT_DRIFT,
    EXIT_FAILED,
    EXIT_OK,
    GITHUB_NOT_FOUND,
    GitHubError,
    SpecctlError,
)
from specctl.names import check_slug
from specctl.repo_config import RepoConfig
from specctl.store import Project, Store

if TYPE_CHECKING:
    from specctl.github import GitHub

README_PATH = "README.md"


class Change(NamedTuple):
    """One setting to bring from `before` to `after`; `result` says what became of it."""

    setting: str  # settings.NAME | topics | teams.SLUG | readme
    before: Any
    after: Any
    result: str = "planned"  # planned | applied | failed | not_applied

    @property
    def step(self) -> str:
        """The request that carries it: all settings go in one PATCH."""
        return "settings" if self.setting.startswith("settings.") else self.setting

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "from": self.before, "to": self.after, "result": self.result}


class Observed(NamedTuple):
    """What GitHub shows of a repo; None where it was not read (not configured, or it failed)."""

    settings: dict[str, Any] | None = None  # the repo object, settings included
    topics: list[str] | None = None
    teams: dict[str, str] | None = None  # team slug -> permission
    has_readme: bool | None = None


NEW_REPO = Observed(settings={}, topics=[], teams={}, has_readme=False)  # what a dry run assumes


def plan(repo: RepoConfig, observed: Observed) -> list[Change]:
    """The writes that bring `observed` to `repo`: settings by value, topics as a set (order
    and case don't matter), teams additive with the exact permission, a README only when
    `readme` is on, there is no template and the repo has none."""
    changes = []
    if observed.settings is not None:
        for name, wanted in repo.settings.items():
            have = observed.settings.get(name)
            if not _same_setting(have, wanted):
                changes.append(Change(f"settings.{name}", have, wanted))
    topics = None if observed.topics is None else {t.lower() for t in observed.topics}
    if repo.topics is not None and topics is not None and topics != set(repo.topics):
        changes.append(Change("topics", observed.topics, list(repo.topics)))
    if observed.teams is not None:
        for team, permission in repo.teams.items():
            if observed.teams.get(team) != permission:
                changes.append(Change(f"teams.{team}", observed.teams.get(team), permission))
    if repo.seeds_readme and observed.has_readme is False:
        changes.append(Change("readme", None, README_PATH))
    return changes


def _same_setting(have: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):  # homepage: GitHub reports an unset one as null
        return (have or "") == wanted
    return bool(have == wanted)


def read(github: GitHub, full_name: str, repo: RepoConfig) -> tuple[Observed, dict[str, GitHubError]]:
    """Read what the table asks about, up to `github.concurrency` GETs at once. A read that
    fails leaves its part None and its error under its step's name; the others still count."""
    owner, name = full_name.split("/", 1)
    reads: dict[str, Callable[[], Any]] = {"settings": lambda: github.repo_data(owner, name)}
    if repo.topics is not None:
        reads["topics"] = lambda: github.topics(owner, name)
    if repo.teams:
        reads["teams"] = lambda: github.repo_teams(owner, name)
    if repo.seeds_readme:
        reads["readme"] = lambda: github.has_readme(owner, name)
    values: dict[str, Any] = {}
    errors: dict[str, GitHubError] = {}

    def one(step: str) -> None:
        try:
            values[step] = reads[step]()
        except GitHubError as e:
            errors[step] = e

    if github.concurrency > 1 and len(reads) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(github.concurrency, len(reads))) as pool:
            list(pool.map(one, reads))
    else:
        for step in reads:
            one(step)
    if "settings" in values and values["settings"] is None:  # deleted, renamed away, or hidden
        message = f"repo {full_name} not found, or the token can't see it"
        return Observed(), {"repo": GitHubError(GITHUB_NOT_FOUND, message, http_status=404)}
    observed = Observed(
        values.get("settings"), values.get("topics"), values.get("teams"), values.get("readme")
    )
    return observed, errors


def apply(
    github: GitHub, project: Project, changes: list[Change]
) -> tuple[list[Change], dict[str, GitHubError]]:
    """Send exactly the plan's writes, in order, one request per step; a failing step marks
    its changes failed and the next step is still tried."""
    assert project.github_repo is not None
    owner, name = project.github_repo.split("/", 1)
    done: list[Change] = []
    errors: dict[str, GitHubError] = {}
    for step, group in _steps(changes):
        try:
            if step == "settings":
                wanted = {c.setting.removeprefix("settings."): c.after for c in group}
                now = github.update_repo(owner, name, wanted)
                # A plan limit: GitHub answers 200 and keeps the old value. Say so, don't retry.
                done += [
                    c._replace(result="applied" if _same_setting(now.get(n), c.after) else "not_applied")
                    for n, c in zip(wanted, group, strict=True)
                ]
                continue
            if step == "topics":
                github.set_topics(owner, name, group[0].after)
            elif step.startswith("teams."):
                github.set_team_permission(owner, step.removeprefix("teams."), owner, name, group[0].after)
            elif step == "readme":
                github.create_file(owner, name, README_PATH, readme_text(project), "Add README (specctl)")
        except GitHubError as e:
            errors[step] = e
            done += [c._replace(result="failed") for c in group]
        else:
            done += [c._replace(result="applied") for c in group]
    return done, errors


def _steps(changes: list[Change]) -> list[tuple[str, list[Change]]]:
    steps: dict[str, list[Change]] = {}
    for change in changes:
        steps.setdefault(change.step, []).append(change)
    return list(steps.items())


def readme_text(project: Project) -> str:
    return f"# {project.name}\n\n{project.description}\n" if project.description else f"# {project.name}\n"


@dataclass
class ProvisionResult:
    status: str  # done | partial | none | planned
    changes: list[Change] = field(default_factory=list)
    error: SpecctlError | None = None
    failed_steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
            "error": self.error.to_dict() if self.error else None,
        }


class Provisioner:
    """Converges projects' repos to one `[repo]` table, sharing one GitHub client."""

    def __init__(
        self,
        store: Store,
        github: Callable[[], GitHub],
        repo: RepoConfig,
        *,
        dry_run: bool = False,
        log: Callable[[dict[str, Any]], None] = lambda record: None,
    ):
        self.store = store
        self.github = github
        self.repo = repo
        self.dry_run = dry_run  # GETs only: the plan, as `planned`
        self.log = log

    def converge(self, project: Project) -> ProvisionResult:
        """Read, plan, apply (or, in a dry run, stop at the plan). Never a `manual` repo."""
        if project.github_repo is None or project.repo_source != "auto":
            return ProvisionResult("none")
        try:
            observed, failures = read(self.github(), project.github_repo, self.repo)
        except GitHubError as e:  # no client at all: no token, bad credentials
            observed, failures = Observed(), {"repo": e}
        known = self._known_not_applied(project.slug)
        changes = [c for c in plan(self.repo, observed) if _key(c.setting, c.before, c.after) not in known]
        if not self.dry_run and changes:
            changes, write_failures = apply(self.github(), project, changes)
            failures.update(write_failures)
        self._record(project.slug, changes, failures)
        if failures:
            status = "partial"
        elif self.dry_run and changes:
            status = "planned"
        else:
            status = "done"
        error = next(iter(failures.values()), None)
        return ProvisionResult(status, changes, error, list(failures))

    def predict_new(self) -> ProvisionResult:
        """A dry run of approve for a repo not created yet: every write a new repo would get."""
        return ProvisionResult("planned", plan(self.repo, NEW_REPO))

    def _known_not_applied(self, slug: str) -> set[str]:
        """Settings GitHub accepted but did not apply on an earlier run: reported then, once;
        asked again only when the repo or the table changes them."""
        return {
            _key(c["setting"], c["from"], c["to"])
            for event in self.store.events(slug)
            if event.kind == "repo_provisioned"
            for c in event.details.get("changes", [])
            if c.get("result") == "not_applied"
        }

    def _record(self, slug: str, changes: list[Change], failures: dict[str, GitHubError]) -> None:
        if self.dry_run:
            return
        for step, e in failures.items():
            details = {"step": step, "code": e.code, "http_status": e.http_status, "message": e.message}
            self.store.add_event(slug, "repo_provision_failed", details)
            self.log(
                {
                    "event": "repo_provision_failed",
                    "slug": slug,
                    "step": step,
                    "status": e.http_status,
                    "github_error": {"code": e.code, "message": e.message},
                }
            )
        changed = [c.to_dict() for c in changes if c.result in ("applied", "not_applied")]
        if changed:
            self.store.add_event(slug, "repo_provisioned", {"changes": changed})


def _key(setting: str, before: Any, after: Any) -> str:
    import json

    return json.dumps([setting, before, after], sort_keys=True)


@dataclass
class SlugResult:
    """One slug of `specctl provision`."""

    slug: str
    project: Project | None
    provision: ProvisionResult
    exit_code: int = EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        repo = self.project.github_repo if self.project else None
        return {"slug": self.slug, "github_repo": repo, "provision": self.provision.to_dict()}


def provision_all(
    provisioner: Provisioner,
    slugs: Iterable[str],
    *,
    check: bool = False,
    on_result: Callable[[SlugResult], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[list[SlugResult], int]:
    """Converge each slug once (duplicates dropped); exit code the highest per slug: 1 for a
    failed step, 3 for an unknown slug, 7 with `check` when a repo differs from the table.
    `stop()` is asked between slugs (an interrupt): the slug in hand is always finished."""
    results = []
    for slug in dict.fromkeys(slugs):
        if stop():
            break
        try:
            project = provisioner.store.require(check_slug(slug))
        except SpecctlError as e:
            result = SlugResult(slug, None, ProvisionResult("none", error=e), e.exit_code)
        else:
            outcome = provisioner.converge(project)
            code = EXIT_FAILED if outcome.status == "partial" else EXIT_OK
            if check and any(c.result == "planned" for c in outcome.changes):
                code = EXIT_DRIFT
            result = SlugResult(slug, project, outcome, code)
        results.append(result)
        if on_result:
            on_result(result)
    return results, max((r.exit_code for r in results), default=EXIT_OK)


def auto_repo_slugs(store: Store) -> list[str]:
    """`--all`: every project with a repo specctl created or adopted."""
    return [p.slug for p in store.projects(has_repo=True) if p.repo_source == "auto"]
