"""Slugs, project names and GitHub `owner/name` values: validation, generation, parsing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from specctl.errors import BadInput, shown

SLUG_MAX = 80
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
# C0, DEL, C1 (U+0085 breaks lines, U+009B starts an escape) and bidi overrides/isolates
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NAME_MAX = 200
DESCRIPTION_MAX = 1000

# GitHub's rules: an owner is alphanumeric with single inner hyphens, at most 39 characters;
# a repository name is at most 100 of [A-Za-z0-9._-] and not "." or "..".
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# Every form GitHub shows for a repo: the browser's address (with or without scheme, `www.`, or a
# page under the repo such as /tree/main, ?tab=… or #readme), the clone URLs (https, ssh, git).
_GITHUB_URL = re.compile(
    r"(?:(?:https?|ssh|git)://(?:git@)?(?:www\.)?github\.com(?::\d+)?/|(?:www\.)?github\.com/|git@github\.com:)"
    r"([^/?#]+)/([^/?#]+?)(?:\.git)?(?:[/?#].*)?",
    re.IGNORECASE,
)


def random_hex8() -> str:
    return os.urandom(4).hex()  # what secrets.token_hex(4) does, without importing secrets (~5 ms)


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and _SLUG.fullmatch(value) is not None


def check_slug(value: str) -> str:
    if not is_slug(value):
        raise BadInput(
            f"invalid slug {shown(value)}: use 1-{SLUG_MAX} characters of a-z, 0-9 and single "
            "inner '-' (e.g. acme-portal-3f9a1c07)"
        )
    return value


def slug_typed(value: str) -> str:
    """A slug as a person typed it to look a project up: `ACME-Portal` means `acme-portal`."""
    return value.lower() if value.isascii() else value


def fold_accents(text: str) -> str:
    """`Société Müller` → `Societe Muller`: NFKD, then the combining marks dropped."""
    import unicodedata  # only when a slug is made

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def make_slug(name: str, random_hex: Callable[[], str] = random_hex8) -> str:
    """The web app's slug: the name with accents folded and lower-cased, runs of other characters
    as one '-', trimmed, then '-' and 8 random hex characters; the base cut so the slug stays
    within 80 characters. The slug becomes a permanent repo name, hence the folding."""
    suffix = random_hex()
    base = _NOT_SLUG_CHARS.sub("-", fold_accents(name).lower()).strip("-")
    base = base[: SLUG_MAX - len(suffix) - 1].rstrip("-")
    return f"{base}-{suffix}" if base else suffix


def check_text(value: str, what: str, *, max_len: int, required: bool) -> str:
    if required and not value.strip():
        raise BadInput(f"{what} must not be empty")
    if len(value) > max_len:
        raise BadInput(f"{what} is {len(value)} characters long; at most {max_len} are allowed")
    if _CONTROL.search(value):
        raise BadInput(f"{what} {shown(value)} contains control characters (newline, tab, NUL…)")
    return value


def check_owner(value: str, what: str = "owner") -> str:
    if not _OWNER.fullmatch(value):
        raise BadInput(
            f"invalid {what} {shown(value)}: GitHub logins are 1-39 letters, digits and single inner '-'"
        )
    return value


def one_edit_apart(a: str, b: str) -> bool:
    """True when `b` is `a` with one character inserted, deleted, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    rest_a, rest_b = a[start:], b[start:]
    return (
        rest_a[1:] == rest_b[1:]  # replaced
        or rest_a[1:] == rest_b  # deleted from a
        or rest_a == rest_b[1:]  # inserted into a
        or (len(rest_a) > 1 and rest_a[1] + rest_a[0] + rest_a[2:] == rest_b)  # swapped
    )


def parse_repo(value: str) -> tuple[str, str]:
    """`owner/name`, or any URL GitHub shows for the repo: `https://github.com/owner/name/tree/main`,
    `github.com/owner/name`, `https://github.com/owner/name.git`, `git@github.com:owner/name.git`."""
    url = _GITHUB_URL.fullmatch(value)
    owner, _, name = value.partition("/") if url is None else (url[1], "/", url[2])
    if _OWNER.fullmatch(owner) is None or _REPO_NAME.fullmatch(name) is None or name in (".", ".."):
        raise BadInput(
            f"invalid repository {shown(value)}: expected OWNER/NAME (e.g. acme/portal, or "
            "https://github.com/acme/portal); a name is at most 100 of A-Z a-z 0-9 . _ -"
        )
    return owner, name
