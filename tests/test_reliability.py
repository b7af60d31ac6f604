"""Nothing lost, duplicated or leaked: the fault matrix and the hard cases, end to end with the
installed `specctl` against the GitHub double. Each case checks the exit code, the output, the
store afterwards and how many repos the double holds."""

import re
import signal
import sqlite3
import time

import pytest

from conftest import ORG, TOKEN
from e2e import as_json, specctl, start, tsv
from specctl.store import open_store
from test_github import NAME_TAKEN

pytestmark = pytest.mark.slow
CREATE = f"/orgs/{ORG}/repos"
SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
}


@pytest.fixture(autouse=True)
def store_stays_sound(db_path):
    yield
    if db_path.exists():
        assert sqlite3.connect(db_path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def arm(double, case):
    """Set up one fault of the matrix; returns extra environment for specctl."""
    hour = str(int(time.time()) + 3600)
    if case == "401":
        return {"GH_TOKEN": "ghp_revoked"}
    if case == "403 permission":
        double.fault("POST", CREATE, status=403, body={"message": "Resource not accessible by personal access token"},
                     headers={"X-Accepted-GitHub-Permissions": "administration=write"})  # fmt: skip
    elif case == "403 sso":
        double.orgs[ORG].sso_url = f"https://github.com/orgs/{ORG}/sso?authorization_request=A1B2"
        double.tokens[TOKEN].sso_authorized = False
    elif case == "404 org":
        return {"GITHUB_ORG": "no-such-org"}
    elif case == "422 taken twice":
        double.fault("POST", CREATE, status=422, body=NAME_TAKEN, times=2)
    elif case == "422 plan":
        double.orgs[ORG].private_allowed = False
    elif case == "500 x3":
        double.fault("POST", CREATE, status=500, body={"message": "Server Error"}, times=3)
    elif case == "502 then 201":
        double.fault("POST", CREATE, status=502, body={"message": "Bad Gateway"})
    elif case == "timeout after create":
        double.fault("POST", CREATE, after_create="delay", delay=3600)  # answered only at teardown
        return {"SPECCTL_TIMEOUT": "1"}
    elif case == "dropped after create":
        double.fault("POST", CREATE, after_create="drop")
    elif case == "secondary retry-after 2":
        double.fault("POST", CREATE, status=403, body=SECONDARY, headers={"Retry-After": "2"})
    elif case == "secondary beyond max_wait":
        double.fault("POST", CREATE, status=403, body=SECONDARY)
        return {"SPECCTL_MAX_WAIT": "5"}
    elif case == "primary exhausted":
        double.fault("POST", CREATE, status=403, body={"message": "API rate limit exceeded"},
                     headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": hour})  # fmt: skip
    elif case == "network down":
        return {"GITHUB_API_URL": "http://127.0.0.1:9"}
    return {}


MATRIX = [
    # case, action, github_repo afterwards, error code, what stderr must say, repos the double holds
    ("401", "failed", "", "GITHUB_UNAUTHORIZED", "create a new one", 0),
    ("403 permission", "failed", "", "GITHUB_FORBIDDEN", "needs Administration: write", 0),
    ("403 sso", "failed", "", "GITHUB_FORBIDDEN", "sso?authorization_request=A1B2", 0),
    ("404 org", "failed", "", "GITHUB_NOT_FOUND", "org no-such-org not found", 0),
    ("422 taken twice", "failed", "", "GITHUB_REPO_NAME_TAKEN", "already exist", 0),
    ("422 plan", "failed", "", "GITHUB_VALIDATION", "Visibility can't be private", 0),
    ("500 x3", "failed", "", "GITHUB_UNAVAILABLE", "after 3 tries", 0),
    ("502 then 201", "created", f"{ORG}/acme", None, "", 1),
    ("timeout after create", "adopted", f"{ORG}/acme", None, "", 1),
    ("dropped after create", "adopted", f"{ORG}/acme", None, "", 1),
    ("secondary retry-after 2", "created", f"{ORG}/acme", None, "", 1),
    ("secondary beyond max_wait", "failed", "", "GITHUB_RATE_LIMITED", "resets at", 0),
    ("primary exhausted", "failed", "", "GITHUB_RATE_LIMITED", "resets at", 0),
    ("network down", "failed", "", "GITHUB_UNAVAILABLE", "cannot connect", 0),
]


@pytest.mark.parametrize(
    ("case", "action", "repo", "code", "needle", "repos"), MATRIX, ids=[m[0] for m in MATRIX]
)
def test_fault_matrix(github_env, db_path, case, action, repo, code, needle, repos):
    specctl("add", "Acme", "--slug", "acme")
    env = arm(github_env, case)
    result = specctl("approve", "acme", **env)
    assert result.exit_code == 0  # the approval stands whatever GitHub did
    assert tsv(result.stdout) == [["acme", "review", repo, action]]
    assert len(github_env.created) == repos
    project = open_store(db_path).require("acme")
    assert (project.spec_status, project.github_repo or "") == ("review", repo)
    if code:
        assert f"{code}" in result.stderr
        assert needle in result.stderr
        log = [line for line in result.stderr.splitlines() if line.startswith("{")]
        assert len(log) == 1
        assert f'"code": "{code}"' in log[0]
        assert '"slug": "acme"' in log[0]
        last = as_json(specctl("--json", "show", "acme"))["events"][-1]
        assert (last["kind"], last["details"]["code"]) == ("repo_create_failed", code)
        assert specctl("approve", "acme", "--require-repo", **env).exit_code in (0, 6)
    assert TOKEN not in result.stdout + result.stderr
    assert not any(re.fullmatch(r".*-[a-z0-9]{4}", name) for name in github_env.created)


def test_killed_in_the_middle_of_a_batch_then_rerun(github_env, db_path):
    slugs = [f"batch-{i:02d}" for i in range(30)]
    for slug in slugs:
        specctl("add", slug, "--slug", slug)
    github_env.fault("POST", CREATE, times=10)  # ten creates answered as usual ...
    github_env.fault("POST", CREATE, after_create="delay", delay=3600)  # ... the eleventh's is held
    proc = start("approve", "--stdin", input="\n".join(slugs))
    deadline = time.monotonic() + 60
    while len(github_env.created) < 11 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # mid-batch, whatever the machine's load
    proc.wait()
    assert len(github_env.created) == 11
    rerun = specctl("approve", "--stdin", input="\n".join(slugs))
    assert rerun.exit_code == 0
    store = open_store(db_path)
    assert all(store.require(s).spec_status == "review" for s in slugs)
    assert [store.require(s).github_repo for s in slugs] == [f"{ORG}/{s}" for s in slugs]
    assert sorted(github_env.created) == sorted(f"{ORG}/{s}" for s in slugs)  # no twins


def test_eight_processes_approving_the_same_forty_slugs(github_env, db_path):
    slugs = [f"race-{i:02d}" for i in range(40)]
    for slug in slugs:
        specctl("add", slug, "--slug", slug)
    procs = [start("approve", "--stdin", input="\n".join(slugs)) for _ in range(8)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    assert not any("locked" in err for _, err in outputs)
    assert sorted(github_env.created) == sorted(f"{ORG}/{s}" for s in slugs)  # 40 repos, no twins
    store = open_store(db_path)
    assert [store.require(s).github_repo for s in slugs] == [f"{ORG}/{s}" for s in slugs]
    for slug in slugs:
        kinds = [e.kind for e in store.events(slug)]
        assert kinds.count("status_changed") == 1  # approved once, not lost, not doubled
        assert kinds.count("repo_created") + kinds.count("repo_adopted") == 1


def test_set_repo_racing_an_approve_wins(github_env, db_path):
    specctl("add", "Acme", "--slug", "acme")
    held = github_env.fault("POST", CREATE, after_create="delay", delay=3600)
    proc = start("approve", "acme", SPECCTL_TIMEOUT="300")  # it waits for the answer, however long
    deadline = time.monotonic() + 60
    while not github_env.created and time.monotonic() < deadline:
        time.sleep(0.01)
    assert specctl("set-repo", "acme", "client/portal", "--no-verify").exit_code == 0
    held.released.set()  # GitHub's answer to the create arrives only now
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert tsv(out) == [["acme", "review", "client/portal", "skipped"]]
    assert "set meanwhile and kept" in err
    project = open_store(db_path).require("acme")
    assert (project.github_repo, project.repo_source) == ("client/portal", "manual")


def test_the_token_never_leaks(github_env, db_path, isolated):
    """A canary token through every command, success and failure, --verbose and --json."""
    github_env.add_repo(ORG, "existing")
    runs = [
        ("add", "Acme", "--slug", "acme"), ("add", "Beta", "--slug", "beta"),
        ("-v", "approve", "acme"), ("--json", "approve", "--dry-run", "beta"),
        ("-v", "--json", "approve", "beta"), ("set-repo", "beta", f"{ORG}/existing"),
        ("-v", "set-repo", "beta", f"{ORG}/missing"), ("list-repos",), ("--json", "list-repos"),
        ("doctor",), ("--json", "doctor"), ("config", "show"), ("--json", "config", "show"),
        ("-v", "show", "acme"), ("--json", "show", "beta"), ("projects",),
    ]  # fmt: skip
    outputs = [specctl(*args) for args in runs]
    github_env.fault("POST", CREATE, status=401, body={"message": "Bad credentials"})
    specctl("add", "Gamma", "--slug", "gamma")
    outputs.append(specctl("-v", "--json", "approve", "gamma"))
    outputs.append(specctl("-v", "doctor", GH_TOKEN=TOKEN + "x"))  # rejected token
    traceback = specctl("-v", "set-repo", "beta", f"{ORG}/missing")
    outputs.append(traceback)
    assert "Traceback" in traceback.stderr  # --verbose shows it ...
    assert "token = " not in traceback.stderr  # ... without local variables
    for result in outputs:
        assert TOKEN not in result.stdout
        assert TOKEN not in result.stderr
    for path in (db_path, db_path.with_name(db_path.name + "-wal")):
        if path.exists():
            assert TOKEN.encode() not in path.read_bytes()
    assert all(TOKEN not in str(e) for s in ("acme", "beta", "gamma") for e in open_store(db_path).events(s))
    assert github_env.requests()[0].authorization == f"Bearer {TOKEN}"  # it was really used
