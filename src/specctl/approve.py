"""approve: move a spec to review, then ensure the project has exactly one repo.

No Typer, no Rich: the CLI prints what this returns. SPEC "approve, step by step":
1. the status transition is committed first and never rolled back;
2. a project that has a repo is left alone;
3. else `{org}/{slug}` is created (the project's own org, else the config's) and GitHub's
   `full_name` recorded as `auto`;
4. any failure leaves the approval standing and is recorded as an event and a log line;
5. never two repos for one project: each POST is recorded before it is sent, and a repo an
   earlier attempt may have made is found and adopted, never twinned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from specctl.errors import (
    EXIT_NO_REPO,
    EXIT_OK,
    GITHUB_UNAUTHORIZED,
    GitHubError,
    SpecctlError,
    StoreError,
    TransitionNotAllowed,
)
from specctl.names import check_slug
from specctl.store import Attempt, Project, Store

if TYPE_CHECKING:
    from specctl.github import Created, GitHub, Repo
    from specctl.provision import ProvisionResult
    from specctl.repo_config import RepoConfig

# As specctl.github.repos.MAY_HAVE_MADE (not imported from there: that loads httpx).
MAY_HAVE_MADE = ("sent", "unknown", "created")

CLOCK_SKEW = timedelta(minutes=1)  # for attempts timed by the local clock only (older specctl)
# For attempts timed by GitHub's clock: its Date and its created_at come from different machines
# in whole seconds; our reading of its Date errs early already.
GITHUB_SKEW = timedelta(seconds=2)
# GitHub's reads lag its writes by seconds: a POST with no answer older than this that left no
# visible repo did not make one (the name is taken by a repo the token cannot see).
READ_LAG = timedelta(minutes=10)
PAST_REVIEW = ("active", "complete")
CLAIM_POLL = 2.0  # seconds between looks at another run's claim on a project's repo


class ApproveOptions(NamedTuple):
    dry_run: bool = False
    no_repo: bool = False
    require_repo: bool = False


@dataclass
class ApproveResult:
    slug: str
    action: str  # created | adopted | skipped | failed | none
    project: Project | None = None
    error: SpecctlError | None = None
    exit_code: int = EXIT_OK
    approved_now: bool = False  # this run moved the spec from interviewing to review
    notes: list[str] = field(default_factory=list)  # what a person should know (dry-run, races)
    github_repo: str | None = None  # for dry-run: the repo it would create or adopt
    provision: ProvisionResult | None = None  # with a [repo] table: the convergence after linking

    @property
    def repo(self) -> str | None:
        """The repo the project has (or, in a dry run, would have)."""
        return self.github_repo or (self.project.github_repo if self.project else None)

    def to_dict(self) -> dict[str, Any]:
        p = self.project
        return {
            "slug": self.slug,
            "spec_status": p.spec_status if p else None,
            "github_repo": self.repo,
            "repo_source": p.repo_source if p else None,
            "action": self.action,
            "error": self.error.to_dict() if self.error else None,
        } | ({"provision": self.provision.to_dict()} if self.provision else {})


class LinkedMeanwhile(Exception):
    """The project got a repo (another process's, or a manual set-repo) while we were at it:
    stop before posting anything more."""

    def __init__(self, repo: str):
        super().__init__(repo)
        self.repo = repo


class ClaimLost(Exception):
    """This run's claim on creating the repo ran out and another run holds it now: post nothing
    more; that run creates or adopts the repo."""


class StoreAttemptLog:
    """Records each POST in the store before it is sent, and what its answer said after; says
    when an existing repo is this project's own: a POST of that owner and name may have made it
    (it got no definite answer, or `created`), and GitHub created it no earlier than that POST."""

    def __init__(
        self,
        store: Store,
        slug: str,
        run_id: str,
        org: str,
        github_now: Callable[[], datetime | None] = lambda: None,
    ):
        self.store = store
        self.slug = slug
        self.run_id = run_id
        self.org = org  # where attempts of an older specctl, which kept no owner, went
        self.github_now = github_now  # GitHub's clock, None when unknown
        self.holder: str | None = None
        self.lease: float | None = None

    def claim(self, holder: str, lease: float) -> None:
        """Renew `holder`'s claim for `lease` seconds before each POST; if it ran out and another
        run holds it now, post nothing (ClaimLost)."""
        self.holder, self.lease = holder, lease

    def before_post(self, owner: str, name: str) -> None:
        if self.holder and self.lease and self.store.claim_create(self.slug, self.holder, self.lease):
            raise ClaimLost()
        at = self.github_now()
        linked = self.store.record_attempt(self.slug, name, self.run_id, owner=owner, github_at=at)
        if linked is not None:
            raise LinkedMeanwhile(linked)

    def answered(self, name: str, outcome: str) -> None:
        try:
            self.store.set_attempt_outcome(self.slug, self.run_id, name, outcome)
        except StoreError:
            if outcome != "created":
                raise
            # The repo exists: the link write that follows meets the same trouble and names it;
            # the attempt stays `sent`, so the next approve adopts the repo.

    def pending(self, owner: str, name: str) -> bool:
        now, github_now = self.store.now(), self.github_now()
        return any(
            (github_now - a.github_at if a.github_at and github_now else now - a.at) <= READ_LAG
            for a in self._may_have_made(owner, name)
        )

    def is_ours(self, repo: Repo) -> bool:
        """Ours when it is what we would have created: private, where a POST of ours that may
        have made it went, and created no earlier than that POST."""
        linked = self.store.require(self.slug).github_repo
        if linked is not None and linked.lower() == repo.full_name.lower():
            return True  # a racing process created and recorded it
        attempts = self._may_have_made(repo.full_name.split("/")[0], repo.name)
        if not attempts or not repo.private or repo.created_at is None:
            return False
        return repo.created_at >= min(_earliest(a) for a in attempts)

    def retry_name(self, base: str) -> str | None:
        """Reuse the suffixed name an earlier or racing attempt chose, so two runs that both
        meet a squatted name converge on one repo instead of making one each."""
        for attempt in self.store.attempts(self.slug):
            if attempt.name.startswith(f"{base}-") and len(attempt.name) == len(base) + 5:
                return attempt.name
        return None

    def earlier_targets(self) -> list[tuple[str, str]]:
        """Each owner and name an earlier POST went to, first first."""
        targets = ((a.owner or self.org, a.name) for a in self.store.attempts(self.slug))
        return list(dict.fromkeys(targets))

    def _may_have_made(self, owner: str, name: str) -> list[Attempt]:
        """This project's POSTs of `owner/name` that may have made a repo (an older specctl's
        attempts kept no outcome: they may have)."""
        return [
            a
            for a in self.store.attempts(self.slug)
            if a.name.lower() == name.lower()
            and (a.owner or self.org).lower() == owner.lower()
            and (a.outcome is None or a.outcome in MAY_HAVE_MADE)
        ]


def _earliest(attempt: Attempt) -> datetime:
    """The earliest `created_at` GitHub can have given a repo this attempt made."""
    if attempt.github_at is not None:
        return attempt.github_at - GITHUB_SKEW
    return attempt.at - CLOCK_SKEW  # timed by the local clock alone


class Approver:
    """Approves projects one by one, sharing one GitHub client (and so its pacing)."""

    def __init__(
        self,
        store: Store,
        github: Callable[[], GitHub],
        org: str,
        options: ApproveOptions = ApproveOptions(),
        *,
        log: Callable[[dict[str, Any]], None] = lambda record: None,
        run_id: str | None = None,
        repo: RepoConfig | None = None,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = lambda message: None,
    ):
        self.store = store
        self._make_github = github
        self._github: GitHub | None = None
        self._github_error: GitHubError | None = None
        self.org = org
        self.options = options
        self.log = log
        self.run_id = run_id or _new_run_id()
        self.holder = f"{os.uname().nodename}:{os.getpid()}:{self.run_id}"  # who holds a claim
        self.repo = repo  # the [repo] table: create from its template, then converge to it
        self.sleep = sleep
        self.say = say  # a line for a person on stderr (waiting for another run)
        self._store_error: StoreError | None = None  # the store was lost: the batch stops here

    def github(self) -> GitHub:
        """Built on first need (a batch of skips needs no token); its failure, or GitHub's
        rejection of the token, is remembered for the rest of the run."""
        if self._github_error is not None:
            raise self._github_error
        if self._github is None:
            try:
                self._github = self._make_github()
            except GitHubError as e:
                self._github_error = e
                raise
        return self._github

    def approve(self, slug: str) -> ApproveResult:
        """One slug, start to end. A store lost on the way (a PostgreSQL server gone) fails this
        slug and every one after it without touching GitHub: no POST goes out whose attempt
        could not be recorded first, and the batch still reports each slug."""
        if self._store_error is not None:
            error = StoreError(f"{slug} not processed: {self._store_error.message}")
            return ApproveResult(slug, "none", error=error, exit_code=error.exit_code)
        try:
            return self._approve(slug)
        except StoreError as e:
            self._store_error = e
            return ApproveResult(slug, "none", error=e, exit_code=e.exit_code)

    def _approve(self, slug: str) -> ApproveResult:
        try:
            check_slug(slug)
            project, moved = self._transition(slug)
        except TransitionNotAllowed as e:
            return ApproveResult(slug, "none", self.store.get(slug), error=e, exit_code=e.exit_code)
        except StoreError:
            raise
        except SpecctlError as e:
            return ApproveResult(slug, "none", error=e, exit_code=e.exit_code)
        result = self._ensure_repo(project)
        result.approved_now = moved
        if self.repo is not None:
            result.provision = self._provision(result)
        ends_with_repo = result.action in ("created", "adopted", "skipped")  # also when predicted
        if self.options.require_repo and not ends_with_repo and result.exit_code == EXIT_OK:
            result.exit_code = EXIT_NO_REPO
        return result

    def _transition(self, slug: str) -> tuple[Project, bool]:
        """interviewing → review, committed before anything else; review stays (idempotent)."""
        while True:
            project = self.store.require(slug)
            if project.spec_status == "review":
                return project, False
            if project.spec_status in PAST_REVIEW:
                raise TransitionNotAllowed(
                    f"{slug} is {project.spec_status}: past review, nothing to approve "
                    f"(`specctl show {slug}` has its history)"
                )
            if self.options.dry_run:
                return project._replace(spec_status="review"), True
            if self.store.set_status(slug, expected=project.spec_status, new="review"):
                return self.store.require(slug), True
            # Another process moved it between our read and write: look again.

    def _ensure_repo(self, project: Project) -> ApproveResult:
        """Steps 2-5 for one approved project; with --dry-run, only GETs and a prediction."""
        slug, dry_run = project.slug, self.options.dry_run
        org = project.org or self.org
        if project.github_repo:
            return ApproveResult(slug, "skipped", project)
        if self.options.no_repo:
            return ApproveResult(slug, "none", project)
        try:
            github = self.github()
            attempts = StoreAttemptLog(self.store, slug, self.run_id, org, github.github_now)
            if dry_run:
                return self._predict(github, org, project, self._find_earlier(github, org, attempts))
            lease = github.create_lease()
            attempts.claim(self.holder, lease)
            with self._claim(slug, lease):
                return self._create_and_link(github, org, project, attempts)
        except GitHubError as e:
            if e.code == GITHUB_UNAUTHORIZED:
                self._github_error = e  # a rejected token stays rejected: the rest of the batch sends nothing
            return ApproveResult(slug, "failed", project, error=e) if dry_run else self._failed(project, e)
        except LinkedMeanwhile as e:
            note = f"{e.repo} was linked by another run meanwhile"
            return ApproveResult(slug, "skipped", self.store.require(slug), notes=[note])
        except ClaimLost:
            error = SpecctlError(
                f"{slug}: another run took over creating its repo (this run's claim ran out); "
                "run approve again to see the result",
                code="REPO_CLAIM_LOST",
            )
            return ApproveResult(slug, "failed", self.store.require(slug), error=error)

    @contextmanager
    def _claim(self, slug: str, lease: float) -> Iterator[None]:
        """Hold the right to create `slug`'s repo while the block runs. Another run holding it
        is waited for (said once on stderr) until it lets go or its claim runs out; a repo it
        linked meanwhile ends the wait (LinkedMeanwhile: skipped). A holder that was a process
        of this machine and is gone (killed) is not waited for."""
        said, dead = False, None
        while (other := self.store.claim_create(slug, self.holder, lease, replacing=dead)) is not None:
            self._raise_if_linked(slug)
            if _gone_from_this_machine(other.holder):
                dead = other.holder
                continue
            if not said:
                wait = f"at most {other.seconds_left:.0f} s"
                self.say(f"{slug}: another run is creating its repo; waiting for it ({wait})")
                said = True
            self.sleep(min(other.seconds_left, CLAIM_POLL))
        try:
            self._raise_if_linked(slug)
            yield
        finally:
            with suppress(StoreError):  # a store gone: the claim runs out by itself
                self.store.release_claim(slug, self.holder)

    def _raise_if_linked(self, slug: str) -> None:
        linked = self.store.require(slug).github_repo
        if linked is not None:
            raise LinkedMeanwhile(linked)

    def _create_and_link(
        self, github: GitHub, org: str, project: Project, attempts: StoreAttemptLog
    ) -> ApproveResult:
        """Under the claim: adopt what an earlier attempt made, else create; then link."""
        notes: list[str] = []
        earlier = self._find_earlier(github, org, attempts)
        if earlier is not None:
            repo, adopted = earlier, True
            owner = repo.full_name.split("/")[0]
            if owner.lower() != org.lower():  # the org was changed since (GITHUB_ORG)
                notes.append(f"{repo.full_name} was created by an earlier approve in {owner}, not in {org}")
        else:
            created = self._create(github, org, project.slug, project.description, attempts)
            repo, adopted = created.repo, created.adopted
        return self._link(project, repo, adopted, notes)

    def _find_earlier(self, github: GitHub, org: str, attempts: StoreAttemptLog) -> Repo | None:
        """A run cut off after GitHub created the repo left its attempt on record: look that
        name up where it went (the org may have changed since) and adopt it, rather than meet a
        422 and make a suffixed twin, or make a second repo in another org."""
        for owner, name in attempts.earlier_targets():
            repo = github.get_repo(owner, name)
            if repo is None and owner.lower() != org.lower() and attempts.pending(owner, name):
                # A POST there may have made it and GitHub's reads lag: no POST in this org
                # resolves that, so wait for it (a bounded time) rather than make a second repo.
                repo = github.await_repo(owner, name)
            if repo is not None and attempts.is_ours(repo):
                return repo
        return None

    def _link(self, project: Project, repo: Repo, adopted: bool, notes: list[str]) -> ApproveResult:
        kind, action = ("repo_adopted", "adopted") if adopted else ("repo_created", "created")
        details = {"private": repo.private, "html_url": repo.html_url}
        try:
            linked = self.store.link_repo_if_unset(project.slug, repo.full_name, kind=kind, details=details)
        except StoreError as e:
            # The repo exists on GitHub whatever the store says: name it, and the way back (the
            # attempt on record lets the next approve find and adopt it).
            raise StoreError(
                f"{e.message}; {repo.full_name} was {action} on GitHub but is not recorded: "
                f"once the store is writable, `specctl approve {project.slug}` adopts it"
            ) from None
        now = self.store.require(project.slug)
        if linked or (now.github_repo or "").lower() == repo.full_name.lower():
            return ApproveResult(project.slug, action, now, notes=notes)
        # A manual set-repo landed while we were creating: it wins (SPEC step 5).
        self.store.add_event(
            project.slug, "repo_superseded", {"repo": repo.full_name, "kept": now.github_repo}
        )
        note = f"{repo.full_name} was {action} but {now.github_repo} was set meanwhile and kept"
        return ApproveResult(project.slug, "skipped", now, notes=[note])

    def _failed(self, project: Project, error: GitHubError) -> ApproveResult:
        details = {"code": error.code, "http_status": error.http_status, "message": error.message}
        self.store.add_event(project.slug, "repo_create_failed", details)
        self.log(
            {
                "event": "repo_create_failed",
                "slug": project.slug,
                "status": error.http_status,
                "github_error": {"code": error.code, "message": error.message},
            }
        )
        return ApproveResult(project.slug, "failed", self.store.require(project.slug), error=error)

    def _predict(self, github: GitHub, org: str, project: Project, earlier: Repo | None) -> ApproveResult:
        """--dry-run: what the real run would do, learned with GETs only."""
        slug = project.slug
        if earlier is not None:
            return ApproveResult(slug, "adopted", project, github_repo=earlier.full_name)
        github.org(org)
        taken = github.get_repo(org, slug)
        result = ApproveResult(slug, "created", project, github_repo=f"{org}/{slug}")
        if taken is not None:
            result.github_repo = None
            result.notes.append(f"{taken.full_name} exists: a suffixed name {slug}-xxxx would be tried")
        return result

    # -- provisioning (SPEC "Provisioning") ---------------------------------------------------

    def _create(
        self, github: GitHub, org: str, slug: str, description: str, attempts: StoreAttemptLog
    ) -> Created:
        template = self.repo.template if self.repo else None
        if template:
            return github.generate_repo(template, org, slug, description, attempts)
        return github.create_org_repo(org, slug, description, attempts)

    def _provision(self, result: ApproveResult) -> ProvisionResult:
        """Converge the repo once it exists, `skipped` ones too (a re-run finishes the work);
        only an `auto` repo, never a `manual` one. A failed step leaves the approval as it is."""
        from specctl.provision import Provisioner, ProvisionResult

        if result.project is None or result.action not in ("created", "adopted", "skipped"):
            return ProvisionResult("none")
        assert self.repo is not None
        provisioner = Provisioner(
            self.store, self.github, self.repo, dry_run=self.options.dry_run, log=self.log
        )
        if self.options.dry_run and result.project.github_repo is None:
            return provisioner.predict_new()  # no repo to read yet
        return provisioner.converge(result.project)


def approve_all(
    approver: Approver,
    slugs: Iterable[str],
    on_result: Callable[[ApproveResult], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[list[ApproveResult], int]:
    """Approve each slug once (duplicates dropped), all of them whatever fails; the exit code
    is the highest of the per-slug codes. `stop()` is asked between slugs (an interrupt): a slug
    in hand is always finished, so the batch ends where a re-run picks it up."""
    results = []
    for slug in dict.fromkeys(slugs):
        if stop():
            break
        result = approver.approve(slug)
        results.append(result)
        if on_result:
            on_result(result)
    return results, max((r.exit_code for r in results), default=EXIT_OK)


def _gone_from_this_machine(holder: str) -> bool:
    """Whether a claim's holder (`host:pid:run`) was a process of this machine that has ended."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != os.uname().nodename or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: alive
        return False
    return False


def _new_run_id() -> str:
    return os.urandom(8).hex()  # as secrets.token_hex(8), without importing secrets (~5 ms)


def read_slugs(lines: Iterable[str]) -> Iterator[str]:
    """Slugs one per line; blank lines and `#` comments skipped."""
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            yield text
