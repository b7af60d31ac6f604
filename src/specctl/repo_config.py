"""The `[repo]` config table: what every repo specctl creates must look like (SPEC "Provisioning").

Parsed and checked as a whole when the config is read, so a bad table is exit 2 for every
command, before anything is created. `[env.NAME.repo]` overrides it key by key; a key's value
(the `teams` table, the `topics` list) is replaced whole, never merged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")
MAX_TOPICS = 20
_TOPIC = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")  # GitHub: lowercase, digits, '-', ≤ 50, no leading '-'
_TEAM_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# The repo settings the table may hold, each with the type GitHub reports it as (PATCH /repos/{o}/{r}).
SETTINGS: dict[str, type] = {
    "has_issues": bool,
    "has_projects": bool,
    "has_wiki": bool,
    "has_discussions": bool,
    "homepage": str,
    "allow_squash_merge": bool,
    "allow_merge_commit": bool,
    "allow_rebase_merge": bool,
    "allow_auto_merge": bool,
    "delete_branch_on_merge": bool,
}
KEYS = ("template", "teams", "topics", "readme", *SETTINGS)


class RepoConfig(NamedTuple):
    """The table, parsed. A key left out is None (or empty): nothing is asked of it."""

    template: str | None
    teams: dict[str, str]  # team slug -> permission
    topics: tuple[str, ...] | None  # None: topics are left alone; () clears them
    readme: bool
    settings: dict[str, Any]  # setting name -> value, only those given

    @property
    def seeds_readme(self) -> bool:
        """`readme` is ignored with a template: the template's content decides."""
        return self.readme and self.template is None


def parse_repo_table(table: Any, where: str = "[repo]") -> RepoConfig:
    """The table as a RepoConfig; ValueError naming the key when anything in it is wrong."""
    if not isinstance(table, Mapping):
        raise ValueError(f'{where} must be a table, e.g. [repo] with teams = {{ developers = "push" }}')
    for key in table:
        if key not in KEYS:
            raise ValueError(f"{where}: unknown key {key!r}; the keys are {', '.join(KEYS)}")
    settings = {}
    for name, kind in SETTINGS.items():
        if name in table:
            settings[name] = _typed(table[name], kind, f"{where} {name}")
    return RepoConfig(
        template=_template(table["template"], where) if "template" in table else None,
        teams=_teams(table["teams"], where) if "teams" in table else {},
        topics=_topics(table["topics"], where) if "topics" in table else None,
        readme=_typed(table.get("readme", False), bool, f"{where} readme"),
        settings=settings,
    )


def merged_repo_table(data: Mapping[str, Any], env_name: str | None) -> RepoConfig | None:
    """`[repo]` with `[env.NAME.repo]` over it key by key; None when neither is there."""
    base = data.get("repo")
    over = data.get("env", {}).get(env_name, {}).get("repo") if env_name else None
    if base is None and over is None:
        return None
    return parse_repo_table({**(base or {}), **(over or {})}, f"[env.{env_name}.repo]" if over else "[repo]")


def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        expected = "true or false" if kind is bool else "a string"
        raise ValueError(f"{what} = {value!r}: expected {expected}")
    return value


def _template(value: Any, where: str) -> str:
    from specctl.errors import BadInput
    from specctl.names import parse_repo

    if not isinstance(value, str):
        raise ValueError(f'{where} template = {value!r}: expected "OWNER/NAME" of a template repo')
    try:
        owner, name = parse_repo(value)
    except BadInput as e:
        raise ValueError(f"{where} template: {e.message}") from None
    return f"{owner}/{name}"


def _teams(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f'{where} teams = {value!r}: expected a table such as {{ developers = "push" }}')
    teams = {}
    for slug, permission in value.items():
        if not _TEAM_SLUG.fullmatch(slug):
            raise ValueError(f"{where} teams: {slug!r} is not a team slug")
        if permission not in PERMISSIONS:
            raise ValueError(
                f"{where} teams.{slug} = {permission!r}: expected one of {', '.join(PERMISSIONS)}"
            )
        teams[slug.lower()] = permission
    return teams


def _topics(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f'{where} topics = {value!r}: expected a list such as ["client"]')
    for topic in value:
        if not isinstance(topic, str) or not _TOPIC.fullmatch(topic):
            raise ValueError(
                f"{where} topics: {topic!r} is not a valid topic (lowercase letters, digits and '-', "
                "starting with a letter or digit, at most 50 characters)"
            )
    topics = tuple(dict.fromkeys(value))
    if len(topics) > MAX_TOPICS:
        raise ValueError(f"{where} topics: {len(topics)} topics; GitHub allows at most {MAX_TOPICS}")
    return topics
