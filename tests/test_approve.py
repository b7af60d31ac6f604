"""The approve workflow (no CLI): the seed's slices 5-7, and "never two repos for one project"."""

import json
import os
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import pytest

from conftest import ORG, TOKEN, file_hash
from specctl.approve import (
    ApproveOptions,
    Approver,
    LinkedMeanwhile,
    StoreAttemptLog,
    approve_all,
    read_slugs,
)
from specctl.config import Token
from specctl.errors import GITHUB_TOKEN_MISSING, GitHubError, StoreError
from specctl.github import GitHub, Repo
from specctl.store import stamp
from test_github import CREATE, repo_json


def no_sleep(seconds):
    pass


@pytest.fixture
def gh_api(httpx_mock):
    """A client for the mocked api.github.com; its first create learns GitHub's clock first."""
    date = formatdate(usegmt=True)
    httpx_mock.add_response(url="https://api.github.com/rate_limit", json={}, headers={"Date": date})
    client = GitHub.connect("https://api.github.com", Token(TOKEN, "GH_TOKEN"), pace=0, sleep=no_sleep)
    yield client
    client.close()


@pytest.fixture
def gh_double(double):
    """A client for the GitHub double over real HTTP."""
    client = GitHub.connect(
        double.url, Token(TOKEN, "GH_TOKEN"), pace=0, sleep=no_sleep, suffix=lambda: "s1x2"
    )
    yield client
    client.close()


class Killed(BaseException):
    """kill -9 right after the POST went out: nothing after it runs."""


@pytest.fixture
def connect(double):
    """Clients for the GitHub double: with a fake `sleep`, on a machine whose clock is `ahead`
    of GitHub's, or killed right after a POST is sent. Closed at the end."""
    clients = []

    def make(sleep=no_sleep, ahead=0.0, killed_after_post=False):
        gh = GitHub.connect(double.url, Token(TOKEN, "GH_TOKEN"), pace=0, sleep=sleep,
                            clock=lambda: time.time() + ahead, suffix=lambda: "s1x2")  # fmt: skip
        clients.append(gh)
        if killed_after_post:
            send = gh.http.send

            def send_then_die(method, url, **kwargs):
                response = send(method, url, **kwargs)
                if method == "POST":
                    raise Killed()
                return response

            gh.http.send = send_then_die
        return gh

    yield make
    for gh in clients:
        gh.close()


def approver(store, github, clock, logs=None, **options):
    factory = github if callable(github) and not isinstance(github, GitHub) else (lambda: github)
    log = logs.append if logs is not None else (lambda record: None)
    return Approver(store, factory, ORG, ApproveOptions(**options), log=log)


def contents(store):
    """Everything a store holds, to tell whether anything was written, on either engine."""
    return [(p, store.events(p.slug), store.attempts(p.slug)) for p in store.projects()]


def add(store, slug="acme", status="interviewing", description="Client portal"):
    return store.add(slug=slug, name=slug.title(), description=description, status=status)


# -- the seed's slices 5-7 ------------------------------------------------------------------


def test_approve_auto_creates_the_repo_and_persists_it(store, gh_api, httpx_mock, clock):
    add(store)
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    result = approver(store, gh_api, clock).approve("acme")
    assert (result.action, result.exit_code) == ("created", 0)
    project = store.require("acme")
    assert (project.spec_status, project.github_repo, project.repo_source) == (
        "review",
        f"{ORG}/acme",
        "auto",
    )
    assert [e.kind for e in store.events("acme")] == ["project_added", "status_changed", "repo_created"]
    assert json.loads(httpx_mock.get_request(method="POST").content)["description"] == "Client portal"


def test_approve_skips_creation_when_a_repo_is_set(store, clock):
    add(store)
    store.set_manual_repo("acme", "client/portal")

    def no_github():
        raise AssertionError("GitHub must not be touched")

    result = approver(store, no_github, clock).approve("acme")
    assert (result.action, result.exit_code) == ("skipped", 0)
    project = store.require("acme")
    assert (project.spec_status, project.github_repo, project.repo_source) == (
        "review",
        "client/portal",
        "manual",
    )


def test_approve_is_resilient_when_creation_fails(store, gh_api, httpx_mock, clock):
    add(store)
    httpx_mock.add_response(
        method="POST", url=CREATE, status_code=403, json={"message": "Resource not accessible by personal access token"},
        headers={"X-Accepted-GitHub-Permissions": "administration=write"},
    )  # fmt: skip
    logs = []
    result = approver(store, gh_api, clock, logs).approve("acme")
    assert (result.action, result.exit_code, result.error.code) == ("failed", 0, "GITHUB_FORBIDDEN")
    assert store.require("acme").spec_status == "review"
    assert store.require("acme").github_repo is None
    assert logs == [{
        "event": "repo_create_failed", "slug": "acme", "status": 403,
        "github_error": {"code": "GITHUB_FORBIDDEN", "message": result.error.message},
    }]  # fmt: skip
    event = store.events("acme")[-1]
    assert event.kind == "repo_create_failed"
    assert event.details == {"code": "GITHUB_FORBIDDEN", "http_status": 403, "message": result.error.message}
    assert TOKEN not in repr(logs) + repr(store.events("acme"))


# -- status rules ----------------------------------------------------------------------------


def test_approve_again_is_idempotent_but_retries_the_repo(store, gh_api, httpx_mock, clock):
    add(store)
    httpx_mock.add_response(method="POST", url=CREATE, status_code=500, json={"message": "boom"})
    httpx_mock.add_response(url=f"https://api.github.com/repos/{ORG}/acme", status_code=404)
    httpx_mock.add_response(method="POST", url=CREATE, status_code=422, json={"message": "Repository creation failed.",
                            "errors": [{"field": "visibility", "code": "custom", "message": "Visibility can't be private."}]})  # fmt: skip
    first = approver(store, gh_api, clock).approve("acme")
    assert first.action == "failed"
    # The first run's attempts are on record: the second looks the name up before posting.
    httpx_mock.add_response(url=f"https://api.github.com/repos/{ORG}/acme", status_code=404)
    httpx_mock.add_response(method="POST", url=CREATE, status_code=201, json=repo_json("acme"))
    second = approver(store, gh_api, clock).approve("acme")
    assert (second.action, second.approved_now) == ("created", False)
    kinds = [e.kind for e in store.events("acme")]
    assert kinds.count("status_changed") == 1
    assert kinds == ["project_added", "status_changed", "repo_create_failed", "repo_created"]


@pytest.mark.parametrize("status", ["active", "complete"])
def test_past_review_is_refused_with_exit_5(store, clock, status):
    add(store, status=status)
    result = approver(store, lambda: pytest.fail("no GitHub"), clock).approve("acme")
    assert (result.action, result.exit_code, result.error.code) == ("none", 5, "TRANSITION_NOT_ALLOWED")
    assert result.to_dict()["spec_status"] == status
    assert [e.kind for e in store.events("acme")] == ["project_added"]


def test_unknown_and_malformed_slugs_are_reported_not_raised(store, clock):
    a = approver(store, lambda: pytest.fail("no GitHub"), clock)
    assert (a.approve("nope").exit_code, a.approve("No Pe").exit_code) == (3, 2)


def test_missing_token_fails_the_repo_not_the_approval(store, clock):
    add(store)

    def no_token():
        raise GitHubError(GITHUB_TOKEN_MISSING, "no GitHub token")

    result = approver(store, no_token, clock, require_repo=True).approve("acme")
    assert (result.action, result.exit_code, result.error.code) == ("failed", 6, GITHUB_TOKEN_MISSING)
    assert store.require("acme").spec_status == "review"


def test_no_repo_approves_without_github(store, clock):
    add(store)
    result = approver(store, lambda: pytest.fail("no GitHub"), clock, no_repo=True).approve("acme")
    assert (result.action, result.exit_code) == ("none", 0)
    assert store.require("acme").spec_status == "review"


def test_batch_processes_each_slug_once_and_exits_with_the_highest_code(store, clock):
    add(store, "a")
    add(store, "done", status="complete")
    seen = []
    a = approver(store, lambda: pytest.fail("no GitHub"), clock, no_repo=True)
    results, code = approve_all(a, ["a", "missing", "a", "done"], seen.append)
    assert [r.slug for r in results] == ["a", "missing", "done"] == [r.slug for r in seen]
    assert [r.exit_code for r in results] == [0, 3, 5]
    assert code == 5


def test_read_slugs_skips_blanks_and_comments():
    assert list(read_slugs(["a\n", "\n", "# all of b\n", "  c  # the third\n", "   \n"])) == ["a", "c"]


# -- never two repos for one project --------------------------------------------------------


def test_lost_answer_is_adopted_in_the_same_run(store, gh_double, double, clock):
    add(store)
    double.fault("POST", f"/orgs/{ORG}/repos", after_create="drop")
    result = approver(store, gh_double, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.created == [f"{ORG}/acme"]
    assert [a.name for a in store.attempts("acme")] == ["acme"]


def test_a_run_cut_off_after_github_created_the_repo_is_adopted_next_time(store, gh_double, double, clock):
    add(store)
    store.set_status("acme", expected="interviewing", new="review")
    store.record_attempt("acme", "acme", "killed-run")  # the killed run recorded, then POSTed ...
    double.add_repo(ORG, "acme")  # ... and GitHub made the repo; the store never heard back
    result = approver(store, gh_double, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.requests("POST") == []  # found with a GET, no 422, no twin
    assert [e.kind for e in store.events("acme")][-1] == "repo_adopted"


def test_a_cut_off_suffixed_attempt_is_adopted_not_twinned(store, gh_double, double, clock):
    add(store)
    double.add_repo(ORG, "acme", created_at="2020-01-01T00:00:00Z")  # someone else's, long ago
    store.record_attempt("acme", "acme", "killed-run")
    store.record_attempt("acme", "acme-q9w8", "killed-run")
    double.add_repo(ORG, "acme-q9w8")
    result = approver(store, gh_double, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme-q9w8")
    assert double.requests("POST") == []


def test_someone_elses_same_named_repo_is_not_adopted(store, gh_double, double, clock):
    add(store)
    double.add_repo(ORG, "acme", created_at="2020-01-01T00:00:00Z")
    result = approver(store, gh_double, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("created", f"{ORG}/acme-s1x2")
    assert double.created == [f"{ORG}/acme-s1x2"]


def test_a_recent_same_named_repo_without_a_record_of_ours_is_not_adopted(store, gh_double, double, clock):
    add(store)
    double.add_repo(ORG, "acme")  # created seconds ago, but we never tried: it is someone else's
    result = approver(store, gh_double, clock).approve("acme")
    assert result.action == "created"
    assert store.require("acme").github_repo == f"{ORG}/acme-s1x2"


def test_a_manual_set_repo_during_creation_wins(store, double, clock):
    add(store)

    class RacingGitHub(GitHub):
        def create_org_repo(self, *args, **kwargs):
            created = super().create_org_repo(*args, **kwargs)
            store.set_manual_repo("acme", "client/portal")  # the admin, meanwhile
            return created

    gh = RacingGitHub(GitHub.connect(double.url, Token(TOKEN, "x")).client, pace=0)
    result = approver(store, gh, clock).approve("acme")
    project = store.require("acme")
    assert (result.action, project.github_repo, project.repo_source) == ("skipped", "client/portal", "manual")
    assert "kept" in result.notes[0]
    assert store.events("acme")[-1].kind == "repo_superseded"


def test_clear_then_approve_creates_a_new_repo_instead_of_adopting_the_old(store, gh_double, double, clock):
    add(store)
    approver(store, gh_double, clock).approve("acme")
    store.set_manual_repo("acme", None)
    result = approver(store, gh_double, clock).approve("acme")
    assert result.action == "created"
    assert double.created == [f"{ORG}/acme", f"{ORG}/acme-s1x2"]


def test_dry_run_changes_nothing_and_posts_nothing(store, gh_double, double, clock, db_path):
    add(store, "a")
    add(store, "b")
    store.set_manual_repo("b", "client/b")
    double.add_repo(ORG, "taken")
    add(store, "taken")
    before, before_rows = file_hash(db_path), contents(store)
    a = approver(store, gh_double, clock, dry_run=True)
    results = {r.slug: r for r in approve_all(a, ["a", "b", "taken"])[0]}
    assert {s: r.action for s, r in results.items()} == {"a": "created", "b": "skipped", "taken": "created"}
    assert results["a"].to_dict()["spec_status"] == "review"
    assert results["a"].to_dict()["github_repo"] == f"{ORG}/a"
    assert "suffixed" in results["taken"].notes[0]
    assert (file_hash(db_path), contents(store)) == (before, before_rows)  # the file: on SQLite
    assert store.require("a").spec_status == "interviewing"
    assert double.requests("POST") == []


# -- the attempt log's rule ------------------------------------------------------------------


def repo(name, created):
    return Repo(f"{ORG}/{name}", name, True, "private", "main", None, created)


def test_attempt_log_adopts_only_what_an_earlier_attempt_may_have_made(store, clock):
    add(store)
    log = StoreAttemptLog(store, "acme", "this-run", ORG)
    log.before_post(ORG, "acme")
    recent = repo("acme", clock.now + timedelta(seconds=2))
    assert log.is_ours(recent) is True  # no answer yet: it may have landed
    log.answered("acme", "unknown")
    assert log.is_ours(recent) is True  # our answer was lost
    log.answered("acme", "name_taken")
    assert log.is_ours(recent) is False  # our POST was refused
    StoreAttemptLog(store, "acme", "other-run", ORG).before_post(ORG, "acme")  # a racing process
    assert log.is_ours(recent) is True
    skewed = repo("acme", clock.now - timedelta(seconds=50))
    assert log.is_ours(skewed) is True  # within a minute of skew
    old = repo("acme", clock.now - timedelta(minutes=5))
    assert log.is_ours(old) is False
    assert stamp(clock.now) in [stamp(a.at) for a in store.attempts("acme")]


def test_attempt_log_keeps_each_posts_outcome(store, clock):
    add(store)
    log = StoreAttemptLog(store, "acme", "run", ORG)
    for name, outcome in [("acme", "unknown"), ("acme", "name_taken"), ("acme-k3j4", "created")]:
        log.before_post(ORG, name)
        assert store.attempts("acme")[-1].outcome == "sent"
        log.answered(name, outcome)
    assert [(a.owner, a.name, a.outcome) for a in store.attempts("acme")] == [
        (ORG, "acme", "unknown"), (ORG, "acme", "name_taken"), (ORG, "acme-k3j4", "created"),
    ]  # fmt: skip
    assert log.pending(ORG, "acme") is True  # the first POST got no answer
    assert log.pending(ORG, "acme-k3j4") is True
    assert log.pending("elsewhere", "acme") is False
    clock.advance(hours=1)
    assert log.pending(ORG, "acme") is False  # read lag is seconds: that POST made nothing


def test_attempt_log_stops_posting_once_the_project_has_a_repo(store, clock):
    add(store)
    store.set_manual_repo("acme", "client/portal")
    with pytest.raises(LinkedMeanwhile):
        StoreAttemptLog(store, "acme", "run", ORG).before_post(ORG, "acme")


def test_attempt_log_adopts_what_a_racing_process_recorded(store, clock):
    add(store)
    store.link_repo_if_unset("acme", f"{ORG}/acme", kind="repo_created", details={})
    old = repo("acme", clock.now - timedelta(days=1))
    assert StoreAttemptLog(store, "acme", "run", ORG).is_ours(old) is True


def test_attempt_log_reuses_a_racing_runs_suffix(store, clock):
    add(store)
    StoreAttemptLog(store, "acme", "other", ORG).before_post(ORG, "acme-k3j4")
    assert StoreAttemptLog(store, "acme", "mine", ORG).retry_name("acme") == "acme-k3j4"


def test_dry_run_exit_code_under_require_repo_follows_the_predicted_action(store, gh_double, double, clock):
    add(store, "taken")
    add(store, "free")
    double.add_repo(ORG, "taken", created_at="2020-01-01T00:00:00Z")  # a suffixed name would be created
    a = approver(store, gh_double, clock, dry_run=True, require_repo=True)
    results, code = approve_all(a, ["taken", "free"])
    assert [(r.action, r.exit_code) for r in results] == [("created", 0), ("created", 0)]
    assert code == 0
    no_token = approver(store, lambda: (_ for _ in ()).throw(GitHubError(GITHUB_TOKEN_MISSING, "x")), clock,
                        dry_run=True, require_repo=True)  # fmt: skip
    assert no_token.approve("free").exit_code == 6


# -- GitHub's read lag: a repo it made may stay invisible for seconds ---------------------------


class SettleAfter:
    """A fake sleep that ends the double's read lag at its n-th call (or never)."""

    def __init__(self, double, n=None):
        self.double, self.n, self.slept = double, n, []

    def __call__(self, seconds):
        self.slept.append(seconds)
        if len(self.slept) == self.n:
            self.double.settle()


def test_a_lost_answer_then_a_404_then_name_taken_waits_for_the_repo_and_adopts_it(
    store, double, clock, connect
):
    add(store)
    double.read_lag = 60
    double.fault("POST", f"/orgs/{ORG}/repos", after_create="drop")  # made, answer lost
    sleep = SettleAfter(double, n=3)  # visible on the second wait after "already exists"
    gh = connect(sleep=sleep)
    result = approver(store, gh, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.created == [f"{ORG}/acme"]  # no suffixed twin
    assert [p.body["name"] for p in double.requests("POST")] == ["acme", "acme"]
    assert sleep.slept == [1.0, 1.0, 2.0]  # the backoff before the second POST, then the waits
    assert [a.outcome for a in store.attempts("acme")] == ["unknown", "name_taken"]


def test_a_repo_that_stays_invisible_fails_the_repo_step_and_is_adopted_next_time(
    store, double, clock, connect
):
    add(store)
    double.read_lag = 60
    double.fault("POST", f"/orgs/{ORG}/repos", after_create="drop")
    result = approver(store, connect(sleep=SettleAfter(double)), clock).approve("acme")
    assert (result.action, result.error.code) == ("failed", "GITHUB_UNAVAILABLE")
    assert "not visible yet; run approve again" in result.error.message
    assert double.created == [f"{ORG}/acme"]
    assert len(double.requests("POST")) == 2  # never a suffixed name
    double.settle()
    again = approver(store, connect(sleep=no_sleep), clock).approve("acme")
    assert (again.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert len(double.requests("POST")) == 2


def test_a_killed_runs_unanswered_attempt_makes_name_taken_mean_ours(store, double, clock, connect):
    add(store)
    store.set_status("acme", expected="interviewing", new="review")
    double.read_lag = 60
    store.record_attempt("acme", "acme", "killed-run", owner=ORG)  # the killed run recorded, POSTed ...
    connect(sleep=no_sleep).create_org_repo(ORG, "acme")  # ... GitHub made it; no answer kept
    sleep = SettleAfter(double, n=2)
    result = approver(store, connect(sleep=sleep), clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.created == [f"{ORG}/acme"]
    assert sleep.slept == [1.0, 2.0]


def test_name_taken_is_someone_elses_once_every_attempt_on_it_has_an_answer(store, double, clock, connect):
    add(store)
    double.add_repo(ORG, "acme")  # invisible to this token, as to a fine-grained one limited to some repos
    double.read_lag = 0
    double._hidden_until[f"{ORG}/acme"] = float("inf")
    store.record_attempt("acme", "acme", "earlier-run", owner=ORG)
    store.set_attempt_outcome("acme", "earlier-run", "acme", "name_taken")  # it was told so
    result = approver(store, connect(sleep=SettleAfter(double)), clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("created", f"{ORG}/acme-s1x2")


def test_an_old_unanswered_attempt_does_not_block_the_name_forever(store, double, clock, connect):
    add(store)
    double.add_repo(ORG, "acme")
    double._hidden_until[f"{ORG}/acme"] = float("inf")  # taken by a repo the token cannot see
    store.record_attempt("acme", "acme", "killed-run", owner=ORG)  # a day ago: read lag is seconds
    clock.advance(days=1)
    sleep = SettleAfter(double)
    result = approver(store, connect(sleep=sleep), clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("created", f"{ORG}/acme-s1x2")
    assert sleep.slept == []


# -- adopt only what we would have created ---------------------------------------------------


def test_a_public_same_named_repo_is_never_adopted_after_a_502(store, gh_double, double, clock):
    add(store)
    before = clock.now - timedelta(seconds=20)
    double.add_repo(ORG, "acme", private=False, created_at=stamp(before))  # someone else's
    double.fault("POST", f"/orgs/{ORG}/repos", status=502, body={"message": "Bad Gateway"})
    result = approver(store, gh_double, clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("created", f"{ORG}/acme-s1x2")
    assert double.created == [f"{ORG}/acme-s1x2"]


def test_a_public_repo_left_by_an_unanswered_attempt_is_not_adopted(store, gh_double, double, clock):
    add(store)
    store.record_attempt("acme", "acme", "killed-run", owner=ORG)
    double.add_repo(ORG, "acme", private=False)  # not what we create: made public since, or not ours
    result = approver(store, gh_double, clock).approve("acme")
    assert result.action == "created"
    assert store.require("acme").github_repo == f"{ORG}/acme-s1x2"


# -- clocks: attempts are timed by GitHub's clock ---------------------------------------------


def test_the_offset_to_githubs_clock_is_kept_from_its_date_header(httpx_mock):
    now = [1_800_000_000.0]
    gh = GitHub.connect("https://api.github.com", Token(TOKEN, "GH_TOKEN"), pace=0, sleep=no_sleep,
                        clock=lambda: now[0])  # fmt: skip
    assert gh.http.server_now() is None
    httpx_mock.add_response(url="https://api.github.com/rate_limit", json={},
                            headers={"Date": "Wed, 15 Jan 2027 08:00:00 GMT"})  # fmt: skip
    assert gh.github_now() == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)  # learnt with one free GET
    now[0] += 30
    assert gh.github_now() == datetime(2027, 1, 15, 8, 0, 30, tzinfo=UTC)  # no request more
    assert len(httpx_mock.get_requests()) == 1
    gh.close()


def test_a_clock_two_minutes_ahead_makes_no_twin_after_a_kill(store, double, clock, connect):
    add(store)
    clock.advance(minutes=2)  # the laptop's clock, for the store too
    with pytest.raises(Killed):
        approver(store, connect(ahead=120, killed_after_post=True), clock).approve("acme")
    assert double.created == [f"{ORG}/acme"]
    assert store.require("acme").github_repo is None  # the store never heard back
    result = approver(store, connect(ahead=120), clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.created == [f"{ORG}/acme"]


def test_a_private_repo_made_20_s_before_our_first_attempt_is_not_adopted_after_a_502(
    store, double, clock, connect
):
    add(store)
    earlier = datetime.now(UTC) - timedelta(seconds=20)
    double.add_repo(ORG, "acme", created_at=stamp(earlier))  # someone else's, private
    double.fault("POST", f"/orgs/{ORG}/repos", status=502, body={"message": "Bad Gateway"})
    result = approver(store, connect(ahead=-30), clock).approve("acme")  # a clock 30 s behind
    assert (result.action, store.require("acme").github_repo) == ("created", f"{ORG}/acme-s1x2")
    attempt = store.attempts("acme")[0]
    assert abs(attempt.github_at - datetime.now(UTC)) < timedelta(seconds=5)  # GitHub's time, not ours


# -- attempts record where they went ---------------------------------------------------------


def in_org(store, gh, org, clock):
    return Approver(store, lambda: gh, org, ApproveOptions())


def test_a_repo_left_in_another_org_by_a_killed_run_is_adopted_not_twinned(store, double, clock, connect):
    add(store)
    double.add_org("acme")
    double.add_org("beta")
    with pytest.raises(Killed):
        in_org(store, connect(killed_after_post=True), "acme", clock).approve("acme")
    result = in_org(store, connect(), "beta", clock).approve("acme")  # re-run with GITHUB_ORG=beta
    assert (result.action, store.require("acme").github_repo) == ("adopted", "acme/acme")
    assert double.created == ["acme/acme"]
    assert result.notes == ["acme/acme was created by an earlier approve in acme, not in beta"]
    assert [(a.owner, a.name) for a in store.attempts("acme")] == [("acme", "acme")]


def test_a_repo_left_in_another_org_is_waited_for_under_read_lag(store, double, clock, connect):
    add(store)
    double.add_org("acme")
    double.add_org("beta")
    double.read_lag = 60
    with pytest.raises(Killed):
        in_org(store, connect(killed_after_post=True), "acme", clock).approve("acme")
    result = in_org(store, connect(sleep=SettleAfter(double, n=2)), "beta", clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", "acme/acme")
    assert double.created == ["acme/acme"]
    double.read_lag = 0


def test_someone_elses_repo_in_the_other_org_is_not_adopted(store, double, clock, connect):
    add(store)
    double.add_org("acme")
    double.add_org("beta")
    store.record_attempt("acme", "acme", "killed-run", owner="acme")  # its POST never landed ...
    double.add_repo("acme", "acme", created_at="2020-01-01T00:00:00Z")  # ... this is someone else's
    result = in_org(store, connect(), "beta", clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("created", "beta/acme")


def test_a_rejected_token_is_tried_for_the_first_slug_only(store, double, clock):
    for slug in ("a", "b", "c"):
        add(store, slug)
    revoked = GitHub.connect(double.url, Token("ghp_revoked", "GH_TOKEN"), pace=0, sleep=no_sleep)
    logs = []
    results, code = approve_all(approver(store, revoked, clock, logs), ["a", "b", "c"])
    assert code == 0  # approved: a failed repo step is exit 0 (6 with --require-repo)
    revoked.close()
    assert [(r.action, r.error.code, r.exit_code) for r in results] == [
        ("failed", "GITHUB_UNAUTHORIZED", 0)
    ] * 3
    assert len({r.error.message for r in results}) == 1
    assert len(double.requests("POST")) == 1  # b and c cost no request
    assert [store.require(s).spec_status for s in ("a", "b", "c")] == ["review"] * 3
    assert [log["slug"] for log in logs] == ["a", "b", "c"]


def test_a_store_failure_after_github_made_the_repo_names_the_repo_and_the_way_back(
    store, double, clock, connect
):
    add(store)
    gh = connect()
    send = gh.http.send

    def full_disk(*args, **kwargs):
        raise StoreError(f"store {store.where}: database or disk is full")

    def disk_full_after_post(method, url, **kwargs):
        response = send(method, url, **kwargs)
        if method == "POST":  # every write fails from here
            for write in ("set_attempt_outcome", "link_repo_if_unset", "add_event"):
                setattr(store, write, full_disk)
        return response

    gh.http.send = disk_full_after_post
    failed = approver(store, gh, clock).approve("acme")
    for write in ("set_attempt_outcome", "link_repo_if_unset", "add_event"):
        delattr(store, write)  # the disk has room again
    assert isinstance(failed.error, StoreError)
    assert failed.exit_code == 1
    assert f"{ORG}/acme" in failed.error.message
    assert "specctl approve acme" in failed.error.message
    assert store.attempts("acme")[-1].outcome == "sent"  # the record of the POST is what finds it
    result = approver(store, connect(), clock).approve("acme")
    assert (result.action, store.require("acme").github_repo) == ("adopted", f"{ORG}/acme")
    assert double.created == [f"{ORG}/acme"]


# -- the claim on creating a project's repo (SPEC "The team store"), on both stores ------------


def test_a_claim_held_by_another_run_is_waited_for_then_its_repo_is_skipped(store, gh_double, double):
    add(store)
    store.set_status("acme", expected="interviewing", new="review")
    store.claim_create("acme", "other-machine:1:run", 120)
    said, slept = [], []

    def other_run_finishes(seconds):  # the other admin's run links its repo while we wait
        slept.append(seconds)
        store.link_repo_if_unset("acme", f"{ORG}/acme", kind="repo_created", details={})
        store.release_claim("acme", "other-machine:1:run")

    result = Approver(store, lambda: gh_double, ORG, sleep=other_run_finishes, say=said.append).approve(
        "acme"
    )
    assert (result.action, result.repo) == ("skipped", f"{ORG}/acme")
    assert len(slept) == 1
    assert said == ["acme: another run is creating its repo; waiting for it (at most 120 s)"]
    assert double.requests("POST") == []  # nothing created while another run held the claim


def test_a_dead_claimers_repo_is_adopted_once_its_claim_runs_out(store, gh_double, double, clock):
    add(store)
    store.set_status("acme", expected="interviewing", new="review")
    store.claim_create("acme", "other-machine:1:run", 0.1)  # a run that died after its POST
    store.record_attempt("acme", "acme", "dead-run", owner=ORG)
    double.add_repo(ORG, "acme")

    def wait(seconds):
        clock.advance(seconds=seconds)  # the SQLite store's clock
        time.sleep(min(seconds, 0.2))  # PostgreSQL's: the server's own

    result = Approver(store, lambda: gh_double, ORG, sleep=wait).approve("acme")
    assert (result.action, result.repo) == ("adopted", f"{ORG}/acme")
    assert double.requests("POST") == []


def test_a_claim_left_by_a_killed_process_of_this_machine_is_not_waited_for(store, gh_double, double):
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    add(store)
    store.claim_create("acme", f"{os.uname().nodename}:{gone.stdout.strip()}:run", 300)

    def no_waiting(seconds):
        raise AssertionError("waited for a process that is gone")

    result = Approver(store, lambda: gh_double, ORG, sleep=no_waiting).approve("acme")
    assert (result.action, result.repo) == ("created", f"{ORG}/acme")


def test_a_lost_store_stops_the_batch_and_reports_every_slug(store, gh_double, double):
    for slug in ("a", "b", "c"):
        add(store, slug)
    approver_ = Approver(store, lambda: gh_double, ORG)
    first = approver_.approve("a")
    real_require = store.require

    def gone(slug):
        raise StoreError("lost the connection to the store at db.example: server closed the connection")

    store.require = gone
    results = [approver_.approve(slug) for slug in ("b", "c")]
    store.require = real_require
    assert first.action == "created"
    assert [(r.action, r.exit_code) for r in results] == [("none", 1), ("none", 1)]
    assert "c not processed" in results[1].error.message
    assert double.created == [f"{ORG}/a"]  # no POST for b or c
