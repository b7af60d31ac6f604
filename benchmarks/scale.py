"""The work that grows (issue 17), for benchmarks/run.py: a big org's listing, the team store on
PostgreSQL beside SQLite, and provisioning checks. Each returns results as run.py's `summary`
makes them; figures are printed, never asserted."""

from __future__ import annotations

import sys
from pathlib import Path

from pages import FLOOR, PageServer
from run import ORG, SPECCTL, TOKEN, Job, fixed, project_rows, side_by_side, summary, timed

from ghdouble import GitHubDouble

# -- 2. list-repos ----------------------------------------------------------------------------


def listing(repos: int, big_org: int, runs: int, env: dict[str, str]) -> list[dict]:
    """`specctl list-repos OWNER` piped, concurrency 1 and 4, beside the floor (a plain httpx
    loop by Link next; `gh api --paginate` too when installed), at 0 and 20 ms a request; then
    a big org at 20 ms, where memory counts."""
    results = []
    for count, latency, n in ((repos, 0.0, runs), (repos, 0.02, max(1, runs // 2)), (big_org, 0.02, 1)):
        ms = int(latency * 1000)
        with PageServer(ORG, count, latency=latency) as server:
            at = {**env, "GITHUB_API_URL": server.url}
            jobs = [
                Job(f"specctl list-repos ({count:,} repos, {ms} ms, concurrency {c})",
                    fixed(SPECCTL, "list-repos", ORG), {**at, "SPECCTL_CONCURRENCY": str(c)})
                for c in ((4,) if count == big_org else (1, 4))
            ]  # fmt: skip
            jobs.append(Job(f"httpx loop by Link next ({count:,} repos, {ms} ms)",
                            fixed(sys.executable, "-c", FLOOR, server.url, ORG), at))  # fmt: skip
            results += side_by_side(jobs, n)
    return results


# -- 3. the team store ------------------------------------------------------------------------


def team_store(big: int, runs: int, batch: int, rounds: int, tmp: Path, env: dict[str, str]) -> list[dict]:
    """approve (one slug, a batch) and `projects` on `big` projects, on SQLite and on a
    throwaway PostgreSQL (unix socket, as the tests start it), interleaved."""
    from pg import _bin_dir, _start_server  # the tests' throwaway server

    bin_dir = _bin_dir()
    if bin_dir is None:
        print("no PostgreSQL server binaries: team store skipped")
        return []
    server = _start_server(bin_dir)
    pg = next(server)
    try:
        return _team_store(pg.create_database(), big, runs, batch, rounds, tmp, env)
    finally:
        server.close()


def _team_store(
    url: str, big: int, runs: int, batch: int, rounds: int, tmp: Path, env: dict[str, str]
) -> list[dict]:
    from specctl.config import DatabaseURL
    from specctl.store import open_store

    sqlite_db = tmp / "team.db"
    engines = {"SQLite": str(sqlite_db), "PostgreSQL": url}
    stores = {"SQLite": open_store(sqlite_db), "PostgreSQL": open_store(DatabaseURL(url))}

    def add(engine: str, slugs: list[str]) -> list[str]:
        """Projects in one engine's store; the slugs name the engine (one repo each on the double)."""
        named = [f"{engine[0].lower()}{slug}" for slug in slugs]
        for slug in named:
            stores[engine].add(slug=slug, name=slug, description="", status="interviewing")
        return named

    results = []
    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        at = {e: {**env, "GITHUB_API_URL": double.url, "SPECCTL_DB": db} for e, db in engines.items()}
        one = {e: add(e, [f"one-{i:03d}" for i in range(runs)]) for e in engines}
        results += side_by_side(
            [Job(f"specctl approve (1 slug, {e})", lambda i, e=e: [SPECCTL, "approve", one[e][i]], at[e])
             for e in engines],
            runs,
        )  # fmt: skip
        walls: dict[str, list[float]] = {e: [] for e in engines}
        peaks: dict[str, list[int]] = {e: [] for e in engines}
        for r in range(rounds):
            for e in engines:
                slugs = add(e, [f"batch{r}-{i:03d}" for i in range(batch)])
                wall, peak = timed([SPECCTL, "approve", "--stdin"], at[e], "\n".join(slugs))
                walls[e].append(wall)
                peaks[e].append(peak)
        results += [
            summary(f"specctl approve --stdin, {batch} slugs ({e})", walls[e], peaks[e]) for e in engines
        ]
    for store in stores.values():
        store.close()
    fill(sqlite_db, url, big)
    results += side_by_side(
        [
            Job(f"specctl projects ({big:,}, piped, {e})", fixed(SPECCTL, "--db", db, "projects"), env)
            for e, db in engines.items()
        ]
        + [
            Job("python -c pass", fixed(sys.executable, "-c", "pass"), env),
            Job("python -c 'import psycopg'", fixed(sys.executable, "-c", "import psycopg"), env),
        ],
        runs,
    )
    return results


def fill(sqlite_db: Path, url: str, big: int) -> None:
    """`big` more projects in each store: SQLite in one transaction, PostgreSQL by COPY."""
    import sqlite3

    import psycopg

    rows = list(project_rows(1, big))
    with sqlite3.connect(sqlite_db) as conn:
        conn.executemany(
            "INSERT INTO projects (slug, name, description, spec_status, github_repo, repo_source, "
            "created_at, updated_at, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        columns = (
            "slug, name, description, spec_status, github_repo, repo_source, created_at, updated_at, org"
        )
        with cursor.copy(f"COPY projects ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute("ANALYZE projects")


# -- 4. provisioning --------------------------------------------------------------------------

REPO_TABLE = """
[repo]
teams = { developers = "push" }
topics = ["client", "web"]
has_wiki = false
delete_branch_on_merge = true
"""


def provisioning(count: int, runs: int, tmp: Path, env: dict[str, str]) -> tuple[list[dict], dict[str, int]]:
    """`provision --check --all` over `count` converged repos at 20 ms a request, concurrency
    4 and 1, and the writes each run sent (a converged repo costs none)."""
    config = tmp / "provision.toml"
    config.write_text(REPO_TABLE)
    config.chmod(0o600)
    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        double.add_team(ORG, "developers")
        at = {**env, "GITHUB_API_URL": double.url, "SPECCTL_DB": str(tmp / "provision.db"),
              "SPECCTL_CONFIG": str(config)}  # fmt: skip
        from specctl.store import open_store

        store = open_store(Path(at["SPECCTL_DB"]))
        for i in range(count):
            store.add(slug=f"client-{i:03d}", name=f"Client {i}", description="", status="interviewing")
        store.close()
        slugs = "\n".join(f"client-{i:03d}" for i in range(count))
        timed([SPECCTL, "approve", "--stdin"], at, slugs)  # creates and provisions: converged
        double.latency = 0.02
        before = len(double.seen)
        results = side_by_side(
            [Job(f"specctl provision --check --all ({count} repos, 20 ms, concurrency {c})",
                 fixed(SPECCTL, "provision", "--check", "--all"), {**at, "SPECCTL_CONCURRENCY": str(c)})
             for c in (4, 1)],
            runs,
        )  # fmt: skip
        seen = double.seen[before:]
        counts = {
            "requests": len(seen),
            "writes": sum(1 for s in seen if s.method != "GET"),
            "runs": 2 * runs,
        }
    return results, counts
