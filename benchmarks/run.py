"""specctl benchmarks: whole-process wall times (and peak RSS) of the installed `specctl`,
side by side with `gh` where it is installed, against the GitHub double on 127.0.0.1.

    python benchmarks/run.py            # table on stdout, JSON in benchmarks/results.json
    python benchmarks/run.py --quick    # fewer runs, smaller stores (a smoke test)

Commands that are compared run interleaved, one run of each in turn, so that both see the same
machine (a busy neighbour slows both, not one). Figures are printed, never asserted: speed is
measured here, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ghdouble import GitHubDouble  # noqa: E402

ORG = "bench-org"
STATUSES = ("interviewing", "review", "active", "complete")
# The rows `specctl projects` prints, as the floors a user could reach for select them
LISTING_SQL = (
    f"SELECT slug, spec_status, github_repo, repo_source, name, coalesce(org, '{ORG}') AS org "
    "FROM projects ORDER BY slug"
)
TOKEN = "ghp_benchmarktoken"
_NEXT_TO_PYTHON = Path(sys.executable).parent / "specctl"
SPECCTL = str(_NEXT_TO_PYTHON) if _NEXT_TO_PYTHON.exists() else "specctl"
SQLITE_UTILS = str(Path(sys.executable).parent / "sqlite-utils")


@dataclass
class Job:
    name: str
    argv: Callable[[int], list[str]]  # run number -> command line (fresh names for creates)
    env: dict[str, str]
    stdin: str | None = None


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None
    assert proc.stderr is not None
    if stdin:
        proc.stdin.write(stdin.encode())
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return wall, usage.ru_maxrss


def side_by_side(jobs: list[Job], runs: int) -> list[dict]:
    """Run each job `runs` times, interleaved; the median and fastest wall time of each."""
    walls: dict[str, list[float]] = {job.name: [] for job in jobs}
    peaks: dict[str, list[int]] = {job.name: [] for job in jobs}
    for i in range(runs):
        for job in jobs:
            wall, peak = timed(job.argv(i), job.env, job.stdin)
            walls[job.name].append(wall)
            peaks[job.name].append(peak)
    return [summary(job.name, walls[job.name], peaks[job.name]) for job in jobs]


def summary(name: str, walls: list[float], peaks: list[int]) -> dict:
    """One result: wall seconds and peak RSS (KiB) of each run, as milliseconds and MB."""
    return {
        "name": name,
        "runs": len(walls),
        "median_ms": round(statistics.median(walls) * 1000, 1),
        "min_ms": round(min(walls) * 1000, 1),
        "peak_rss_mb": round(max(peaks) / 1024, 1),
    }


def fixed(*argv: str) -> Callable[[int], list[str]]:
    return lambda i: list(argv)


def make_store(path: Path, count: int, env: dict[str, str]) -> None:
    """A store of `count` projects: the schema by specctl, the rows in bulk."""
    subprocess.run(
        [SPECCTL, "--db", str(path), "add", "seed", "--slug", "seed-000000"],
        env=env,
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO projects (slug, name, description, spec_status, github_repo, repo_source, "
            "created_at, updated_at, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            project_rows(1, count),
        )


def project_rows(start: int, count: int) -> Iterator[tuple[str | None, ...]]:
    """Projects as a store has them: every third with a repo, every tenth in its own org."""
    for i in range(start, count):
        repo = f"{ORG}/project-{i:06d}" if i % 3 == 0 else None
        yield (
            f"project-{i:06d}",
            f"Project {i}",
            "",
            STATUSES[i % 4],
            repo,
            "auto" if repo else None,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            "client-org" if i % 10 == 0 else None,
        )


def add_projects(prefix: str, count: int, env: dict[str, str]) -> list[str]:
    slugs = [f"{prefix}-{i:03d}" for i in range(count)]
    for slug in slugs:
        subprocess.run([SPECCTL, "add", slug, "--slug", slug], env=env, check=True, capture_output=True)
    return slugs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller stores")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--batch", type=int, default=20, help="slugs in the approve batch comparison")
    args = parser.parse_args()
    runs = 3 if args.quick else 15
    big = 10_000 if args.quick else 100_000
    repos = 1_000 if args.quick else 5_000
    gh = shutil.which("gh")
    tmp = Path(tempfile.mkdtemp(prefix="specctl-bench-"))
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp), "SPECCTL_CONFIG": str(tmp / "config.toml"),
        "SPECCTL_DB": str(tmp / "1k.db"), "GH_TOKEN": TOKEN, "SPECCTL_PACE": "0", "NO_COLOR": "1",
        "GITHUB_ORG": ORG,
    }  # fmt: skip
    results: list[dict] = []

    def record(entries: list[dict]) -> None:
        for e in entries:
            results.append(e)
            print(f"{e['name']:<62} median {e['median_ms']:>9.1f} ms   min {e['min_ms']:>9.1f} ms   "
                  f"rss {e['peak_rss_mb']:>6.1f} MB", flush=True)  # fmt: skip

    make_store(tmp / "1k.db", 1_000, env)
    make_store(tmp / "big.db", big, env)

    # 1. start-up and the store
    startup = [
        Job("specctl --version", fixed(SPECCTL, "--version"), env),
        Job("specctl --help", fixed(SPECCTL, "--help"), env),
        Job("specctl projects (1,000, piped)", fixed(SPECCTL, "projects"), env),
    ]
    if gh:
        startup.insert(0, Job("gh --version", fixed(gh, "--version"), env))
    record(side_by_side(startup, runs))
    record(big_listing(str(tmp / "big.db"), big, runs, env))

    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        gh_env = {**env, "GH_HOST": "github.localhost", "HTTP_PROXY": double.url, "http_proxy": double.url,
                  "NO_PROXY": "", "GH_NO_UPDATE_NOTIFIER": "1", "GH_CONFIG_DIR": str(tmp / "gh")}  # fmt: skip
        env = {**env, "GITHUB_API_URL": double.url, "GITHUB_ORG": ORG, "SPECCTL_DB": str(tmp / "approve.db")}

        # 2. approve: one create each run (fresh slugs and names), then a batch against processes
        one = add_projects("one", runs, env)
        creates = [Job("specctl approve (1 slug, double)", lambda i: [SPECCTL, "approve", one[i]], env)]
        if gh:

            def post(i):
                return [
                    gh,
                    "api",
                    "-X",
                    "POST",
                    f"orgs/{ORG}/repos",
                    "-f",
                    f"name=gh-{i:03d}",
                    "-F",
                    "private=true",
                ]

            creates.append(Job("gh api -X POST orgs/ORG/repos (double)", post, gh_env))
        record(side_by_side(creates, runs))
        record(batch_against_processes(args.batch, 1 if args.quick else 5, env))

        # 3. list-repos, sequential and concurrent pages, against gh --paginate
        double.add_repos(ORG, repos - len(double.repos))
        for latency, list_runs in ((0.0, 5), (0.02, 3)):
            double.latency = latency
            ms = int(latency * 1000)
            listing = [
                Job(f"specctl list-repos ({repos:,} repos, {ms} ms, concurrency {c})", fixed(SPECCTL, "list-repos"),
                    {**env, "SPECCTL_CONCURRENCY": str(c)})
                for c in (1, 4)
            ]  # fmt: skip
            if gh:
                listing.append(Job(f"gh api --paginate user/repos ({repos:,} repos, {ms} ms)",
                                   fixed(gh, "api", "--paginate", "user/repos?per_page=100"), gh_env))  # fmt: skip
            record(side_by_side(listing, 1 if args.quick else list_runs))

    ratios = compute_ratios({r["name"]: r for r in results}, repos, args.batch, big)
    print()
    for name, value in ratios.items():
        print(f"{name:<66} {value:6.2f}")
    doc = {"python": sys.version.split()[0], "gh": bool(gh), "results": results, "ratios": ratios}
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    shutil.rmtree(tmp, ignore_errors=True)


def big_listing(db: str, big: int, runs: int, env: dict[str, str]) -> list[dict]:
    """`specctl projects` on a big store, piped, beside the floors a user could reach for:
    sqlite3's shell (C) and sqlite-utils (the ecosystem's tool), the same rows as TSV and JSON."""
    jobs = [
        Job(f"specctl projects ({big:,}, piped)", fixed(SPECCTL, "--db", db, "projects"), env),
        Job(f"sqlite3 -tabs ({big:,})", fixed("sqlite3", "-tabs", db, LISTING_SQL), env),
        Job(f"sqlite-utils query --tsv ({big:,})", fixed(SQLITE_UTILS, "query", db, LISTING_SQL, "--tsv"), env),
        Job(f"specctl projects --json ({big:,})", fixed(SPECCTL, "--db", db, "--json", "projects"), env),
        Job(f"sqlite-utils query, JSON ({big:,})", fixed(SQLITE_UTILS, "query", db, LISTING_SQL), env),
        Job(f"specctl projects --status review ({big:,})", fixed(SPECCTL, "--db", db, "projects", "--status", "review"), env),
        Job(f"specctl show ({big:,} store)", fixed(SPECCTL, "--db", db, "show", "project-000500"), env),
    ]  # fmt: skip
    if not shutil.which("sqlite3"):
        jobs = [job for job in jobs if not job.name.startswith("sqlite3")]
    return side_by_side(jobs, runs)


def batch_against_processes(size: int, rounds: int, env: dict[str, str]) -> list[dict]:
    """`approve --stdin` of `size` slugs against `size` separate processes, on fresh projects
    each round; a round of each in turn."""
    walls: dict[str, list[float]] = {"batch": [], "separate": []}
    peaks: dict[str, list[int]] = {"batch": [], "separate": []}
    for r in range(rounds):
        batch = add_projects(f"batch{r}", size, env)
        separate = add_projects(f"separate{r}", size, env)
        wall, peak = timed([SPECCTL, "approve", "--stdin"], env, "\n".join(batch))
        walls["batch"].append(wall)
        peaks["batch"].append(peak)
        runs = [timed([SPECCTL, "approve", slug], env) for slug in separate]
        walls["separate"].append(sum(wall for wall, _ in runs))
        peaks["separate"].append(max(peak for _, peak in runs))
    return [
        summary(f"specctl approve --stdin, {size} slugs, pace 0", walls["batch"], peaks["batch"]),
        summary(f"{size} separate specctl approve processes", walls["separate"], peaks["separate"]),
    ]


def compute_ratios(by: dict[str, dict], repos: int, batch: int, big: int) -> dict[str, float]:
    """Each target's ratio, of medians unless it says fastest; a pair not measured is left out
    (no gh, no sqlite3)."""
    listing = f"specctl list-repos ({repos:,} repos, 20 ms, concurrency"
    pairs = [
        ("--version / gh --version (fastest, target <= 2)", "specctl --version", "gh --version", "min_ms"),
        ("projects 1k / gh --version (fastest, target <= 2)", "specctl projects (1,000, piped)", "gh --version", "min_ms"),
        (f"projects {big:,} / sqlite3 -tabs (target <= 4)", f"specctl projects ({big:,}, piped)", f"sqlite3 -tabs ({big:,})", "median_ms"),
        (f"projects {big:,} / sqlite-utils --tsv (target <= 0.5)", f"specctl projects ({big:,}, piped)", f"sqlite-utils query --tsv ({big:,})", "median_ms"),
        (f"projects --json {big:,} / sqlite-utils JSON (target <= 0.5)", f"specctl projects --json ({big:,})", f"sqlite-utils query, JSON ({big:,})", "median_ms"),
        ("approve / gh api POST (target <= 3.5)", "specctl approve (1 slug, double)", "gh api -X POST orgs/ORG/repos (double)", "median_ms"),
        (f"approve --stdin {batch} / {batch} processes (target <= 0.08)", f"specctl approve --stdin, {batch} slugs, pace 0", f"{batch} separate specctl approve processes", "median_ms"),
        ("list-repos 20 ms / gh --paginate (target <= 0.5)", f"{listing} 4)", f"gh api --paginate user/repos ({repos:,} repos, 20 ms)", "median_ms"),
        ("list-repos 20 ms: concurrency 4 / 1", f"{listing} 4)", f"{listing} 1)", "median_ms"),
    ]  # fmt: skip
    return {label: round(by[a][stat] / by[b][stat], 3) for label, a, b, stat in pairs if a in by and b in by}


if __name__ == "__main__":
    main()
