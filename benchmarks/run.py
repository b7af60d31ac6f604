"""specctl benchmarks: whole-process wall times (and peak RSS) of the installed `specctl`,
side by side with `gh` where it is installed, against the GitHub double on 127.0.0.1.

    python benchmarks/run.py            # table on stdout, JSON in benchmarks/results.json
    python benchmarks/run.py --quick    # fewer runs, smaller stores (a smoke test)

Figures are printed, never asserted: speed is measured here, not in tests.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ghdouble import GitHubDouble  # noqa: E402

ORG = "bench-org"
TOKEN = "ghp_benchmarktoken"
SPECCTL = (
    str(Path(sys.executable).parent / "specctl")
    if (Path(sys.executable).parent / "specctl").exists()
    else "specctl"
)


def timed(cmd: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None
    if stdin:
        proc.stdin.write(stdin.encode())
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0,):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err[-500:]}")
    return wall, usage.ru_maxrss


def measure(
    name: str, cmd: list[str], env: dict[str, str], runs: int, setup=None, stdin: str | None = None
) -> dict:
    walls, rss = [], []
    for i in range(runs):
        if setup:
            cmd_i = setup(i)
            cmd, stdin = cmd_i if isinstance(cmd_i, tuple) else (cmd_i, stdin)
        wall, peak = timed(cmd, env, stdin)
        walls.append(wall)
        rss.append(peak)
    return {
        "name": name,
        "runs": runs,
        "median_ms": round(statistics.median(walls) * 1000, 1),
        "min_ms": round(min(walls) * 1000, 1),
        "peak_rss_mb": round(max(rss) / 1024, 1),
    }


def make_store(path: Path, count: int, env: dict[str, str]) -> None:
    subprocess.run(
        [SPECCTL, "--db", str(path), "add", "seed", "--slug", "seed-000000"],
        env=env,
        check=True,
        capture_output=True,
    )
    conn = sqlite3.connect(path)
    rows = (
        (
            f"project-{i:06d}",
            f"Project {i}",
            "",
            "interviewing",
            None,
            None,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
        )
        for i in range(1, count)
    )
    conn.executemany(
        "INSERT INTO projects (slug, name, description, spec_status, github_repo, repo_source, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


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
    base_env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp), "SPECCTL_CONFIG": str(tmp / "config.toml"),
        "SPECCTL_DB": str(tmp / "1k.db"), "GH_TOKEN": TOKEN, "SPECCTL_PACE": "0", "NO_COLOR": "1",
    }  # fmt: skip
    results: list[dict] = []

    def record(entry: dict) -> None:
        results.append(entry)
        print(f"{entry['name']:<58} median {entry['median_ms']:>9.1f} ms   min {entry['min_ms']:>9.1f} ms   "
              f"rss {entry['peak_rss_mb']:>6.1f} MB", flush=True)  # fmt: skip

    make_store(tmp / "1k.db", 1_000, base_env)
    make_store(tmp / "big.db", big, base_env)

    # 1. start-up and the store
    if gh:
        record(measure("gh --version", [gh, "--version"], base_env, runs))
    record(measure("specctl --version", [SPECCTL, "--version"], base_env, runs))
    record(measure("specctl --help", [SPECCTL, "--help"], base_env, runs))
    record(measure("specctl projects (1,000, piped)", [SPECCTL, "projects"], base_env, runs))
    record(
        measure(
            f"specctl projects ({big:,}, piped)",
            [SPECCTL, "--db", str(tmp / "big.db"), "projects"],
            base_env,
            runs,
        )
    )
    record(
        measure(
            f"specctl show ({big:,} store)",
            [SPECCTL, "--db", str(tmp / "big.db"), "show", "project-000500"],
            base_env,
            runs,
        )
    )

    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        env = {
            **base_env,
            "GITHUB_API_URL": double.url,
            "GITHUB_ORG": ORG,
            "SPECCTL_DB": str(tmp / "approve.db"),
        }
        approve_db = tmp / "approve.db"

        # 2. approve
        def fresh(prefix: str, count: int) -> list[str]:
            slugs = [f"{prefix}-{i:03d}" for i in range(count)]
            for slug in slugs:
                subprocess.run(
                    [SPECCTL, "add", slug, "--slug", slug], env=env, check=True, capture_output=True
                )
            return slugs

        one = fresh("one", runs)
        record(
            measure(
                "specctl approve (1 slug, double)",
                [],
                env,
                runs,
                setup=lambda i: [SPECCTL, "approve", one[i]],
            )
        )
        if gh:
            gh_env = {**env, "GH_HOST": "github.localhost", "HTTP_PROXY": double.url, "http_proxy": double.url,
                      "NO_PROXY": "", "GH_NO_UPDATE_NOTIFIER": "1", "GH_CONFIG_DIR": str(tmp / "gh")}  # fmt: skip
            record(measure(
                "gh api -X POST orgs/ORG/repos (double)", [], gh_env, runs,
                setup=lambda i: [gh, "api", "-X", "POST", f"orgs/{ORG}/repos", "-f", f"name=gh-{i:03d}", "-F", "private=true"],
            ))  # fmt: skip
        batch = fresh("batch", args.batch)
        separate = fresh("separate", args.batch)
        t = time.perf_counter()
        timed([SPECCTL, "approve", "--stdin"], env, "\n".join(batch))
        batch_s = time.perf_counter() - t
        t = time.perf_counter()
        for slug in separate:
            timed([SPECCTL, "approve", slug], env)
        separate_s = time.perf_counter() - t
        for name, seconds in ((f"specctl approve --stdin, {args.batch} slugs, pace 0", batch_s),
                              (f"{args.batch} separate specctl approve processes", separate_s)):  # fmt: skip
            record({"name": name, "runs": 1, "median_ms": round(seconds * 1000, 1),
                    "min_ms": round(seconds * 1000, 1), "peak_rss_mb": 0.0})  # fmt: skip
        approve_db.unlink()

        # 3. list-repos
        double.add_repos(ORG, repos - len(double.repos))
        for latency in (0.0, 0.02):
            double.latency = latency
            ms = int(latency * 1000)
            for conc in (1, 4):
                record(measure(
                    f"specctl list-repos ({repos:,} repos, {ms} ms, concurrency {conc})",
                    [SPECCTL, "list-repos"], {**env, "SPECCTL_CONCURRENCY": str(conc)}, 3 if latency else runs // 3 or 1,
                ))  # fmt: skip
            if gh:
                record(measure(
                    f"gh api --paginate user/repos ({repos:,} repos, {ms} ms)",
                    [gh, "api", "--paginate", "user/repos?per_page=100"], gh_env, 3 if latency else runs // 3 or 1,
                ))  # fmt: skip

    by = {r["name"]: r for r in results}
    ratios = {}
    if gh:
        ghv = by["gh --version"]["min_ms"]
        ratios["--version / gh --version (fastest, target <= 2)"] = by["specctl --version"]["min_ms"] / ghv
        ratios["projects 1k / gh --version (fastest, target <= 2)"] = (
            by["specctl projects (1,000, piped)"]["min_ms"] / ghv
        )
        ratios["approve / gh api POST (median, target <= 3.5)"] = (
            by["specctl approve (1 slug, double)"]["median_ms"]
            / by["gh api -X POST orgs/ORG/repos (double)"]["median_ms"]
        )
        ratios["list-repos 20 ms / gh --paginate (median, target <= 0.5)"] = (
            by[f"specctl list-repos ({repos:,} repos, 20 ms, concurrency 4)"]["median_ms"]
            / by[f"gh api --paginate user/repos ({repos:,} repos, 20 ms)"]["median_ms"]
        )
    ratios[f"approve --stdin {args.batch} / {args.batch} processes (target <= 0.08)"] = (
        by[f"specctl approve --stdin, {args.batch} slugs, pace 0"]["median_ms"]
        / by[f"{args.batch} separate specctl approve processes"]["median_ms"]
    )
    ratios["list-repos 20 ms: concurrency 4 / 1"] = (
        by[f"specctl list-repos ({repos:,} repos, 20 ms, concurrency 4)"]["median_ms"]
        / by[f"specctl list-repos ({repos:,} repos, 20 ms, concurrency 1)"]["median_ms"]
    )
    print()
    for name, value in ratios.items():
        print(f"{name:<62} {value:6.2f}")
    doc = {
        "python": sys.version.split()[0],
        "gh": bool(gh),
        "results": results,
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
    }
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
