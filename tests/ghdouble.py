"""A GitHub double: a small real HTTP server on 127.0.0.1 that answers the REST endpoints
specctl uses the way GitHub does (../shared/GITHUB.md, docs.github.com/rest), keeps repos in
memory, and injects faults. End-to-end tests and benchmarks run specctl against it.

    with GitHubDouble() as gh:
        gh.add_token("tok", "admin")
        gh.fault("POST", r"/orgs/.*/repos", status=502)
        ... SPECCTL/GITHUB_API_URL=gh.url ...

It also accepts absolute-form request lines (`GET http://host/path`), as a proxy would see them.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Org:
    login: str
    id: int
    private_allowed: bool = True  # False: the plan can't make private repos (422 on visibility)
    sso_url: str | None = None  # set: the org enforces SAML SSO for tokens not authorized


@dataclass
class TokenInfo:
    login: str
    can_create: bool = True  # Administration: write on the orgs
    scopes: str | None = "repo, read:org"  # X-OAuth-Scopes (None for fine-grained tokens)
    sso_authorized: bool = True


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    times: int = 1
    status: int | None = None  # answer this instead of doing the work
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before answering (after doing the work when after_create is set)
    after_create: str | None = None  # "drop": create, then close without answering; "delay"
    # Set it to end the delay now (and skip it from then on): a test that must act while an
    # answer is held holds it long and releases it, rather than racing a delay of a few seconds.
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    user_agent: str | None
    body: Any


class GitHubDouble:
    def __init__(self, *, latency: float = 0.0):
        self.latency = latency
        self._stopping = threading.Event()  # set by stop(): waits end at once, nothing more is answered
        self._open: set[socket.socket] = set()  # connections being served, under `lock`
        self.orgs: dict[str, Org] = {}
        self.users: dict[str, int] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.repos: dict[str, dict[str, Any]] = {}  # lower-cased full_name -> repo
        self.created: list[str] = []  # full_names created through POST, in order
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None

    # -- set-up -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GitHubDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = False  # so that server_close() joins the handlers: see stop()
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and end every handler before returning. None may outlive its test: one
        still sleeping in a fault's delay would answer a client long gone, seconds later, and the
        standard server prints that BrokenPipeError into the stderr of whatever test runs then."""
        if self._server is not None:
            self._stopping.set()  # handlers in a delay or latency wake and answer nothing
            for f in self.faults:
                f.released.set()
            self._server.shutdown()
            with self.lock:
                for conn in self._open:  # wakes handlers waiting on a kept-alive connection
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
            self._server.server_close()  # joins the handler threads
            self._server = None

    def _pause(self, seconds: float, fault: Fault | None = None) -> bool:
        """Wait `seconds`, less if the fault is released or the double stops: True if it stops."""
        (fault.released if fault else self._stopping).wait(seconds)
        return self._stopping.is_set()

    def __enter__(self) -> GitHubDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_org(self, login: str, **kwargs: Any) -> Org:
        org = Org(login, self._id(), **kwargs)
        self.orgs[login.lower()] = org
        return org

    def add_user(self, login: str) -> None:
        self.users.setdefault(login.lower(), self._id())

    def add_token(self, token: str, login: str, **kwargs: Any) -> None:
        self.add_user(login)
        self.tokens[token] = TokenInfo(login, **kwargs)

    def add_repo(
        self, owner: str, name: str, *, private: bool = True, created_at: str | None = None
    ) -> dict[str, Any]:
        repo = {
            "id": self._id(),
            "name": name,
            "full_name": f"{owner}/{name}",
            "owner": {"login": owner},
            "private": private,
            "visibility": "private" if private else "public",
            "default_branch": "main",
            "html_url": f"https://github.com/{owner}/{name}",
            "description": "",
            "created_at": created_at or stamp(),
        }
        self.repos[repo["full_name"].lower()] = repo
        return repo

    def add_repos(self, owner: str, count: int, prefix: str = "repo") -> None:
        for i in range(count):
            self.add_repo(owner, f"{prefix}-{i:05d}")

    def fault(self, method: str, path: str, **kwargs: Any) -> Fault:
        f = Fault(method, re.compile(path), **kwargs)
        self.faults.append(f)
        return f

    def requests(self, method: str | None = None, path: str = "") -> list[Seen]:
        return [s for s in self.seen if (method is None or s.method == method) and re.search(path, s.path)]

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.times > 0 and f.method == method and f.path.fullmatch(path):
                    f.times -= 1
                    return f
        return None


class _Handler(BaseHTTPRequestHandler):
    double: GitHubDouble
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK add ~40 ms to every keep-alive request (GitHub has no such delay).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def handle(self) -> None:
        """Serve this connection, known to stop() so that it can end it; not once stopping."""
        d = self.double
        with d.lock:
            d._open.add(self.connection)
        try:
            if not d._stopping.is_set():  # checked after joining `_open`: stop() misses none
                super().handle()
        finally:
            with d.lock:
                d._open.discard(self.connection)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- dispatch ---------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        d = self.double
        url = urlsplit(self.path)  # absolute-form (`GET http://host/path`) or origin-form
        path, query = url.path, parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        auth = self.headers.get("Authorization")
        d.seen.append(Seen(method, path, query, auth, self.headers.get("User-Agent"), body))
        if d._pause(d.latency):
            return None  # the double is stopping
        if not self.headers.get("User-Agent"):
            return self._send(
                403,
                {
                    "message": "Request forbidden by administrative rules. "
                    "Please make sure your request has a User-Agent header"
                },
            )
        fault = d._take_fault(method, path)
        if fault and fault.status is not None:
            if d._pause(fault.delay, fault):
                return None
            return self._send(fault.status, fault.body or {"message": "fault"}, fault.headers)
        token = self._token(auth)
        if token is None:
            message = "Requires authentication" if not auth else "Bad credentials"
            return self._send(401, {"message": message, "documentation_url": DOCS})
        status, payload, headers = self._route(method, path, query, body, token, fault)
        if fault and fault.after_create == "drop" and status == 201:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault and d._pause(fault.delay, fault):
            return None
        return self._send(status, payload, headers)

    def _token(self, auth: str | None) -> TokenInfo | None:
        if not auth or not auth.startswith(("Bearer ", "token ")):
            return None
        return self.double.tokens.get(auth.split(" ", 1)[1])

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        token: TokenInfo,
        fault: Fault | None,
    ) -> tuple[int, Any, dict[str, str]]:
        d = self.double
        parts = path.strip("/").split("/")
        if method == "POST" and len(parts) == 3 and parts[0] == "orgs" and parts[2] == "repos":
            return self._create(parts[1], body, token)
        if method != "GET":
            return 404, {"message": "Not Found"}, {}
        if parts == ["user"]:
            headers = {"X-OAuth-Scopes": token.scopes} if token.scopes is not None else {}
            return 200, {"login": token.login, "id": d.users[token.login.lower()], "type": "User"}, headers
        if parts == ["rate_limit"]:
            core = {"limit": 5000, "remaining": 4999, "reset": int(time.time()) + 3600, "used": 1}
            return 200, {"resources": {"core": core}, "rate": core}, {}
        if parts == ["user", "repos"]:
            repos = [r for r in d.repos.values() if self._visible(r, token)]
            return self._list(repos, query, "/user/repos")
        if len(parts) == 2 and parts[0] == "orgs":
            org = self._org(parts[1], token)
            if isinstance(org, tuple):
                return org
            return 200, {"login": org.login, "id": org.id}, {}
        if len(parts) == 4 and parts[:3] == ["user", "memberships", "orgs"]:
            org = self._org(parts[3], token)
            if isinstance(org, tuple):
                return org
            return 200, {"role": "admin" if token.can_create else "member", "state": "active"}, {}
        if len(parts) == 3 and parts[0] in ("orgs", "organizations") and parts[2] == "repos":
            org = self._org(parts[1], token) if parts[0] == "orgs" else self._org_by_id(parts[1])
            if isinstance(org, tuple):
                return org
            repos = [r for r in d.repos.values() if r["owner"]["login"].lower() == org.login.lower()]
            return self._list(repos, query, f"/organizations/{org.id}/repos")
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "repos":
            if parts[1].lower() not in d.users:
                return 404, {"message": "Not Found"}, {}
            repos = [r for r in d.repos.values() if r["owner"]["login"].lower() == parts[1].lower()]
            return self._list(repos, query, f"/users/{parts[1]}/repos")
        if len(parts) == 3 and parts[0] == "repos":
            repo = d.repos.get(f"{parts[1]}/{parts[2]}".lower())
            if repo is None or not self._visible(repo, token):
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            return 200, repo, {}
        return 404, {"message": "Not Found"}, {}

    def _org(self, login: str, token: TokenInfo) -> Org | tuple[int, Any, dict[str, str]]:
        org = self.double.orgs.get(login.lower())
        if org is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if org.sso_url and not token.sso_authorized:
            message = (
                "Resource protected by organization SAML enforcement. "
                "You must grant your Personal Access token access to this organization."
            )
            return 403, {"message": message}, {"X-GitHub-SSO": f"required; url={org.sso_url}"}
        return org

    def _org_by_id(self, org_id: str) -> Org | tuple[int, Any, dict[str, str]]:
        for org in self.double.orgs.values():
            if str(org.id) == org_id:
                return org
        return 404, {"message": "Not Found"}, {}

    def _visible(self, repo: dict[str, Any], token: TokenInfo) -> bool:
        owner = repo["owner"]["login"].lower()
        return owner == token.login.lower() or owner in self.double.orgs

    def _create(self, org_login: str, body: Any, token: TokenInfo) -> tuple[int, Any, dict[str, str]]:
        d = self.double
        org = self._org(org_login, token)
        if isinstance(org, tuple):
            return org
        if not token.can_create:
            message = {
                "message": "Resource not accessible by personal access token",
                "documentation_url": DOCS,
                "status": "403",
            }
            return 403, message, {"X-Accepted-GitHub-Permissions": "administration=write"}
        name = (body or {}).get("name") or ""
        if not name:
            error = {"resource": "Repository", "code": "missing_field", "field": "name"}
            return 422, {"message": "Repository creation failed.", "errors": [error], "status": "422"}, {}
        if (body or {}).get("private") and not org.private_allowed:
            error = {
                "resource": "Repository",
                "code": "custom",
                "field": "visibility",
                "message": "Visibility can't be private. Please upgrade your plan.",
            }
            return 422, {"message": "Repository creation failed.", "errors": [error], "status": "422"}, {}
        name = _BAD_NAME_CHARS.sub("-", name)[:100]
        with d.lock:
            if f"{org.login}/{name}".lower() in d.repos:
                error = {
                    "resource": "Repository",
                    "code": "custom",
                    "field": "name",
                    "message": "name already exists on this account",
                }
                body = {
                    "message": "Repository creation failed.",
                    "errors": [error],
                    "documentation_url": f"{DOCS}/repos/repos#create-an-organization-repository",
                    "status": "422",
                }
                return 422, body, {}
            repo = d.add_repo(org.login, name, private=bool((body or {}).get("private")))
            repo["description"] = (body or {}).get("description") or ""
            d.created.append(repo["full_name"])
        return 201, repo, {"Location": f"{self._origin()}/repos/{repo['full_name']}"}

    def _list(
        self, repos: list[dict[str, Any]], query: dict[str, list[str]], link_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        repos = sorted(repos, key=lambda r: r["full_name"].lower())
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(repos) // per_page))
        items = repos[(page - 1) * per_page : page * per_page]
        links = []

        def link(p: int, rel: str) -> str:
            return f'<{self._origin()}{link_path}?per_page={per_page}&page={p}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        return 200, items, {"Link": ", ".join(links)} if links else {}

    def _origin(self) -> str:
        """Where the client reached us: through a proxy (gh with HTTP_PROXY) that is the host it
        asked for, as GitHub's links point at api.github.com whoever relays them."""
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.double.url

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        base = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Used": "1",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Resource": "core",
        }
        for key, value in {**base, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":  # a double to poke at by hand: python tests/ghdouble.py
    double = GitHubDouble().start()
    double.add_org("auditmos-projects")
    double.add_token("dev-token", "admin")
    print(f"GitHub double at {double.url} (token: dev-token); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()
