"""httpx, without its command-line tool.

httpx's __init__ imports `httpx._main` (click, rich, pygments) whenever those are installed:
~45 ms of every specctl process that talks to GitHub, measured with `python -X importtime`.
specctl never calls it; an empty module in its place makes httpx fall back to its stub `main`.
Import httpx from here.
"""

import sys
import types

sys.modules.setdefault("httpx._main", types.ModuleType("httpx._main"))

import httpx  # noqa: E402

__all__ = ["httpx"]
