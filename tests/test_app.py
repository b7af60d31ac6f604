"""The GitHub App (SPEC "GitHub App authentication"): the JWT, the key file rules, installation
tokens minted once, cached and renewed, against the GitHub double over real HTTP."""

import base64
import json
import stat
import sys

import pytest

from appkeys import APP_ID, rsa_key, write_key
from conftest import ORG, TOKEN
from specctl.config import AppCredential, Token, read_config, resolve, resolve_credential
from specctl.errors import GITHUB_NOT_FOUND, GITHUB_UNAUTHORIZED, ConfigError, GitHubError
from specctl.github import GitHub
from specctl.github.app import App, TokenCache, load_key, sign_jwt


@pytest.fixture
def app_double(double):
    double.add_app(APP_ID, rsa_key().public_key())
    double.install_app(APP_ID, ORG)
    return double


@pytest.fixture
def key_path(isolated):
    return write_key(isolated / "keys" / "app.pem")


def connect(double, key_path, cache_dir, *, clock=None, installation_id=None, app_id=APP_ID):
    """A client acting as the app, as runtime builds it (one App per run)."""
    credential = AppCredential(app_id, key_path, installation_id, double.url)
    app = App(credential, ORG, TokenCache(cache_dir, double.url, app_id), clock=clock or double.now)
    return GitHub.connect(double.url, app, pace=0, sleep=lambda s: None)


def decode(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- the JWT and the key -----------------------------------------------------------------


def test_the_jwt_is_rs256_with_iat_a_minute_back_and_exp_within_ten_minutes():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    jwt = sign_jwt(rsa_key(), APP_ID, 1_900_000_000.5)
    header, claims, signature = jwt.split(".")
    assert decode(header) == {"alg": "RS256", "typ": "JWT"}
    body = decode(claims)
    assert body["iss"] == str(APP_ID)
    assert body["iat"] == 1_900_000_000 - 60
    assert body["iat"] < body["exp"] <= body["iat"] + 600
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    rsa_key().public_key().verify(raw, f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "cannot be read"),
        (lambda p: write_key(p, mode=0o640), "readable by group or others; run: chmod 600"),
        (lambda p: write_key(p, mode=0o604), "readable by group or others"),
        (lambda p: (p.write_text("not a key\n"), p.chmod(0o600)), "not an unencrypted RSA private key"),
        (lambda p: _write_ec_key(p), "not an unencrypted RSA private key"),
    ],
    ids=["missing", "directory", "group", "others", "garbage", "ec-key"],
)
def test_a_bad_key_file_is_config_error_naming_it(tmp_path, setup, needle):
    path = tmp_path / "app.pem"
    setup(path)
    with pytest.raises(ConfigError) as e:
        load_key(path)
    assert e.value.exit_code == 2
    assert str(path) in e.value.message
    assert needle in e.value.message


def _write_ec_key(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def test_without_the_app_extra_the_error_gives_the_install_command(key_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails as if not installed
    monkeypatch.delitem(sys.modules, "cryptography.hazmat.primitives", raising=False)
    monkeypatch.delitem(sys.modules, "cryptography.hazmat.primitives.asymmetric", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'specctl\[app\]'"):
        load_key(key_path)


# -- config ------------------------------------------------------------------------------


def test_token_precedence_puts_the_app_between_the_environment_and_the_config_token(tmp_path, key_path):
    path = tmp_path / "config.toml"
    path.write_text(f'token = "config-token"\napp_id = {APP_ID}\napp_key = "{key_path}"\n')
    path.chmod(0o600)
    settings = resolve(environ={}, config=read_config(path))
    credential = resolve_credential(settings, {})
    assert isinstance(credential, AppCredential)
    assert (credential.app_id, credential.key_path, credential.installation_id) == (APP_ID, key_path, None)
    for var in ("GH_TOKEN", "GITHUB_TOKEN"):
        assert resolve_credential(settings, {var: "env-token"}).source == var
    without_app = resolve(environ={}, config=read_config(path))._replace(app_id=None)
    assert resolve_credential(without_app, {}).source == "config"


def test_app_settings_come_from_the_environment(tmp_path, key_path):
    environ = {
        "SPECCTL_APP_ID": str(APP_ID),
        "SPECCTL_APP_KEY": str(key_path),
        "SPECCTL_APP_INSTALLATION_ID": "77",
    }
    settings = resolve(environ=environ, config=read_config(tmp_path / "none.toml"))
    assert (settings.app_id, settings.app_key, settings.installation_id) == (APP_ID, str(key_path), 77)
    assert settings.sources["app_id"] == "SPECCTL_APP_ID"


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5"])
def test_a_bad_app_id_is_config_error(tmp_path, value):
    with pytest.raises(ConfigError, match="app_id"):
        resolve(environ={"SPECCTL_APP_ID": value}, config=read_config(tmp_path / "none.toml"))


def test_app_id_without_a_key_is_config_error(tmp_path):
    settings = resolve(environ={"SPECCTL_APP_ID": "5"}, config=read_config(tmp_path / "none.toml"))
    with pytest.raises(ConfigError, match="app_key is not"):
        resolve_credential(settings, {})


# -- installation tokens -----------------------------------------------------------------


def test_a_run_mints_one_token_and_sends_the_jwt_only_to_the_app_endpoints(app_double, key_path, tmp_path):
    gh = connect(app_double, key_path, tmp_path / "cache")
    gh.create_org_repo(ORG, "one")
    gh.create_org_repo(ORG, "two")
    assert app_double.mints == [next(iter(app_double.installations))]
    for seen in app_double.seen:
        bearer = (seen.authorization or "").removeprefix("Bearer ")
        is_jwt = bearer.count(".") == 2
        assert is_jwt == (seen.path.startswith("/app") or seen.path.endswith("/installation")), seen.path
    assert [s.path for s in app_double.seen if s.method == "POST"][-2:] == [f"/orgs/{ORG}/repos"] * 2
    gh.close()


def test_the_token_is_cached_0600_and_the_next_run_mints_none(app_double, key_path, tmp_path):
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "one")
    files = sorted((tmp_path / "cache").iterdir())
    assert [f.name.split("-", 1)[1] for f in files] == [f"app{APP_ID}-installation-{app_double.mints[0]}.json", f"app{APP_ID}-orgs.json"]  # fmt: skip
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    app_double.seen.clear()
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "two")
    assert len(app_double.mints) == 1
    assert [s.path for s in app_double.seen] == [f"/orgs/{ORG}/repos"]  # no lookup, no JWT


def test_with_a_warm_cache_the_key_is_not_even_read(app_double, key_path, tmp_path):
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "one")
    key_path.chmod(0o644)  # would be refused, were it read
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "two")
    assert len(app_double.mints) == 1


def test_installation_id_set_skips_the_lookup(app_double, key_path, tmp_path):
    installation = next(iter(app_double.installations))
    connect(app_double, key_path, tmp_path / "cache", installation_id=installation).create_org_repo(ORG, "a")
    assert not app_double.requests("GET", "/installation$")
    assert app_double.mints == [installation]


def test_a_token_near_its_expiry_is_replaced_mid_batch(app_double, key_path, tmp_path):
    gh = connect(app_double, key_path, tmp_path / "cache", clock=app_double.now)  # one clock
    gh.create_org_repo(ORG, "one")
    app_double.clock_offset += 3600 - 5 * 60 - 1  # still more than 5 minutes left: reused
    gh.create_org_repo(ORG, "two")
    assert len(app_double.mints) == 1
    app_double.clock_offset += 2  # now within 5 minutes of expires_at
    gh.create_org_repo(ORG, "three")
    assert len(app_double.mints) == 2


def test_a_401_for_a_cached_token_mints_a_new_one_once(app_double, key_path, tmp_path):
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "one")
    app_double.tokens = {k: v for k, v in app_double.tokens.items() if v.installation is None}  # revoked
    created = connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "two")
    assert created.repo.full_name == f"{ORG}/two"
    assert len(app_double.mints) == 2


def test_a_401_for_a_token_this_run_minted_is_not_retried(app_double, key_path, tmp_path):
    gh = connect(app_double, key_path, tmp_path / "cache")
    gh.create_org_repo(ORG, "one")
    app_double.tokens = {k: v for k, v in app_double.tokens.items() if v.installation is None}
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "two")
    assert e.value.code == GITHUB_UNAUTHORIZED
    assert len(app_double.mints) == 1


@pytest.mark.parametrize(
    ("app_id", "offset", "reason"),
    [
        (999, 0, "Integration not found"),
        (APP_ID, -3600, "'Issued at' claim ('iat') must be an Integer"),
        (APP_ID, 3600, "'Expiration time' claim ('exp') must be a numeric value"),
    ],
    ids=["wrong-app-id", "clock-ahead", "clock-behind"],
)
def test_a_rejected_jwt_is_unauthorized_with_githubs_reason(
    app_double, key_path, tmp_path, app_id, offset, reason
):
    app_double.clock_offset = offset
    gh = connect(
        app_double, key_path, tmp_path / "cache", app_id=app_id, clock=lambda: app_double.now() - offset
    )
    with pytest.raises(GitHubError) as e:
        gh.create_org_repo(ORG, "one")
    assert e.value.code == GITHUB_UNAUTHORIZED
    assert e.value.exit_code == 4
    assert reason in e.value.message
    assert "clock" in e.value.message
    assert app_double.created == []


def test_a_key_of_another_app_is_rejected(app_double, tmp_path):
    other = write_key(tmp_path / "other.pem", rsa_key(1))
    with pytest.raises(GitHubError, match="A JSON web token could not be decoded"):
        connect(app_double, other, tmp_path / "cache").create_org_repo(ORG, "one")


def test_an_org_without_the_installation_says_where_to_install_it(app_double, key_path, tmp_path):
    app_double.add_org("client-org")
    with pytest.raises(GitHubError) as e:
        connect(app_double, key_path, tmp_path / "cache").create_org_repo("client-org", "one")
    assert e.value.code == GITHUB_NOT_FOUND
    assert e.value.exit_code == 1
    assert "not installed on client-org" in e.value.message
    assert "https://github.com/apps/specctl-agency/installations/new" in e.value.message


def test_an_installation_token_reaches_only_its_org(app_double, key_path, tmp_path):
    app_double.add_org("client-org")
    app_double.install_app(APP_ID, "client-org")
    gh = connect(app_double, key_path, tmp_path / "cache")
    gh.create_org_repo(ORG, "one")
    gh.create_org_repo("client-org", "two")  # through client-org's own installation
    assert app_double.created == [f"{ORG}/one", "client-org/two"]
    assert sorted(app_double.mints) == sorted(app_double.installations)
    assert len({s.authorization for s in app_double.requests("POST", "/repos$")}) == 2  # one token each


def test_a_cache_file_others_can_read_is_not_trusted(app_double, key_path, tmp_path):
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "one")
    for f in (tmp_path / "cache").iterdir():
        f.chmod(0o644)
    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "two")
    assert len(app_double.mints) == 2


def test_the_token_is_still_sent_only_to_api_url(app_double, key_path, tmp_path):
    gh = connect(app_double, key_path, tmp_path / "cache")
    gh.create_org_repo(ORG, "one")
    request = gh.client.build_request("GET", "http://example.com/orgs/x/repos")
    flow = gh.client.auth.sync_auth_flow(request)  # type: ignore[union-attr]
    assert "Authorization" not in next(flow).headers


def test_the_pat_path_is_unchanged_and_imports_no_app_code(double, tmp_path):
    gh = GitHub.connect(double.url, Token(TOKEN, "GH_TOKEN"), pace=0)
    gh.create_org_repo(ORG, "one")
    assert gh.app is None
    assert double.requests("POST")[0].authorization == f"Bearer {TOKEN}"


def test_installation_tokens_and_jwts_are_registered_secrets(app_double, key_path, tmp_path):
    from specctl.errors import redact

    connect(app_double, key_path, tmp_path / "cache").create_org_repo(ORG, "one")
    token = next(t for t, info in app_double.tokens.items() if info.installation is not None)
    jwt = next(s.authorization for s in app_double.seen if s.path.startswith("/app")).split(" ", 1)[1]
    assert token not in redact(f"echoed {token}")
    assert jwt not in redact(f"echoed {jwt}")
    assert token not in GitHubError("GITHUB_UNAVAILABLE", f"proxy said {token}").message
