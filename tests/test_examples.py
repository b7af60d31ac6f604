"""The scripts in examples/ run as a user would run them, against a real store (and the
GitHub double where they talk to GitHub)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ORG
from e2e import specctl, tsv

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).parent.parent / "examples"


def example(name, *args):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(EXAMPLES / name), *args], capture_output=True, text=True, env=env, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


def test_add_from_file_adds_and_lists_the_new_projects_without_repo(tmp_path):
    specctl("add", "Older", "--slug", "older")
    listing = tmp_path / "clients.tsv"
    listing.write_text("# name\tdescription\nAcme Portal\tClient portal\n\nBeta Shop\t\nGamma")
    code, out, err = example("add-from-file.sh", str(listing))
    assert code == 0, err
    rows = tsv(out)
    assert [r[4] for r in rows] == ["Acme Portal", "Beta Shop", "Gamma"]
    assert all(r[1] == "interviewing" and r[2] == "" for r in rows)
    assert len(tsv(specctl("projects").stdout)) == 4


def test_add_from_file_again_adds_nothing_twice(tmp_path):
    specctl("add", "Acme Portal", "--slug", "acme")
    listing = tmp_path / "clients.tsv"
    listing.write_text("Acme Portal\tClient portal\nBeta Shop\nbeta shop\n")
    code, out, err = example("add-from-file.sh", str(listing))
    assert code == 0, err
    assert [r[4] for r in tsv(out)] == ["Beta Shop"]
    assert "skipped: Acme Portal" in err
    assert "skipped: beta shop" in err
    code, out, err = example("add-from-file.sh", str(listing))
    assert (code, out) == (0, "")
    assert len(tsv(specctl("projects").stdout)) == 2


def test_approve_stale_approves_only_old_interviewing_specs(github_env, db_path):
    for slug in ("old", "new", "old-review"):
        specctl("add", slug, "--slug", slug)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "UPDATE projects SET created_at = '2020-01-01T00:00:00Z' WHERE slug IN ('old', 'old-review')"
    )
    conn.execute("UPDATE projects SET spec_status = 'review' WHERE slug = 'old-review'")
    conn.commit()
    conn.close()
    code, out, err = example("approve-stale.sh", "30")
    assert code == 0, err
    assert tsv(out) == [["old", "review", f"{ORG}/old", "created"]]


def test_repos_gone_lists_projects_whose_repo_vanished(github_env):
    github_env.add_repo(ORG, "Kept")
    specctl("add", "Kept", "--slug", "kept")
    specctl("add", "Gone", "--slug", "gone")
    specctl("set-repo", "kept", f"{ORG}/kept")
    specctl("set-repo", "gone", f"{ORG}/deleted", "--no-verify")
    code, out, _ = example("repos-gone.sh")
    assert code == 1
    assert out == f"gone\t{ORG}/deleted\n"
    specctl("set-repo", "gone", "--clear")
    assert example("repos-gone.sh")[0] == 0


def test_export_csv(github_env):
    specctl("add", "Acme, Inc.", "--slug", "acme")
    code, out, err = example("export-csv.sh")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "slug,spec_status,github_repo,repo_source,name,org,description,created_at,updated_at"
    assert lines[1].startswith(f'acme,interviewing,,,"Acme, Inc.",{ORG},,20')
