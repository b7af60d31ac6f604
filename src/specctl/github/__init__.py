"""GitHub's REST API, as specctl needs it. Over an injected httpx.Client; knows no store and
no CLI. `transport` is the one request path (auth, limits, pacing, retries, errors); each
other module is one group of endpoints on top of it, gathered here in `GitHub`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from specctl._httpx import httpx
from specctl.config import Token
from specctl.github.account import AccountCalls
from specctl.github.provisioning import ProvisioningCalls
from specctl.github.repos import AttemptLog, Created, NoAttemptLog, Repo, RepoCalls, random_suffix
from specctl.github.transport import DEADLINE, MAX_BODY, Transport, http_client

if TYPE_CHECKING:
    from specctl.github.app import App

__all__ = ["AttemptLog", "Created", "GitHub", "NoAttemptLog", "Repo", "random_suffix"]


class GitHub(RepoCalls, ProvisioningCalls, AccountCalls):
    def __init__(
        self,
        client: httpx.Client,
        *,
        pace: float = 1.0,
        max_wait: float = 60.0,
        concurrency: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        suffix: Callable[[], str] = random_suffix,
        on_wait: Callable[[float, str], None] | None = None,
        deadline: float = DEADLINE,
        max_body: int = MAX_BODY,
    ):
        self.http = Transport(
            client,
            pace=pace,
            max_wait=max_wait,
            backoff=backoff,
            sleep=sleep,
            clock=clock,
            on_wait=on_wait,
            deadline=deadline,
            max_body=max_body,
        )
        self.concurrency = concurrency
        self.suffix = suffix
        self.app: App | None = None  # set when acting as a GitHub App

    @classmethod
    def connect(
        cls,
        api_url: str,
        credential: Token | App,
        *,
        timeout: float = 10.0,
        trace: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> GitHub:
        """A client for `api_url` with a token or as the app; `trace` gets one line per
        response (method, URL, status)."""
        kwargs.setdefault("deadline", max(DEADLINE, 3 * timeout))  # a long timeout asks for time
        github = cls(http_client(api_url, credential, timeout=timeout, trace=trace), **kwargs)
        if not isinstance(credential, Token):
            # The app's own requests (lookups, mints) take the same path, unpaced: they
            # create no content, and a mint happens inside another request's auth.
            h = github.http
            credential.bind(Transport(h.client, pace=0, max_wait=h.max_wait, sleep=h.sleep, clock=h.clock))
            github.app = credential
        return github

    @property
    def client(self) -> httpx.Client:
        return self.http.client

    def close(self) -> None:
        self.http.close()
