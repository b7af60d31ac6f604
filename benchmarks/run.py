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


GNU_TIME = "/usr/bin/time"  # peak RSS of the command itself: the rusage of a child forked
# from this process counts this process's memory too (a 128 MB page server showed in every child)


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process."""
    rss_file = None
    if os.path.exists(GNU_TIME):
        fd, rss_file = tempfile.mkstemp(prefix="specctl-bench-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, *cmd]
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
    if rss_file is None:
        return wall, usage.ru_maxrss
    peak = int(Path(rss_file).read_text().split()[-1])
    os.unlink(rss_file)
    return wall, peak


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


SECTIONS = ("startup", "store", "approve", "listing", "team", "provision", "app")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller stores")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--batch", type=int, default=20, help="slugs in the approve batch comparison")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"some of: {', '.join(SECTIONS)}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    runs = 3 if args.quick else 15
    big = 10_000 if args.quick else 100_000
    repos = 1_000 if args.quick else 5_000
    big_org = 5_000 if args.quick else 50_000
    gh = shutil.which("gh")
    tmp = Path(tempfile.mkdtemp(prefix="specctl-bench-"))
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp), "SPECCTL_CONFIG": str(tmp / "config.toml"),
        "SPECCTL_DB": str(tmp / "1k.db"), "GH_TOKEN": TOKEN, "SPECCTL_PACE": "0", "NO_COLOR": "1",
        "GITHUB_ORG": ORG, "XDG_CACHE_HOME": str(tmp / "cache"),
    }  # fmt: skip
    results: list[dict] = []
    extra: dict[str, object] = {}

    def record(entries: list[dict]) -> None:
        for e in entries:
            results.append(e)
            print(f"{e['name']:<66} median {e['median_ms']:>9.1f} ms   min {e['min_ms']:>9.1f} ms   "
                  f"rss {e['peak_rss_mb']:>6.1f} MB", flush=True)  # fmt: skip

    if "startup" in only:
        make_store(tmp / "1k.db", 1_000, env)
        startup = [
            Job("specctl --version", fixed(SPECCTL, "--version"), env),
            Job("specctl --help", fixed(SPECCTL, "--help"), env),
            Job("specctl projects (1,000, piped)", fixed(SPECCTL, "projects"), env),
        ]
        if gh:
            startup.insert(0, Job("gh --version", fixed(gh, "--version"), env))
        record(side_by_side(startup, runs))
    if "store" in only:
        make_store(tmp / "big.db", big, env)
        record(big_listing(str(tmp / "big.db"), big, runs, env))
    if "approve" in only:
        record(approve(runs, args.batch, 1 if args.quick else 5, gh, tmp, env))
    import scale  # after run's own definitions: it imports them

    if "listing" in only:
        record(scale.listing(repos, big_org, 3 if args.quick else 5, env))
    if "team" in only:
        record(scale.team_store(big, runs, args.batch, 1 if args.quick else 5, tmp, env))
    if "provision" in only:
        entries, writes = scale.provisioning(100, 3 if args.quick else 5, tmp, env)
        record(entries)
        extra["provision_check_requests"] = writes
        print(f"provision --check runs: {writes}")

    ratios = compute_ratios({r["name"]: r for r in results}, repos, big_org, args.batch, big)
    if "app" in only:  # benchmarks/app.py, run as it is (its own interleaved runs)
        app_json = tmp / "app.json"
        quick = ["--quick"] if args.quick else []
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "app.py"), "--json", str(app_json), *quick], check=True
        )
        extra["app"] = json.loads(app_json.read_text())
        ratios["approve, app with a warm token cache / PAT (target <= 1.1)"] = extra["app"]["warm_over_pat"]
    print()
    for name, value in ratios.items():
        print(f"{name:<72} {value:6.2f}")
    doc = {"python": sys.version.split()[0], "gh": bool(gh), "results": results, "ratios": ratios, **extra}
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    shutil.rmtree(tmp, ignore_errors=True)


def approve(runs: int, batch: int, rounds: int, gh: str | None, tmp: Path, env: dict[str, str]) -> list[dict]:
    """approve: one create each run (fresh slugs and names), beside gh's POST when installed;
    then a batch against as many processes."""
    results = []
    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        gh_env = {**env, "GH_HOST": "github.localhost", "HTTP_PROXY": double.url, "http_proxy": double.url,
                  "NO_PROXY": "", "GH_NO_UPDATE_NOTIFIER": "1", "GH_CONFIG_DIR": str(tmp / "gh")}  # fmt: skip
        env = {**env, "GITHUB_API_URL": double.url, "SPECCTL_DB": str(tmp / "approve.db")}
        one = add_projects("one", runs, env)
        creates = [Job("specctl approve (1 slug, double)", lambda i: [SPECCTL, "approve", one[i]], env)]
        if gh:
            post = ["api", "-X", "POST", f"orgs/{ORG}/repos", "-F", "private=true", "-f"]
            creates.append(
                Job(
                    "gh api -X POST orgs/ORG/repos (double)",
                    lambda i: [gh, *post, f"name=gh-{i:03d}"],
                    gh_env,
                )
            )
        results += side_by_side(creates, runs)
        results += batch_against_processes(batch, rounds, env)
    return results


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


def compute_ratios(by: dict[str, dict], repos: int, big_org: int, batch: int, big: int) -> dict[str, float]:
    """Each target's ratio of medians; a pair not measured is left out (no gh, no sqlite3)."""
    ratios = {}

    def listing(count: int, ms: int, c: int) -> str:
        return f"specctl list-repos ({count:,} repos, {ms} ms, concurrency {c})"

    def floor(count: int, ms: int) -> str:
        return f"httpx loop by Link next ({count:,} repos, {ms} ms)"

    pairs = [
        ("--version / gh --version (fastest, target <= 2)", "specctl --version", "gh --version", "min_ms"),
        ("projects 1k / gh --version (fastest, target <= 2)", "specctl projects (1,000, piped)", "gh --version", "min_ms"),
        (f"projects {big:,} / sqlite3 -tabs (target <= 4)", f"specctl projects ({big:,}, piped)", f"sqlite3 -tabs ({big:,})", "median_ms"),
        (f"projects {big:,} / sqlite-utils --tsv (target <= 0.5)", f"specctl projects ({big:,}, piped)", f"sqlite-utils query --tsv ({big:,})", "median_ms"),
        (f"projects --json {big:,} / sqlite-utils JSON (target <= 0.5)", f"specctl projects --json ({big:,})", f"sqlite-utils query, JSON ({big:,})", "median_ms"),
        ("approve / gh api POST (target <= 3.5)", "specctl approve (1 slug, double)", "gh api -X POST orgs/ORG/repos (double)", "median_ms"),
        (f"approve --stdin {batch} / {batch} processes (target <= 0.08)", f"specctl approve --stdin, {batch} slugs, pace 0", f"{batch} separate specctl approve processes", "median_ms"),
        (f"list-repos {repos:,} 0 ms, concurrency 1 / httpx loop (target <= 1.0)", listing(repos, 0, 1), floor(repos, 0), "median_ms"),
        (f"list-repos {repos:,} 0 ms, concurrency 4 / httpx loop", listing(repos, 0, 4), floor(repos, 0), "median_ms"),
        (f"list-repos {repos:,} 20 ms, concurrency 4 / httpx loop (target <= 0.45)", listing(repos, 20, 4), floor(repos, 20), "median_ms"),
        (f"list-repos {repos:,} 20 ms: concurrency 4 / 1", listing(repos, 20, 4), listing(repos, 20, 1), "median_ms"),
        (f"list-repos {big_org:,} 20 ms, concurrency 4 / httpx loop (target <= 0.55)", listing(big_org, 20, 4), floor(big_org, 20), "median_ms"),
        ("approve 1 slug: PostgreSQL / SQLite (target <= 2.5)", "specctl approve (1 slug, PostgreSQL)", "specctl approve (1 slug, SQLite)", "median_ms"),
        (f"projects {big:,}: PostgreSQL / SQLite (target <= 1.5)", f"specctl projects ({big:,}, piped, PostgreSQL)", f"specctl projects ({big:,}, piped, SQLite)", "median_ms"),
        ("provision --check 100 at 20 ms: concurrency 4 / 1 (target <= 0.35)", "specctl provision --check --all (100 repos, 20 ms, concurrency 4)", "specctl provision --check --all (100 repos, 20 ms, concurrency 1)", "median_ms"),
    ]  # fmt: skip
    for label, a, b, stat in pairs:
        if a in by and b in by:
            ratios[label] = round(by[a][stat] / by[b][stat], 3)
    batch_of = {e: by.get(f"specctl approve --stdin, {batch} slugs ({e})") for e in ("SQLite", "PostgreSQL")}
    one_of = {e: by.get(f"specctl approve (1 slug, {e})") for e in ("SQLite", "PostgreSQL")}
    if all(batch_of.values()) and all(one_of.values()):
        # each further slug of a batch: (batch - one) / (batch - 1), per engine
        per_slug = {e: (batch_of[e]["median_ms"] - one_of[e]["median_ms"]) / (batch - 1) for e in batch_of}  # type: ignore[index]
        ratios["approve batch per slug: PostgreSQL / SQLite (target <= 1.5)"] = round(
            per_slug["PostgreSQL"] / per_slug["SQLite"], 3
        )
    return ratios


if __name__ == "__main__":
    main()
