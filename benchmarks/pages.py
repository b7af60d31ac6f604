"""A server of pre-rendered repo listing pages, for timing clients rather than the server.

The GitHub double of the tests builds every answer in Python (it sorts the whole org and
serializes 100 repos per page: ~20 ms of CPU a page at 5,000 repos, more at 50,000), which on
a 2-core machine bounds any client measured against it. Here each page's body is rendered once,
from the double's own repo objects (GitHub's shape), and served with GitHub's Link headers after
`latency` seconds; the run of a listing costs the server little more than the sending.

    GET /orgs/{org}/repos?per_page=100&sort=full_name   the first page
    GET /organizations/1/repos?per_page=100&page=N      the others, as GitHub links them
    GET /user/repos?...                                 the same pages
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ghdouble import GitHubDouble

PER_PAGE = 100


class PageServer:
    def __init__(self, org: str, count: int, *, latency: float = 0.0):
        repos = GitHubDouble()
        repos.add_org(org)
        repos.add_repos(org, count)
        ordered = sorted(repos.repos.values(), key=lambda r: r["full_name"].lower())
        self.pages = [
            json.dumps(ordered[i : i + PER_PAGE]).encode() for i in range(0, len(ordered), PER_PAGE)
        ]
        self.latency = latency
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> PageServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers then body wait on a delayed ACK (40 ms)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests += 1
                if server.latency:
                    time.sleep(server.latency)
                page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
                last = len(server.pages)
                body = server.pages[page - 1] if 1 <= page <= last else b"[]"
                base = f"{server.url}/organizations/1/repos?per_page={PER_PAGE}&page="
                links = (
                    [f'<{base}{page + 1}>; rel="next"', f'<{base}{last}>; rel="last"'] if page < last else []
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if links:
                    self.send_header("Link", ", ".join(links))
                self.end_headers()
                self.wfile.write(body)

        return Handler


# The floor a Python client can reach: httpx, a page after another by the Link header, each
# page's body written out as it is (what `gh api --paginate` does), nothing parsed.
FLOOR = """
import sys, httpx
url = sys.argv[1] + "/orgs/" + sys.argv[2] + "/repos?per_page=100&sort=full_name"
out = sys.stdout.buffer
with httpx.Client(headers={"Authorization": "Bearer x"}) as client:
    while url:
        response = client.get(url)
        out.write(response.content)
        url = response.links.get("next", {}).get("url")
"""
