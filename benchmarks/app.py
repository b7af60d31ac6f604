"""The GitHub App's cost: `approve` as the app with a warm token cache, with a cold one (a JWT
signed and a token minted), and with a PAT, interleaved against the GitHub double; and the
import cost of the signing libraries (`python -X importtime`).

    python benchmarks/app.py            # table on stdout, JSON in benchmarks/app-results.json
    python benchmarks/app.py --quick

Figures are printed, never asserted. Needs the `app` extra (the `test` extra pulls it in).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run import SPECCTL, TOKEN, Job, add_projects, side_by_side  # noqa: E402

from appkeys import APP_ID, rsa_key, write_key  # noqa: E402
from ghdouble import GitHubDouble  # noqa: E402

ORG = "bench-org"
IMPORTS = {
    "cryptography (what specctl uses)": "from cryptography.hazmat.primitives import hashes, serialization\n"
    "from cryptography.hazmat.primitives.asymmetric import padding, rsa",
    "PyJWT[crypto] (not used)": "import jwt, jwt.algorithms",
}
APP_MODULE = ("specctl.github.app over specctl.github", "import specctl.github.app", "import specctl.github")


def import_ms(statement: str, before: str = "pass") -> float | None:
    """Milliseconds of imports a statement adds after `before` (-X importtime, summed over
    top-level imports), or None when the module is not installed."""

    def total(code: str) -> float | None:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
        )
        if done.returncode != 0:
            return None
        lines = (re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", x) for x in done.stderr.splitlines())
        return sum(int(m.group(1)) for m in lines if m) / 1000

    base = [total(before) or 0.0 for _ in range(5)]
    runs = [total(f"{before}\n{statement}") for _ in range(9)]
    if any(r is None for r in runs):
        return None
    return round(statistics.median(r for r in runs if r is not None) - statistics.median(base), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "app-results.json")
    args = parser.parse_args()
    runs = 3 if args.quick else 15
    imports = {name: import_ms(code) for name, code in IMPORTS.items()}
    imports[APP_MODULE[0]] = import_ms(APP_MODULE[1], APP_MODULE[2])
    for name, ms in imports.items():
        print(f"import {name:<48} {'not installed' if ms is None else f'{ms:6.1f} ms'}")

    tmp = Path(tempfile.mkdtemp(prefix="specctl-bench-app-"))
    key = write_key(tmp / "app.pem")
    with GitHubDouble() as double:
        double.add_org(ORG)
        double.add_token(TOKEN, "bench")
        double.add_app(APP_ID, rsa_key().public_key())
        double.install_app(APP_ID, ORG)
        base = {
            "PATH": os.environ["PATH"], "HOME": str(tmp), "SPECCTL_CONFIG": str(tmp / "config.toml"),
            "SPECCTL_DB": str(tmp / "app.db"), "SPECCTL_PACE": "0", "NO_COLOR": "1",
            "GITHUB_API_URL": double.url, "GITHUB_ORG": ORG, "XDG_CACHE_HOME": str(tmp / "cache"),
        }  # fmt: skip
        pat = {**base, "GH_TOKEN": TOKEN}
        app = {**base, "SPECCTL_APP_ID": str(APP_ID), "SPECCTL_APP_KEY": str(key)}
        cold = {**app, "XDG_CACHE_HOME": str(tmp / "no-cache")}
        slugs = {name: add_projects(name, runs, pat) for name in ("pat", "warm", "cold", "warm-up")}
        subprocess.run([SPECCTL, "approve", slugs["warm-up"][0]], env=app, check=True, capture_output=True)

        def cold_run(i: int) -> list[str]:
            shutil.rmtree(tmp / "no-cache", ignore_errors=True)  # every run mints
            return [SPECCTL, "approve", slugs["cold"][i]]

        results = side_by_side(
            [
                Job("specctl --version", lambda i: [SPECCTL, "--version"], pat),
                Job("specctl approve (1 slug, PAT)", lambda i: [SPECCTL, "approve", slugs["pat"][i]], pat),
                Job(
                    "specctl approve (1 slug, app, warm cache)",
                    lambda i: [SPECCTL, "approve", slugs["warm"][i]],
                    app,
                ),
                Job("specctl approve (1 slug, app, cold: JWT + mint)", cold_run, cold),
            ],
            runs,
        )
        mints = len(double.mints)
    for e in results:
        print(
            f"{e['name']:<52} median {e['median_ms']:>8.1f} ms   min {e['min_ms']:>8.1f} ms   rss {e['peak_rss_mb']:>6.1f} MB"
        )
    print(f"tokens minted: {mints} (warm runs mint none: {runs} cold runs + 1 to warm the cache)")
    by = {e["name"]: e for e in results}
    ratio = round(
        by["specctl approve (1 slug, app, warm cache)"]["median_ms"]
        / by["specctl approve (1 slug, PAT)"]["median_ms"],
        3,
    )
    print(f"approve app warm / PAT (median): {ratio}")
    doc = {
        "python": sys.version.split()[0],
        "imports_ms": imports,
        "results": results,
        "mints": mints,
        "warm_over_pat": ratio,
    }
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
