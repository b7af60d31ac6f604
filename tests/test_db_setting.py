"""The `db` setting: an SQLite path or a PostgreSQL URL, decided once in config; a URL's
password is never shown, and a config file holding one must be private."""

import json
import sys
from pathlib import Path

import pytest

from specctl.config import DatabaseURL, parse_db, read_config, redact_url, resolve
from specctl.errors import ConfigError

PASSWORD = "s3cret-canary-pw"  # must never show up anywhere
URL = f"postgresql://admin:{PASSWORD}@db.example.com:5432/specctl?sslmode=require"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (URL, "postgresql://admin:****@db.example.com:5432/specctl?sslmode=require"),
        ("postgres://u@h/db", "postgres://u@h/db"),
        ("postgresql://u:p@ss/w@h/db", "postgresql://u:****@h/db"),  # `@` and `/` unencoded
        ("postgresql:///db?host=/run/pg&password=pw&sslmode=require",
         "postgresql:///db?host=/run/pg&password=****&sslmode=require"),
        ("postgresql://u:pw@h1:1,h2:2/db", "postgresql://u:****@h1:1,h2:2/db"),
        ("postgresql://h/db?PASSWORD=pw", "postgresql://h/db?PASSWORD=****"),
    ],
)  # fmt: skip
def test_redact_url_masks_every_password(url, shown):
    assert redact_url(url) == shown


def test_a_url_is_kept_whole_and_printed_masked():
    db = parse_db(URL)
    assert isinstance(db, DatabaseURL)
    assert db.url == URL
    assert PASSWORD not in f"{db} {db!r} {[db]}"
    assert db.has_password
    assert not DatabaseURL("postgresql://u@h/db").has_password


def test_a_path_is_expanded_and_a_url_is_not(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    assert parse_db("~/specctl.db") == Path("/home/someone/specctl.db")
    assert parse_db("POSTGRES://~u@h/db") == DatabaseURL("POSTGRES://~u@h/db")


def test_url_from_flag_env_and_file(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('db = "postgresql://u@filehost/specctl"\n')
    cfg.chmod(0o600)
    config = read_config(cfg)
    assert resolve(environ={}, config=config).db == DatabaseURL("postgresql://u@filehost/specctl")
    from_env = resolve(environ={"SPECCTL_DB": "postgres://u@envhost/x"}, config=config)
    assert from_env.db == DatabaseURL("postgres://u@envhost/x")
    assert resolve(environ={}, db_flag=URL, config=config).db == DatabaseURL(URL)


def test_config_file_with_a_db_password_must_be_private(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'db = "{URL}"\n')
    cfg.chmod(0o644)
    with pytest.raises(ConfigError, match=f"holds a database password .*chmod 600 {cfg}") as caught:
        resolve(environ={}, config=read_config(cfg))
    assert PASSWORD not in caught.value.message
    cfg.chmod(0o600)
    assert resolve(environ={}, config=read_config(cfg)).db == DatabaseURL(URL)


def test_a_readable_config_is_fine_without_a_password_or_when_the_url_comes_from_elsewhere(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('db = "postgresql://u@h/db"\n[env.prod]\norg = "x"\n')
    cfg.chmod(0o644)
    assert resolve(environ={}, config=read_config(cfg)).db == DatabaseURL("postgresql://u@h/db")
    cfg.write_text(f'db = "{URL}"\n')
    assert resolve(environ={}, db_flag="/x.db", config=read_config(cfg)).db == Path("/x.db")


def test_config_show_and_get_mask_the_password(cli):
    for args in (("config", "show"), ("--json", "config", "show"), ("config", "get", "db")):
        result = cli("--db", URL, *args)
        assert result.exit_code == 0, result.stderr
        assert "admin:****@db.example.com" in result.stdout
        assert PASSWORD not in result.stdout + result.stderr


def test_config_set_db_url_stores_it_whole_and_says_so_masked(cli, isolated):
    result = cli("config", "set", "db", URL)
    assert result.exit_code == 0
    assert PASSWORD not in result.stdout + result.stderr
    path = isolated / "config" / "config.toml"
    assert URL in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_postgres_url_without_psycopg_is_bad_config_naming_the_install(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "specctl.store.postgres", raising=False)
    result = cli("--db", URL, "--json", "projects")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "CONFIG_INVALID"
    assert "pip install 'specctl[postgres]'" in error["message"]
    assert PASSWORD not in result.stdout + result.stderr


def test_a_path_whose_tilde_cannot_be_expanded_is_bad_config(cli):
    result = cli("--db", "~nosuchuser-specctl/x.db", "projects")
    assert result.exit_code == 2
    assert "cannot expand '~'" in result.stderr
    assert "internal error" not in result.stderr
