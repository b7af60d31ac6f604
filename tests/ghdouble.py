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
import sys
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
    installation: int | None = None  # an app's installation token (see the app block)
    expires_at: float | None = None


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


# -- GitHub App ------------------------------------------------------------------------------
# GITHUB.md "GitHub App authentication": the app endpoints take a JWT (RS256, verified here with
# `cryptography` against the app's public key, with GitHub's claim rules); installation tokens
# expire (`token_lifetime`) and reach only their installation's org. Messages of rejected JWTs
# are GitHub's as users report them (*modelled* where marked).


@dataclass
class App:
    id: int
    slug: str
    public_key: Any  # cryptography RSAPublicKey
    owner: str = "auditmos"


@dataclass
class Installation:
    id: int
    app_id: int
    org: str
    permissions: dict[str, str] = field(
        default_factory=lambda: {
            "administration": "write",
            "contents": "write",
            "members": "read",
            "metadata": "read",
        }
    )
    repository_selection: str = "all"


class AppSupport:
    """The GitHub App side of GitHubDouble (its state is set up in GitHubDouble.__init__)."""

    apps: dict[int, App]
    installations: dict[int, Installation]
    clock_offset: float

    def _id(self) -> int:
        raise NotImplementedError

    def add_app(self, app_id: int, public_key: Any, slug: str = "specctl-agency") -> App:
        app = App(app_id, slug, public_key)
        self.apps[app_id] = app
        return app

    def install_app(self, app_id: int, org: str, **kwargs: Any) -> Installation:
        installation = Installation(self._id(), app_id, org, **kwargs)
        self.installations[installation.id] = installation
        return installation

    def now(self) -> float:
        """GitHub's clock: ours plus `clock_offset`."""
        return time.time() + self.clock_offset


_APP_PATH = re.compile(r"/app|/app/installations/\d+/access_tokens|/orgs/[^/]+/installation")


def _is_app_endpoint(path: str) -> bool:
    return bool(_APP_PATH.fullmatch(path))


def _in_installation(d: Any, token: TokenInfo, owner: str) -> bool:
    if token.installation is None:
        return True
    return d.installations[token.installation].org.lower() == owner.lower()


def _app_route(d: Any, method: str, path: str, auth: str | None) -> tuple[int, Any, dict[str, str]]:
    app_or_error = _verify_jwt(d, auth)
    if isinstance(app_or_error, tuple):
        return app_or_error
    app = app_or_error
    parts = path.strip("/").split("/")
    if parts == ["app"] and method == "GET":
        url = f"https://github.com/apps/{app.slug}"
        return (
            200,
            {
                "id": app.id,
                "slug": app.slug,
                "name": app.slug,
                "owner": {"login": app.owner},
                "html_url": url,
            },
            {},
        )
    if parts[0] == "orgs" and method == "GET":
        for inst in d.installations.values():
            if inst.app_id == app.id and inst.org.lower() == parts[1].lower():
                account = {"login": inst.org, "id": d.orgs[inst.org.lower()].id, "type": "Organization"}
                body = {
                    "id": inst.id,
                    "app_id": app.id,
                    "account": account,
                    "permissions": inst.permissions,
                    "repository_selection": inst.repository_selection,
                }
                return 200, body, {}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
    if parts[:2] == ["app", "installations"] and method == "POST":
        inst = d.installations.get(int(parts[2]))
        if inst is None or inst.app_id != app.id:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        import secrets

        token = "ghs_" + secrets.token_hex(20)
        expires = d.now() + d.token_lifetime
        can_create = inst.permissions.get("administration") == "write"
        d.tokens[token] = TokenInfo(f"{app.slug}[bot]", can_create, None, True, inst.id, expires)
        d.mints.append(inst.id)
        body = {
            "token": token,
            "expires_at": stamp(datetime.fromtimestamp(expires, UTC)),
            "permissions": inst.permissions,
            "repository_selection": inst.repository_selection,
        }
        return 201, body, {}
    return 404, {"message": "Not Found"}, {}


def _verify_jwt(d: Any, auth: str | None) -> App | tuple[int, Any, dict[str, str]]:
    """The app a JWT speaks for, or GitHub's 401 and its reason."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def unauthorized(message: str) -> tuple[int, Any, dict[str, str]]:
        return 401, {"message": message, "documentation_url": DOCS}, {}

    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    if not auth or not auth.startswith("Bearer "):
        return unauthorized("A JSON web token could not be decoded")
    try:
        header_b64, claims_b64, signature_b64 = auth.split(" ", 1)[1].split(".")
        header, claims = json.loads(decode(header_b64)), json.loads(decode(claims_b64))
        signature = decode(signature_b64)
    except ValueError:
        return unauthorized("A JSON web token could not be decoded")
    if header.get("alg") != "RS256":
        return unauthorized("A JSON web token could not be decoded")
    app = d.apps.get(int(claims.get("iss", 0))) if str(claims.get("iss", "")).isdigit() else None
    if app is None:
        return unauthorized("Integration not found")  # *modelled*
    try:
        signed = f"{header_b64}.{claims_b64}".encode()
        app.public_key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return unauthorized("A JSON web token could not be decoded")
    now, iat, exp = d.now(), claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or iat > now + 5:
        return unauthorized(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        )
    if not isinstance(exp, int) or exp <= now:
        return unauthorized(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
        )
    if exp > now + 600 or exp - iat > 600:
        return unauthorized("'Expiration time' claim ('exp') is too far in the future")
    return app


# -- provisioning: generate from a template, settings, topics, teams, contents -------------------

REPO_DEFAULTS: dict[str, Any] = {
    "homepage": None,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "has_discussions": False,
    "allow_squash_merge": True,
    "allow_merge_commit": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "delete_branch_on_merge": False,
    "is_template": False,
}
_TOPIC = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
_PERMISSIONS = ("pull", "triage", "push", "maintain", "admin")
Answer = tuple[int, Any, dict[str, str]]


class _DoubleProvisioning:
    """GitHubDouble's set-up helpers for provisioning."""

    def add_team(self: Any, org: str, slug: str) -> None:
        self.teams.setdefault(org.lower(), set()).add(slug)

    def add_template(self: Any, owner: str, name: str, files: dict[str, str]) -> dict[str, Any]:
        repo = self.add_repo(owner, name)
        repo["is_template"] = True
        self.files[repo["full_name"].lower()] = dict(files)
        return repo

    def repo(self: Any, full_name: str) -> dict[str, Any]:
        return dict(self.repos[full_name.lower()])


class _ProvisioningRoutes:
    """The provisioning endpoints (GITHUB.md "Provisioning endpoints"); None: not one of them."""

    double: Any

    def _provisioning(self: Any, method: str, parts: list[str], body: Any, token: TokenInfo) -> Answer | None:
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "generate" and method == "POST":
            return self._generate(f"{parts[1]}/{parts[2]}", body or {}, token)
        if len(parts) == 4 and parts[0] == "orgs" and parts[2] == "teams" and method == "GET":
            if parts[3] not in self.double.teams.get(parts[1].lower(), set()):
                return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
            return 200, {"slug": parts[3], "name": parts[3], "id": 1}, {}
        if len(parts) == 7 and parts[0] == "orgs" and parts[2] == "teams" and parts[4] == "repos":
            if method == "PUT":
                return self._team_permission(parts[1], parts[3], f"{parts[5]}/{parts[6]}", body or {}, token)
            return None
        if len(parts) < 3 or parts[0] != "repos" or (len(parts) == 3 and method == "GET"):
            return None
        full_name = f"{parts[1]}/{parts[2]}"
        repo = self.double.repos.get(full_name.lower())
        if repo is None or not self._visible(repo, token):
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        key, rest = full_name.lower(), parts[3:]
        writing = method != "GET"
        if writing and not token.can_create:
            return _no_admin()
        if rest == [] and method == "PATCH":
            for name, value in (body or {}).items():
                if name in REPO_DEFAULTS and name not in self.double.ignored_settings:
                    repo[name] = value
            return 200, repo, {}
        if rest == ["topics"]:
            if writing:
                names = (body or {}).get("names")
                if not isinstance(names, list) or not all(
                    isinstance(n, str) and _TOPIC.fullmatch(n) for n in names
                ):
                    return 422, {"message": "Invalid topics", "errors": ["topics are invalid"]}, {}
                repo["topics"] = list(names)
            return 200, {"names": repo["topics"]}, {}
        if rest == ["teams"] and not writing:
            teams = self.double.repo_teams.get(key, {})
            return 200, [{"slug": t, "name": t, "permission": p} for t, p in sorted(teams.items())], {}
        files = self.double.files.get(key, {})
        if rest == ["readme"] and not writing:
            for path, text in files.items():
                if "/" not in path and path.lower().startswith("readme"):
                    return 200, _content(path, text), {}
            return 404, {"message": "Not Found" if files else "This repository is empty."}, {}
        if len(rest) >= 2 and rest[0] == "contents":
            return self._contents(key, "/".join(rest[1:]), method, body or {})
        return 404, {"message": "Not Found"}, {}

    def _generate(self: Any, template: str, body: dict[str, Any], token: TokenInfo) -> Answer:
        d = self.double
        source = d.repos.get(template.lower())
        if source is None or not self._visible(source, token):
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if not source.get("is_template"):
            return 422, {"message": f"{source['full_name']} is not a template repository"}, {}
        org = self._org(str(body.get("owner") or ""), token)
        if isinstance(org, tuple):
            return org
        if not token.can_create:
            return _no_admin()
        name = _BAD_NAME_CHARS.sub("-", str(body.get("name") or ""))[:100]
        if not name:
            return 422, {"message": "Invalid request", "errors": ["name is missing"]}, {}
        with d.lock:
            if f"{org.login}/{name}".lower() in d.repos:
                errors = ["Could not clone: Name already exists on this account"]
                return 422, {"message": "Repository creation failed.", "errors": errors, "status": "422"}, {}
            repo = d.add_repo(org.login, name, private=bool(body.get("private")))
            repo["description"] = body.get("description") or ""
            d.created.append(repo["full_name"])
        files = dict(d.files.get(template.lower(), {}))

        def arrive() -> None:  # the template's content lands a little after the 201
            d.files[repo["full_name"].lower()] = files

        if d.template_delay:
            threading.Timer(d.template_delay, arrive).start()
        else:
            arrive()
        return 201, repo, {"Location": f"{self._origin()}/repos/{repo['full_name']}"}

    def _team_permission(
        self: Any, org: str, team: str, full_name: str, body: dict[str, Any], token: TokenInfo
    ) -> Answer:
        d = self.double
        repo = d.repos.get(full_name.lower())
        if team not in d.teams.get(org.lower(), set()) or repo is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if not token.can_create:
            return _no_admin()
        if repo["owner"]["login"].lower() != org.lower():
            return (
                422,
                {"message": "Validation Failed", "errors": ["repository is not owned by the organization"]},
                {},
            )
        permission = body.get("permission", "push")
        if permission not in _PERMISSIONS:
            return 422, {"message": "Validation Failed", "errors": [f"invalid permission {permission}"]}, {}
        d.repo_teams.setdefault(full_name.lower(), {})[team] = permission
        return 204, None, {}

    def _contents(self: Any, key: str, path: str, method: str, body: dict[str, Any]) -> Answer:
        files = self.double.files.setdefault(key, {})
        if method == "GET":
            if path not in files:
                return 404, {"message": "Not Found" if files else "This repository is empty."}, {}
            return 200, _content(path, files[path]), {}
        if method != "PUT":
            return 404, {"message": "Not Found"}, {}
        if path in files and not body.get("sha"):
            return 422, {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'}, {}
        import base64

        files[path] = base64.b64decode(body.get("content") or "").decode()
        return 201, {"content": _content(path, files[path]), "commit": {"message": body.get("message")}}, {}


def _content(path: str, text: str) -> dict[str, Any]:
    import base64
    import hashlib

    sha = hashlib.sha1(text.encode()).hexdigest()  # git's object name, not security
    return {"type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": sha,
            "encoding": "base64", "content": base64.b64encode(text.encode()).decode()}  # fmt: skip


def _no_admin() -> Answer:
    body = {"message": "Resource not accessible by personal access token", "documentation_url": DOCS}
    return 403, body, {"X-Accepted-GitHub-Permissions": "administration=write"}


class GitHubDouble(_DoubleProvisioning, AppSupport):
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
        # GitHub's reads lag its writes: a repo made by POST stays invisible to GETs and lists
        # for `read_lag` seconds (a second POST of its name still meets "already exists").
        self.read_lag = 0.0
        self._hidden_until: dict[str, float] = {}  # lower-cased full_name -> monotonic time
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self.apps: dict[int, App] = {}  # the GitHub App block, below
        self.installations: dict[int, Installation] = {}
        self.token_lifetime = 3600.0  # seconds an installation token lives
        self.clock_offset = 0.0  # GitHub's clock minus ours: a skewed client clock
        self.mints: list[int] = []  # installation ids, one per token minted
        self.errors: list[str] = []  # tracebacks of the handler's own failures, never on stderr
        # provisioning (see _ProvisioningRoutes)
        self.teams: dict[str, set[str]] = {}  # lower-cased org -> team slugs
        self.repo_teams: dict[str, dict[str, str]] = {}  # lower-cased full_name -> team -> permission
        self.files: dict[str, dict[str, str]] = {}  # lower-cased full_name -> path -> text
        self.template_delay = 0.0  # seconds before a generated repo gets its template's files
        self.ignored_settings: set[str] = set()  # PATCH accepts these and keeps the old value

    # -- set-up -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> GitHubDouble:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = _Server(("127.0.0.1", port), handler, self)
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
            **REPO_DEFAULTS,
            "topics": [],
        }
        self.repos[repo["full_name"].lower()] = repo
        return repo

    def add_repos(self, owner: str, count: int, prefix: str = "repo") -> None:
        for i in range(count):
            self.add_repo(owner, f"{prefix}-{i:05d}")

    def settle(self) -> None:
        """End the read lag now: every repo made so far becomes visible."""
        self._hidden_until.clear()

    def _settled(self, repo: dict[str, Any]) -> bool:
        return time.monotonic() >= self._hidden_until.get(repo["full_name"].lower(), 0.0)

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


class _Server(ThreadingHTTPServer):
    """The standard server prints a traceback to stderr when a handler fails, e.g. a client that
    hung up mid-answer (BrokenPipe): that would land in the stderr a test is reading. Keep them."""

    def __init__(self, address: tuple[str, int], handler: type[_Handler], double: GitHubDouble):
        super().__init__(address, handler)
        self.double = double

    def handle_error(self, request: Any, client_address: Any) -> None:
        import traceback

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is normal
            self.double.errors.append(traceback.format_exc())


class _Handler(_ProvisioningRoutes, BaseHTTPRequestHandler):
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

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

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
        if _is_app_endpoint(path):
            return self._send(*_app_route(d, method, path, auth))
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
        token = self.double.tokens.get(auth.split(" ", 1)[1])
        if token is not None and token.expires_at is not None and token.expires_at <= self.double.now():
            return None
        return token

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
        if token.installation is not None and parts[0] == "user":
            return 403, {"message": "Resource not accessible by integration", "documentation_url": DOCS}, {}
        routed = self._provisioning(method, parts, body, token)
        if routed is not None:
            return routed
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
            if not _in_installation(d, token, org.login):
                return (
                    403,
                    {"message": "Resource not accessible by integration", "documentation_url": DOCS},
                    {},
                )
            repos = [r for r in d.repos.values() if r["owner"]["login"].lower() == org.login.lower()]
            return self._list([r for r in repos if d._settled(r)], query, f"/organizations/{org.id}/repos")
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "repos":
            if parts[1].lower() not in d.users:
                return 404, {"message": "Not Found"}, {}
            repos = [r for r in d.repos.values() if r["owner"]["login"].lower() == parts[1].lower()]
            return self._list([r for r in repos if d._settled(r)], query, f"/users/{parts[1]}/repos")
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
        if not _in_installation(self.double, token, org.login):
            return 403, {"message": "Resource not accessible by integration", "documentation_url": DOCS}, {}
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
        if not self.double._settled(repo):
            return False
        if token.installation is not None:
            return _in_installation(self.double, token, owner)
        return owner == token.login.lower() or owner in self.double.orgs

    def _create(self, org_login: str, body: Any, token: TokenInfo) -> tuple[int, Any, dict[str, str]]:
        d = self.double
        org = self._org(org_login, token)
        if isinstance(org, tuple):
            return org
        if not token.can_create:
            by = "integration" if token.installation is not None else "personal access token"
            message = {
                "message": f"Resource not accessible by {by}",
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
            if d.read_lag:
                d._hidden_until[repo["full_name"].lower()] = time.monotonic() + d.read_lag
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
        data = b"" if status == 204 else json.dumps(payload).encode()
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


def main(argv: list[str] | None = None) -> None:
    """A double to poke at by hand: python tests/ghdouble.py --help."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python tests/ghdouble.py",
        description="Serve a GitHub double on 127.0.0.1 until Ctrl-C, for trying specctl by hand.",
        epilog="Then: GITHUB_API_URL=http://127.0.0.1:PORT GH_TOKEN=TOKEN specctl doctor",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free one)")
    parser.add_argument("--token", default="dev-token", help="the token it accepts (default: dev-token)")
    parser.add_argument("--org", default="auditmos-projects", help="the org (default: auditmos-projects)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="start with N repos in the org")
    args = parser.parse_args(argv)
    double = GitHubDouble().start(args.port)
    double.add_org(args.org)
    double.add_token(args.token, "admin")
    double.add_repos(args.org, args.seed)
    print(
        f"GitHub double at {double.url} (token: {args.token}, org: {args.org}); Ctrl-C stops it", flush=True
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
