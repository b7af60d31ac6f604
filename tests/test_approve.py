"""The approve workflow (no CLI): the seed's slices 5-7, and "never two repos for one project"."""

import json
from datetime import timedelta

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
from specctl.errors import GITHUB_TOKEN_MISSING, GitHubError
from specctl.github import GitHub, Repo
from specctl.store import stamp
from test_github import CREATE, repo_json


def no_sleep(seconds):
    pass


@pytest.fixture
def gh_api():
    """A client for the mocked api.github.com."""
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
    assert json.loads(httpx_mock.get_request().content)["description"] == "Client portal"


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
    log = StoreAttemptLog(store, "acme", "this-run")
    log.before_post("acme")
    recent = repo("acme", clock.now + timedelta(seconds=2))
    assert log.may_adopt(recent, own_post_may_have_landed=True) is True  # our answer was lost
    assert log.may_adopt(recent, own_post_may_have_landed=False) is False  # our POST was refused
    StoreAttemptLog(store, "acme", "other-run").before_post("acme")  # a racing process
    assert log.may_adopt(recent, own_post_may_have_landed=False) is True
    skewed = repo("acme", clock.now - timedelta(seconds=50))
    assert log.may_adopt(skewed, own_post_may_have_landed=True) is True  # within a minute of skew
    old = repo("acme", clock.now - timedelta(minutes=5))
    assert log.may_adopt(old, own_post_may_have_landed=True) is False
    assert stamp(clock.now) in [stamp(a.at) for a in store.attempts("acme")]


def test_attempt_log_stops_posting_once_the_project_has_a_repo(store, clock):
    add(store)
    store.set_manual_repo("acme", "client/portal")
    with pytest.raises(LinkedMeanwhile):
        StoreAttemptLog(store, "acme", "run").before_post("acme")


def test_attempt_log_adopts_what_a_racing_process_recorded(store, clock):
    add(store)
    store.link_repo_if_unset("acme", f"{ORG}/acme", kind="repo_created", details={})
    old = repo("acme", clock.now - timedelta(days=1))
    assert StoreAttemptLog(store, "acme", "run").may_adopt(old, own_post_may_have_landed=False) is True


def test_attempt_log_reuses_a_racing_runs_suffix(store, clock):
    add(store)
    StoreAttemptLog(store, "acme", "other").before_post("acme-k3j4")
    assert StoreAttemptLog(store, "acme", "mine").retry_name("acme") == "acme-k3j4"


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
