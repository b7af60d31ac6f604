"""End to end: the installed `specctl` acting as a GitHub App against the GitHub double."""

import json
import stat

import pytest

from appkeys import APP_ID, key_canaries, rsa_key, write_key
from conftest import ORG, file_hash
from e2e import as_json, specctl, tsv

pytestmark = pytest.mark.slow


@pytest.fixture
def app_env(double, isolated, monkeypatch):
    """specctl configured as the app (no token anywhere), the app installed on ORG."""
    double.add_app(APP_ID, rsa_key().public_key())
    double.install_app(APP_ID, ORG)
    key = write_key(isolated / "keys" / "app.pem")
    monkeypatch.setenv("GITHUB_API_URL", double.url)
    monkeypatch.setenv("SPECCTL_APP_ID", str(APP_ID))
    monkeypatch.setenv("SPECCTL_APP_KEY", str(key))
    return double


def add(*slugs):
    for slug in slugs:
        assert specctl("add", slug.title(), "--slug", slug).exit_code == 0


def cache_files(isolated):
    return sorted(p for p in (isolated / "home" / ".cache").rglob("*") if p.is_file())


def test_approve_through_the_app_then_a_second_run_reuses_the_cached_token(app_env, isolated):
    add("acme", "beta")
    first = specctl("--json", "approve", "acme")
    assert first.exit_code == 0, first.stderr
    assert as_json(first)["results"][0]["github_repo"] == f"{ORG}/acme"
    assert len(app_env.mints) == 1
    second = specctl("approve", "beta")
    assert tsv(second.stdout) == [["beta", "review", f"{ORG}/beta", "created"]]
    assert len(app_env.mints) == 1  # the cached token served the second run
    creates = app_env.requests("POST", "/repos$")
    assert all(c.authorization.startswith("Bearer ghs_") for c in creates)
    files = cache_files(isolated)
    assert files
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_an_expired_cached_token_is_replaced_once(app_env):
    add("acme", "beta", "gamma")
    app_env.token_lifetime = 4 * 60  # less than the 5-minute margin: stale as soon as cached
    assert specctl("approve", "acme").exit_code == 0
    assert len(app_env.mints) == 1
    app_env.token_lifetime = 3600
    assert specctl("approve", "beta", "gamma").exit_code == 0
    assert len(app_env.mints) == 2  # replaced once for the whole batch
    assert app_env.created == [f"{ORG}/acme", f"{ORG}/beta", f"{ORG}/gamma"]


@pytest.mark.parametrize(
    ("env", "offset", "reason"),
    [
        ({"SPECCTL_APP_ID": "999"}, 0, "Integration not found"),
        ({}, -3600, "'Issued at' claim ('iat') must be an Integer"),
    ],
    ids=["wrong-app-id", "skewed-clock"],
)
def test_a_rejected_jwt_is_exit_4_with_githubs_reason(app_env, env, offset, reason):
    app_env.clock_offset = offset
    listed = specctl("list-repos", **env)
    assert listed.exit_code == 4
    assert reason in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1
    add("acme")
    approved = specctl("approve", "acme", **env)
    assert approved.exit_code == 0  # the approval stands; the repo failed
    assert tsv(approved.stdout) == [["acme", "review", "", "failed"]]
    assert "GITHUB_UNAUTHORIZED" in approved.stderr
    assert reason in approved.stderr
    assert app_env.mints == []


def test_an_org_without_the_installation_is_a_clear_error(app_env):
    app_env.add_org("client-org")
    result = specctl("list-repos", "--owner", "client-org")
    assert result.exit_code == 1
    assert "not installed on client-org" in result.stderr
    assert "https://github.com/apps/specctl-agency/installations/new" in result.stderr
    add("acme")
    approved = specctl("--json", "approve", "acme", GITHUB_ORG="client-org")
    error = as_json(approved)["results"][0]["error"]
    assert (error["code"], error["http_status"]) == ("GITHUB_NOT_FOUND", 404)


@pytest.mark.parametrize(
    ("mode", "needle"),
    [(0o644, "readable by group or others; run: chmod 600"), (None, "does not exist")],
    ids=["too-open", "missing"],
)
def test_a_bad_key_is_exit_2_before_anything_changes(app_env, isolated, db_path, mode, needle):
    add("acme")
    key = isolated / "keys" / "app.pem"
    if mode is None:
        key.unlink()
    else:
        key.chmod(mode)
    before = file_hash(db_path)
    result = specctl("approve", "acme")
    assert result.exit_code == 2
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert file_hash(db_path) == before
    assert app_env.requests() == []


def test_a_pat_in_the_environment_wins_over_the_app(app_env):
    from conftest import TOKEN

    add("acme")
    assert specctl("approve", "acme", GH_TOKEN=TOKEN).exit_code == 0
    assert app_env.mints == []
    assert app_env.requests("POST")[0].authorization == f"Bearer {TOKEN}"


def test_doctor_names_the_app_installation_and_permissions(app_env):
    result = specctl("--json", "doctor")
    checks = {c["name"]: c for c in as_json(result)["checks"]}
    assert result.exit_code == 0, checks
    assert f"GitHub App {APP_ID}" in checks["token"]["detail"]
    assert "specctl-agency" in checks["app"]["detail"]
    assert f"on {ORG} (Organization); repository selection: all" in checks["installation"]["detail"]
    assert checks["app permissions"]["status"] == "ok"
    assert checks["[repo] permissions"]["status"] == "ok"
    assert checks["create repos"]["status"] == "ok"


def test_doctor_says_what_the_apps_permissions_lack(app_env):
    installation = next(iter(app_env.installations.values()))
    installation.permissions = {"metadata": "read", "contents": "read"}
    result = specctl("--json", "doctor")
    checks = {c["name"]: c for c in as_json(result)["checks"]}
    assert result.exit_code == 1
    assert "Administration: write" in checks["app permissions"]["detail"]
    assert checks["[repo] permissions"]["status"] == "warn"
    assert "Contents: write and Members: read" in checks["[repo] permissions"]["detail"]


def test_config_show_gives_the_key_path_never_its_content(app_env, isolated):
    result = specctl("--json", "config", "show")
    assert result.exit_code == 0
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert rows["app_key"]["value"] == str(isolated / "keys" / "app.pem")
    assert rows["app_id"]["value"] == APP_ID
    assert rows["token"] == {"key": "token", "value": None, "source": f"GitHub App {APP_ID}"}


def test_canary_key_and_tokens_appear_nowhere_but_the_cache(app_env, isolated):
    app_env.add_org("client-org")
    add("acme", "beta")
    outputs = [
        specctl("--verbose", "approve", "acme"),
        specctl("--verbose", "--json", "approve", "beta"),
        specctl("--verbose", "list-repos"),
        specctl("--verbose", "list-repos", "--owner", "client-org"),
        specctl("--verbose", "doctor"),
        specctl("--verbose", "show", "acme"),
        specctl("config", "show"),
    ]
    app_env.clock_offset = -3600
    outputs.append(specctl("--verbose", "approve", "acme", SPECCTL_APP_ID="999"))
    secrets = [t for t, info in app_env.tokens.items() if info.installation is not None]
    jwts = [s.authorization.split(" ", 1)[1] for s in app_env.seen if (s.authorization or "").count(".") == 2]
    assert secrets
    assert jwts
    canaries = secrets + jwts + key_canaries()
    for result in outputs:
        for canary in canaries:
            assert canary not in result.stdout + result.stderr
    cache_dir, key = isolated / "home" / ".cache", isolated / "keys" / "app.pem"
    for path in isolated.rglob("*"):
        if path.is_file() and cache_dir not in path.parents and path != key:
            data = path.read_bytes()
            for canary in canaries:
                assert canary.encode() not in data, path
    assert any(secrets[0].encode() in f.read_bytes() for f in cache_files(isolated))


def imported_after(*args, **env):
    import os
    import subprocess
    import sys

    code = (
        "import sys; from specctl.cli import run; run(sys.argv[1:])\n"
        "print(sorted(m for m in ('cryptography', 'specctl.github.app') if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env={**os.environ, **env}
    )
    return done.stderr.strip().splitlines()[-1]


def test_imports_follow_use_pat_none_warm_cache_no_cryptography(app_env):
    from conftest import TOKEN

    add("acme", "beta", "gamma")
    assert imported_after("approve", "acme", GH_TOKEN=TOKEN) == "[]"  # a PAT user pays nothing
    assert imported_after("approve", "beta") == "['cryptography', 'specctl.github.app']"  # a JWT
    assert imported_after("approve", "gamma") == "['specctl.github.app']"  # warm cache: no signing


def test_two_orgs_in_one_batch_mint_two_tokens_each_repo_in_its_own_org(app_env):
    app_env.add_org("client-org")
    client = app_env.install_app(APP_ID, "client-org")
    assert specctl("add", "Acme", "--slug", "acme", "--org", "client-org").exit_code == 0
    add("beta", "gamma")
    result = specctl("approve", "acme", "beta", "gamma")
    assert result.exit_code == 0, result.stderr
    assert [(r[0], r[2]) for r in tsv(result.stdout)] == [
        ("acme", "client-org/acme"), ("beta", f"{ORG}/beta"), ("gamma", f"{ORG}/gamma"),
    ]  # fmt: skip
    assert sorted(app_env.mints) == sorted(app_env.installations)  # one each
    create_acme = app_env.requests("POST", "/orgs/client-org/repos")[0]
    minted_for_client = [t for t, info in app_env.tokens.items() if info.installation == client.id]
    assert create_acme.authorization == f"Bearer {minted_for_client[0]}"
    add("delta")
    assert specctl("add", "Echo", "--slug", "echo", "--org", "client-org").exit_code == 0
    assert specctl("approve", "delta", "echo").exit_code == 0
    assert len(app_env.mints) == 2  # both tokens and both lookups came from the cache


def test_list_repos_as_the_app_joins_every_org_it_works_in(app_env):
    app_env.add_org("client-org")
    app_env.install_app(APP_ID, "client-org")
    app_env.add_org("stranger-org")
    app_env.add_repos(ORG, 150, prefix="ours")  # two pages
    app_env.add_repos("client-org", 120, prefix="theirs")  # two pages, Link via /organizations/{id}
    app_env.add_repo("stranger-org", "not-ours")
    assert specctl("add", "Acme", "--slug", "acme", "--org", "client-org").exit_code == 0
    for concurrency in ("1", "4"):
        result = specctl("list-repos", SPECCTL_CONCURRENCY=concurrency)
        assert result.exit_code == 0, result.stderr
        names = [r[0] for r in tsv(result.stdout)]
        assert len(names) == 270
        assert {n.split("/")[0] for n in names} == {ORG, "client-org"}
    limited = specctl("list-repos", "--limit", "160")
    assert [r[0] for r in tsv(limited.stdout)][-1] == "client-org/theirs-00009"
    assert len(app_env.mints) == 2
    for seen in app_env.requests("GET", "/repos$"):
        minted = app_env.tokens[seen.authorization.split(" ", 1)[1]]
        org_id = app_env.orgs[app_env.installations[minted.installation].org.lower()].id
        assert seen.path in (
            f"/orgs/{app_env.installations[minted.installation].org}/repos",
            f"/organizations/{org_id}/repos",
        )
