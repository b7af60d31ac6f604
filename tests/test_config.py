import os
import stat
from pathlib import Path

import pytest

from specctl.config import (
    ConfigFile,
    check_api_url,
    read_config,
    resolve,
    resolve_token,
    write_config,
)
from specctl.errors import GITHUB_TOKEN_MISSING, ConfigError, GitHubError, SpecctlError


def config_at(tmp_path: Path, text: str, mode: int = 0o600) -> ConfigFile:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return read_config(path)


def test_defaults(tmp_path):
    s = resolve(environ={}, config=read_config(tmp_path / "none.toml"))
    assert (s.org, s.api_url, s.pace, s.max_wait, s.timeout, s.concurrency) == (
        "auditmos-projects", "https://api.github.com", 1.0, 60.0, 10.0, 4,
    )  # fmt: skip
    assert s.db.name == "specctl.db"
    assert s.sources["org"] == "default"


def test_precedence_flag_env_envtable_file_default(tmp_path):
    cfg = config_at(
        tmp_path,
        'org = "file-org"\ndb = "/file.db"\npace = 2\n'
        '[env.staging]\norg = "staging-org"\ndb = "/staging.db"\n',
    )
    base = resolve(environ={}, config=cfg)
    assert (base.org, str(base.db), base.pace) == ("file-org", "/file.db", 2.0)
    staged = resolve(environ={}, env_flag="staging", config=cfg)
    assert (staged.org, str(staged.db), staged.pace) == ("staging-org", "/staging.db", 2.0)
    assert staged.sources["org"] == "config [env.staging]"
    by_env_var = resolve(environ={"SPECCTL_ENV": "staging"}, config=cfg)
    assert by_env_var.org == "staging-org"
    env = {"GITHUB_ORG": "env-org", "SPECCTL_DB": "/env.db"}
    from_env = resolve(environ=env, env_flag="staging", config=cfg)
    assert (from_env.org, str(from_env.db)) == ("env-org", "/env.db")
    assert from_env.sources["org"] == "GITHUB_ORG"
    flagged = resolve(environ=env, db_flag="/flag.db", env_flag="staging", config=cfg)
    assert str(flagged.db) == "/flag.db"
    assert flagged.sources["db"] == "flag"


def test_unknown_env_table_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"no \[env.prod\] table"):
        resolve(environ={}, env_flag="prod", config=config_at(tmp_path, ""))


def test_a_config_that_is_not_utf8_says_so(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'org = "\xff"\n')
    with pytest.raises(ConfigError) as e:
        read_config(path)
    assert e.value.message == f"config {path} is not UTF-8 text (at byte 8)"


def test_broken_toml_names_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError) as e:
        config_at(tmp_path, 'org = "a"\npace = = 1\n')
    assert "config.toml" in e.value.message
    assert "line 2" in e.value.message


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('colour = "red"', "unknown key 'colour'"),
        ("pace = -1", "pace"),
        ('pace = "fast"', "pace"),
        ("concurrency = 0", "concurrency"),
        ("concurrency = 1000", "concurrency"),
        ("timeout = 0", "timeout"),
        ('org = "bad org!"', "org"),
        ('api_url = "ftp://x"', "api_url"),
        ('[env.staging]\ntoken = "x"', "unknown key 'token'"),
        ('env = "x"', r"\[env\]"),
    ],
)
def test_wrong_keys_and_types_are_config_errors(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        config_at(tmp_path, text)


def test_bad_env_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="SPECCTL_CONCURRENCY"):
        resolve(environ={"SPECCTL_CONCURRENCY": "many"}, config=config_at(tmp_path, ""))


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("SPECCTL_PACE", "abc", "expected a number from 0 to 60"),
        ("SPECCTL_PACE", "inf", "expected a number from 0 to 60"),
        ("SPECCTL_MAX_WAIT", "nan", "expected a number from 0 to 3600"),
        ("SPECCTL_TIMEOUT", "1e999", "expected a number above 0, at most 300"),
        # so large that sleep() or a socket timeout would overflow (`SPECCTL_PACE=1e10` crashed)
        ("SPECCTL_PACE", "1e10", "expected a number from 0 to 60"),
        ("SPECCTL_MAX_WAIT", "1e10", "expected a number from 0 to 3600"),
        ("SPECCTL_TIMEOUT", "1e10", "expected a number above 0, at most 300"),
        ("SPECCTL_CONCURRENCY", "many", "expected a whole number from 1 to 100"),
    ],
)
def test_bad_numbers_say_what_is_expected_in_our_words(tmp_path, var, value, expected):
    """Not Python's "could not convert string to float", and never an endless wait."""
    with pytest.raises(ConfigError) as e:
        resolve(environ={var: value}, config=config_at(tmp_path, ""))
    assert e.value.message.endswith(f"(from {var}): {expected}")


@pytest.mark.parametrize("text", ['token = ["ghp_SECRET"]', 'token = {t = "ghp_SECRET"}', "token = 7357"])
def test_a_token_of_the_wrong_type_is_refused_without_showing_it(tmp_path, text):
    with pytest.raises(ConfigError) as e:
        config_at(tmp_path, text)
    assert "token" in e.value.message
    assert "SECRET" not in e.value.message
    assert "7357" not in e.value.message


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        ('org = "' + "o" * 5_000_000 + '"', {}),
        ("k" * 5_000_000 + " = 1", {}),
        ("[env." + "e" * 5_000_000 + "]\npace = -1", {}),
        ("", {"GITHUB_ORG": "o" * 5_000_000}),
        ("", {"SPECCTL_PACE": "9" * 5_000_000}),
    ],
)
def test_values_echoed_in_config_errors_are_cut_short(tmp_path, text, environ):
    with pytest.raises(ConfigError) as e:
        resolve(environ=environ, config=config_at(tmp_path, text))
    assert len(e.value.message) < 400


def test_token_order(tmp_path):
    cfg = config_at(tmp_path, 'token = "from-file"')
    gh = lambda host: "from-gh"  # noqa: E731
    both = {"GH_TOKEN": "gh-token", "GITHUB_TOKEN": "github-token"}
    assert resolve_token(cfg, both, gh_token=gh).value == "gh-token"
    assert resolve_token(cfg, {"GITHUB_TOKEN": "github-token"}, gh_token=gh).source == "GITHUB_TOKEN"
    assert resolve_token(cfg, {}, gh_token=gh).source == "config"
    assert resolve_token(read_config(tmp_path / "no.toml"), {}, gh_token=gh).source == "gh"
    with pytest.raises(GitHubError) as e:
        resolve_token(read_config(tmp_path / "no.toml"), {}, gh_token=lambda host: None)
    assert e.value.code == GITHUB_TOKEN_MISSING
    assert e.value.exit_code == 4


@pytest.mark.parametrize("value", ["ghp_abc\ndef", "ghp_abc def", "ghp_\x07bell"])
def test_a_token_with_spaces_or_control_characters_is_refused_without_showing_it(tmp_path, value):
    with pytest.raises(GitHubError) as e:
        resolve_token(read_config(tmp_path / "no.toml"), {"GH_TOKEN": value})
    assert e.value.message == (
        "the token from GH_TOKEN has spaces or control characters inside; set it again"
    )
    assert e.value.exit_code == 4


def test_token_in_a_file_others_can_read_is_refused_with_the_fix(tmp_path):
    cfg = config_at(tmp_path, 'token = "secret-value"', mode=0o644)
    with pytest.raises(GitHubError) as e:
        resolve_token(cfg, {}, gh_token=lambda host: None)
    assert f"chmod 600 {cfg.path}" in e.value.message
    assert "secret-value" not in e.value.message


def test_gh_auth_token_is_asked_for_the_api_host(tmp_path):
    asked = []
    with pytest.raises(GitHubError):
        resolve_token(read_config(tmp_path / "no.toml"), {}, "https://ghe.example.com/api/v3", asked.append)
    assert asked == ["ghe.example.com"]


def test_gh_fallback_runs_the_gh_cli(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "gh"
    fake.write_text('#!/bin/sh\n[ "$1 $2 $3 $4" = "auth token --hostname github.com" ] && echo gho_fromgh\n')
    fake.chmod(0o755)
    token = resolve_token(read_config(tmp_path / "no.toml"), {})
    assert (token.value, token.source) == ("gho_fromgh", "gh")


def test_token_repr_and_str_hide_the_value():
    from specctl.config import Token

    token = Token("ghp_supersecret", "GH_TOKEN")
    assert "supersecret" not in repr(token)
    assert "supersecret" not in str(token)


def test_config_file_repr_hides_its_tables(tmp_path):
    path = tmp_path / "c.toml"
    write_config(path, {"token": "ghp_supersecret", "org": "acme"})
    config = read_config(path)
    assert config.data["token"] == "ghp_supersecret"
    assert "supersecret" not in repr(config)
    assert str(path) in repr(config)


def test_write_config_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "new" / "config.toml"
        write_config(path, {"org": "x", "env": {"staging": {"org": "y"}}})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_config(path).table("staging") == {"org": "y"}


def test_api_url_must_be_https_except_loopback():
    check_api_url("https://api.github.com")
    check_api_url("http://127.0.0.1:8080")
    check_api_url("http://localhost:1")
    check_api_url("http://[::1]:1")
    with pytest.raises(ConfigError, match="plain http"):
        check_api_url("http://api.github.com")
    with pytest.raises(ConfigError, match="plain http"):
        check_api_url("http://10.0.0.1")


def test_a_config_that_cannot_be_replaced_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "conf" / "config.toml"
    path.mkdir(parents=True)  # os.replace cannot put a file over a folder
    with pytest.raises(SpecctlError, match=r"cannot write config .*config\.toml: Is a directory"):
        write_config(path, {"org": "acme"})
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]
