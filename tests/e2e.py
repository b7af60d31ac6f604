"""Helpers for end-to-end tests: run the installed `specctl` as a process."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from conftest import Result, specctl_bin


def specctl(*args: str, input: str | None = None, timeout: float = 60, **env: str) -> Result:
    """Run the installed console script with the test's environment (plus `env`)."""
    done = subprocess.run(
        [specctl_bin(), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def start(*args: str, input: str | None = None, **env: str) -> subprocess.Popen[str]:
    """Start specctl in the background (to kill it, or race it)."""
    proc = subprocess.Popen(
        [specctl_bin(), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    if input is not None:
        assert proc.stdin is not None
        proc.stdin.write(input)
        proc.stdin.close()
        proc.stdin = None  # so that communicate() does not flush it again
    return proc


def tsv(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)
