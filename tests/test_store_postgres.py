"""What only the PostgreSQL store has: a server to reach, named migrations recorded in the
database, first use by several processes at once. The behaviour both engines share is tested
by tests/test_store.py and tests/test_approve.py, which run on both."""

import json
import threading

import psycopg
import pytest

from specctl.config import DatabaseURL
from specctl.errors import StoreError
from specctl.store import open_store
from specctl.store.postgres import MIGRATIONS, SCHEMA_VERSION


def tables(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        return [name for (name,) in rows]


def test_first_use_creates_the_schema_and_records_the_migrations(pg_url):
    open_store(DatabaseURL(pg_url)).close()
    assert tables(pg_url) == ["events", "projects", "repo_attempts", "repo_claims", "specctl_migrations"]
    with psycopg.connect(pg_url) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM specctl_migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]
    assert len(names) == SCHEMA_VERSION


def test_six_processes_on_an_empty_database_at_once_all_succeed(pg_url):
    errors = []

    def first_use():
        try:
            store = open_store(DatabaseURL(pg_url))
            store.add(slug=f"p{threading.get_ident()}", name="P", description="", status="interviewing")
            store.close()
        except Exception as e:  # pragma: no cover - the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = open_store(DatabaseURL(pg_url))
    assert len(list(store.projects())) == 6


def test_a_database_from_a_newer_specctl_is_refused_untouched(pg_url):
    open_store(DatabaseURL(pg_url)).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO specctl_migrations (name) VALUES ('m999_from_the_future')")
    with pytest.raises(StoreError, match="newer specctl"):
        open_store(DatabaseURL(pg_url))
    assert tables(pg_url) == ["events", "projects", "repo_attempts", "repo_claims", "specctl_migrations"]


def test_a_database_with_tables_of_its_own_is_refused_untouched(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE photos (id int)")
    with pytest.raises(StoreError, match="not a specctl store"):
        open_store(DatabaseURL(pg_url))
    assert tables(pg_url) == ["photos"]


def test_a_lost_connection_is_store_unavailable_naming_the_host(pg_url, pg_server):
    store = open_store(DatabaseURL(pg_url))
    store.add(slug="acme", name="Acme", description="", status="interviewing")
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'specctl'"
        )
    with pytest.raises(StoreError, match="lost the connection to the store at /") as caught:
        store.set_status("acme", expected="interviewing", new="review")
    assert caught.value.code == "STORE_UNAVAILABLE"
    assert caught.value.exit_code == 1
    assert len(caught.value.message.splitlines()) == 1


def test_the_password_in_the_url_never_shows_in_a_store_error(pg_url):
    password = "pw-canary-9f8e"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    store = open_store(DatabaseURL(url))  # a trust server ignores the password
    with pytest.raises(Exception, match="no project") as caught:
        store.require("nope")
    assert password not in str(caught.value)
    assert password not in store.where


def test_one_write_is_one_transaction_left_closed(pg_url):
    store = open_store(DatabaseURL(pg_url))
    store.add(slug="acme", name="Acme", description="", status="interviewing")
    store.record_attempt("acme", "acme", "run")
    assert store.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


PASSWORD = "s3cret-canary-pw"


def test_an_invalid_url_is_bad_config_without_the_password(cli):
    result = cli("--db", "postgresql://u:p%zzpw@h/db", "projects")
    assert result.exit_code == 2
    assert "not a valid PostgreSQL URL" in result.stderr
    assert "p%zzpw" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_unreachable_server_is_store_unavailable_naming_the_host(cli, tmp_path):
    url = f"postgresql://admin:{PASSWORD}@/specctl?host={tmp_path}/nosuchdir&connect_timeout=2"
    for verbose in ((), ("--verbose",)):
        result = cli(*verbose, "--json", "--db", url, "projects")
        assert result.exit_code == 1
        error = json.loads(result.stdout)["error"]
        assert error["code"] == "STORE_UNAVAILABLE"
        assert f"cannot reach the store at {tmp_path}/nosuchdir" in error["message"]
        assert PASSWORD not in result.stdout + result.stderr


def test_doctor_reports_kind_where_schema_server_and_round_trip(pg_url):
    from specctl.doctor import Doctor
    from specctl.runtime import Options, Runtime

    password = "doctor-canary-pw"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    ticks = iter([1.0, 1.0025])
    rt = Runtime(Options(db=url), environ={"SPECCTL_CONFIG": "/nonexistent/config.toml"})
    doctor = Doctor(rt, timer=lambda: next(ticks))
    assert doctor._check("store", doctor._store)
    detail = doctor.checks[-1].detail
    rt.close()
    assert detail.startswith(
        f"postgresql {url.replace(password, '****')} opens, schema {SCHEMA_VERSION} (0 projects)"
    )
    assert "server PostgreSQL 15." in detail
    assert detail.endswith("round trip 2.5 ms")
    assert password not in detail


def test_doctor_cli_names_the_store_and_never_the_password(cli, pg_url):
    password = "doctor-canary-pw"
    url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@")
    result = cli("--json", "--db", url, "doctor")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["store"]["status"] == "ok"
    assert "postgres:****@" in checks["store"]["detail"]
    assert password not in result.stdout + result.stderr


def test_attempts_of_a_first_schema_database_open_as_unanswered_without_loss(pg_url):
    from specctl.store.postgres import migrate

    with psycopg.connect(pg_url, autocommit=True) as conn:
        migrate(conn, upto=1)
        conn.execute(
            "INSERT INTO projects (slug, name, description, spec_status, created_at, updated_at) "
            "VALUES ('old', 'Old', '', 'review', now(), now())"
        )
        conn.execute(
            "INSERT INTO repo_attempts (project_slug, name, at, run_id) VALUES ('old', 'old', now(), 'r1')"
        )
    store = open_store(DatabaseURL(pg_url))
    [attempt] = store.attempts("old")
    assert (attempt.name, attempt.run_id, attempt.owner, attempt.outcome, attempt.github_at) == (
        "old", "r1", None, None, None,
    )  # fmt: skip
    store.record_attempt("old", "old", "r2", owner="org")
    store.set_attempt_outcome("old", "r2", "old", "created")
    assert [(a.owner, a.outcome) for a in store.attempts("old")] == [(None, None), ("org", "created")]
    store.close()
