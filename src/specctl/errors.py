"""The domain errors and the exit code each one maps to (SPEC "Exit codes").

Every failure a user can cause or meet is one of these; the CLI boundary turns them into
one line on stderr (or a JSON error document) and the exit code. Nothing else decides exit codes.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_AUTH = 4
EXIT_TRANSITION = 5
EXIT_NO_REPO = 6
EXIT_DRIFT = 7  # provision --check: a repo differs from the [repo] table

REDACTED = "****"
_secrets: tuple[str, ...] = ()  # longest first; replaced whole, so threads may read it freely


def register_secret(value: str) -> None:
    """Make `value` unprintable: every SpecctlError message, and all text passed to redact(),
    shows it as ****. For the token, a DB password, installation tokens. Values under 4
    characters are not secrets worth masking every word that contains them."""
    global _secrets
    if len(value) >= 4 and value not in _secrets:
        _secrets = tuple(sorted({*_secrets, value}, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every registered secret masked; before any cutting short, so no prefix
    of a secret survives."""
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


class SpecctlError(Exception):
    """Base class: a message for people, a stable code for scripts, an exit code."""

    exit_code = EXIT_FAILED
    code = "FAILED"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        message = redact(message)  # GitHub or a proxy may echo a secret back
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.http_status = http_status

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "http_status": self.http_status}


class BadInput(SpecctlError):
    exit_code = EXIT_USAGE
    code = "BAD_INPUT"


class ConfigError(BadInput):
    code = "CONFIG_INVALID"


class ProjectNotFound(SpecctlError):
    exit_code = EXIT_NOT_FOUND
    code = "PROJECT_NOT_FOUND"


class TransitionNotAllowed(SpecctlError):
    exit_code = EXIT_TRANSITION
    code = "TRANSITION_NOT_ALLOWED"


class StoreError(SpecctlError):
    code = "STORE_UNAVAILABLE"


# GitHub error codes shared by JSON output, log lines and events (SPEC "GitHub").
GITHUB_UNAUTHORIZED = "GITHUB_UNAUTHORIZED"
GITHUB_FORBIDDEN = "GITHUB_FORBIDDEN"
GITHUB_NOT_FOUND = "GITHUB_NOT_FOUND"
GITHUB_REPO_NAME_TAKEN = "GITHUB_REPO_NAME_TAKEN"
GITHUB_VALIDATION = "GITHUB_VALIDATION"
GITHUB_RATE_LIMITED = "GITHUB_RATE_LIMITED"
GITHUB_UNAVAILABLE = "GITHUB_UNAVAILABLE"
GITHUB_TOKEN_MISSING = "GITHUB_TOKEN_MISSING"

_AUTH_CODES = {GITHUB_UNAUTHORIZED, GITHUB_TOKEN_MISSING}


class GitHubError(SpecctlError):
    """GitHub said no, or could not be reached. The message never holds the token."""

    code = GITHUB_UNAVAILABLE

    def __init__(self, code: str, message: str, *, http_status: int | None = None):
        super().__init__(message, code=code, http_status=http_status)
        self.exit_code = EXIT_AUTH if code in _AUTH_CODES else EXIT_FAILED


def shown(value: object, limit: int = 60) -> str:
    """A user's value fit for a one-line message: quoted, escaped, cut short."""
    text = repr(redact(value) if isinstance(value, str) else value)
    return text if len(text) <= limit else text[: limit - 4] + ("...'" if isinstance(value, str) else "...")
