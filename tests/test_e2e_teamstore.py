"""The team store end to end: the installed `specctl` on two "machines" (each its own HOME and
config) sharing one PostgreSQL database, against the GitHub double. One repo per project holds
across them (SPEC "The team store")."""

import os
import signal
import time

import psycopg
import pytest

from conftest import ORG
from e2e import specctl, start, tsv

pytestmark = pytest.mark.slow


@pytest.fixture
def machines(github_env, pg_url, tmp_path):
    """Two machines' environments, both pointed at one PostgreSQL database."""

    def machine(name):
        home = tmp_path / name
        return {"HOME": str(home), "SPECCTL_CONFIG": str(home / "config.toml"), "SPECCTL_DB": pg_url}

    return machine("laptop-a"), machine("laptop-b")


def test_two_machines_racing_approve_make_one_repo_per_project(machines, github_env):
    a, b = machines
    slugs = [f"p{i}" for i in range(6)]
    for slug in slugs:
        assert specctl("add", slug.upper(), "--slug", slug, **a).exit_code == 0
    github_env.latency = 0.02  # each request takes a while: the runs overlap on every slug
    runs = [start("approve", "--stdin", input="\n".join(slugs), **env) for env in (a, b, a, b)]
    outs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0, 0, 0, 0], [err for _, err in outs]
    assert sorted(github_env.created) == sorted(f"{ORG}/{s}" for s in slugs)  # no twin, no suffix
    listed = tsv(specctl("projects", **b).stdout)
    assert {row[0]: row[2] for row in listed} == {s: f"{ORG}/{s}" for s in slugs}


def test_a_run_killed_after_github_made_the_repo_is_adopted_by_the_other_machine(machines, github_env):
    a, b = machines
    assert specctl("add", "Acme", "--slug", "acme", **a).exit_code == 0
    github_env.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=2)
    proc = start("approve", "acme", **a)
    deadline = time.monotonic() + 20
    while not github_env.created and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    other = specctl("approve", "acme", **b)
    assert other.exit_code == 0, other.stderr
    assert tsv(other.stdout) == [["acme", "review", f"{ORG}/acme", "adopted"]]
    assert github_env.created == [f"{ORG}/acme"]


def test_a_store_lost_mid_batch_stops_creating_and_a_rerun_finishes(machines, github_env, pg_server):
    a, _ = machines
    for slug in ("s1", "s2", "s3"):
        assert specctl("add", slug.upper(), "--slug", slug, **a).exit_code == 0
    github_env.fault("POST", f"/orgs/{ORG}/repos", after_create="delay", delay=1.5)  # s1's create
    proc = start("--json", "approve", "s1", "s2", "s3", **a)
    deadline = time.monotonic() + 20
    while not github_env.created and time.monotonic() < deadline:
        time.sleep(0.02)
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:  # the server drops us
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'specctl'"
        )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    import json

    doc = json.loads(out)
    assert [r["slug"] for r in doc["results"]] == ["s1", "s2", "s3"]  # every slug reported
    assert all(r["error"]["code"] == "STORE_UNAVAILABLE" for r in doc["results"])
    assert "Traceback" not in err
    assert github_env.created == [f"{ORG}/s1"]  # no POST after the store was lost
    rerun = specctl("approve", "s1", "s2", "s3", **a)
    assert rerun.exit_code == 0, rerun.stderr
    assert [row[3] for row in tsv(rerun.stdout)] == ["adopted", "created", "created"]
    assert sorted(github_env.created) == [f"{ORG}/s1", f"{ORG}/s2", f"{ORG}/s3"]


def test_the_password_in_the_url_is_never_printed(machines, github_env):
    a, _ = machines
    password = "pw-canary-7c1d"
    url = a["SPECCTL_DB"].replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    env = {**a, "SPECCTL_DB": url}
    results = [
        specctl("add", "Acme", "--slug", "acme", **env),
        specctl("-v", "approve", "acme", "ghost", **env),
        specctl("--json", "show", "acme", **env),
        specctl("doctor", **env),
        specctl("config", "show", **env),
        specctl("--json", "approve", "acme", **env),
    ]
    for result in results:
        assert password not in result.stdout + result.stderr
    assert "****" in results[4].stdout  # config show masks it
    assert os.environ.get("PGPASSWORD") is None
