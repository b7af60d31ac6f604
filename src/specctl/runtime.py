"""The one place that builds what talks to the world: settings, store, GitHub client, output,
clock and sleep. Commands ask it for what they need; tests hand it fakes. Built lazily, so a
command that only reads the store never imports httpx."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from specctl.config import (
    AppCredential,
    Settings,
    Token,
    check_api_url,
    parse_db,
    resolve,
    resolve_credential,
)
from specctl.output import Output
from specctl.store import Clock, Store, open_store, utcnow

if TYPE_CHECKING:
    from specctl.github import GitHub
    from specctl.github.app import App


class Options(NamedTuple):
    """The global options, as given on the command line."""

    db: str | None = None
    env: str | None = None
    json: bool = False
    quiet: bool = False
    verbose: bool = False


class Runtime:
    def __init__(
        self,
        options: Options,
        *,
        environ: Mapping[str, str] | None = None,
        now: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.options = options
        self.environ = os.environ if environ is None else environ
        self.now = now
        self.sleep = sleep
        self.clock = clock  # epoch seconds, for token expiry
        self._store: Store | None = None
        self._github: GitHub | None = None
        self._app: App | None = None
        self._others: list[Store] = []

    @cached_property
    def output(self) -> Output:
        return Output(json_mode=self.options.json, quiet=self.options.quiet, verbose=self.options.verbose)

    @cached_property
    def settings(self) -> Settings:
        return resolve(environ=self.environ, db_flag=self.options.db, env_flag=self.options.env)

    def store(self, *, create: bool = True) -> Store:
        """The store. `create=False` for every command but `add`: they read, or change projects
        that must already exist, so a missing store reads as empty and no file is left behind."""
        if self._store is None or (create and self._store.where == ":memory:"):
            s = self.settings
            self._store = open_store(s.db, create=create, busy_timeout=s.busy_timeout, now=self.now)
        return self._store

    def other_store(self, setting: str, *, create: bool) -> Store:
        """A store named on the command line (`store copy`), opened as the main one is and
        closed with it."""
        s = self.settings
        store = open_store(parse_db(setting), create=create, busy_timeout=s.busy_timeout, now=self.now)
        self._others.append(store)
        return store

    def check_github_config(self) -> None:
        """Bad GitHub config is exit 2 before anything changes (SPEC "Configuration"); with
        the app in use, that includes its key (unless a cached token makes it unneeded)."""
        check_api_url(self.settings.api_url)
        if self.settings.app_id is not None:
            credential = self.credential()
            if isinstance(credential, AppCredential):
                self.app(credential).preflight()

    def credential(self) -> Token | AppCredential:
        """GH_TOKEN > GITHUB_TOKEN > the app > config token > gh (config.resolve_credential)."""
        return resolve_credential(self.settings, self.environ)

    def app(self, credential: AppCredential) -> App:
        """The GitHub App of this run (one, so it mints at most once per installation)."""
        if self._app is None:
            from specctl.github.app import App, TokenCache

            cache = TokenCache.default(credential.api_url, credential.app_id)
            self._app = App(credential, self.settings.org, cache, clock=self.clock)
        return self._app

    def github(self) -> GitHub:
        """The client for api_url, built once (its pacing spans the run); raises
        GITHUB_TOKEN_MISSING when there is no token."""
        if self._github is not None:
            return self._github
        from specctl.github import GitHub

        self.check_github_config()
        s = self.settings
        credential = self.credential()
        self._github = GitHub.connect(
            s.api_url,
            credential if isinstance(credential, Token) else self.app(credential),
            timeout=s.timeout,
            pace=s.pace,
            max_wait=s.max_wait,
            concurrency=s.concurrency,
            sleep=self.sleep,
            clock=self.clock,
            trace=self.output.debug if self.options.verbose else None,
            on_wait=self._say_wait,
        )
        return self._github

    def _say_wait(self, seconds: float, reason: str) -> None:
        """A rate-limit wait can be a minute of silence: say it, even without -v."""
        until = (self.now() + timedelta(seconds=seconds)).strftime("%H:%M:%S UTC")
        self.output.info(f"waiting {seconds:.0f} s for {reason}, until {until}")

    def close(self) -> None:
        """Close the store (checkpointing its WAL) and the HTTP connections."""
        if self._github is not None:
            self._github.close()
        for store in [self._store, *self._others]:
            if store is not None:
                store.close()
