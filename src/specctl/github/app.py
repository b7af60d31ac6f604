"""Acting as a GitHub App: the JWT, the installation of each org, and installation tokens
cached on disk (SPEC "GitHub App authentication", GITHUB.md "GitHub App authentication").

Imported only when the app is the credential in use. The transport asks `App.bearer` for each
request's token: a JWT for the app endpoints, else the installation token of the request's
owner, minted at most once per installation a run (again only when it nears its expiry, or
once after a 401 answered a token read from the cache). The private key is read and checked
only when a JWT is needed; `cryptography` (the `app` extra) is imported only then.

Why `cryptography` alone, not PyJWT: a JWT is a base64url header and claims signed with
RS256, ~15 lines here; PyJWT[crypto] imports `cryptography` anyway plus its x509/JWK modules:
measured with `python -X importtime`, ~75 ms against ~30 ms for the two modules used here.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from specctl.config import AppCredential, write_private
from specctl.errors import (
    GITHUB_NOT_FOUND,
    GITHUB_UNAUTHORIZED,
    ConfigError,
    GitHubError,
    register_secret,
)
from specctl.github.transport import OWNER, TRIES, Transient, Transport, error, message

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from specctl._httpx import httpx

INSTALL_EXTRA = "pip install 'specctl[app]'"
FRESH_FOR = 5 * 60  # an installation token is reused until 5 minutes before it expires
JWT_BACK = 60  # iat this far in the past, against clock drift (GitHub's advice)
JWT_LIFE = 9 * 60  # exp after now: within GitHub's 10 minutes, with a minute to spare


class Minted(NamedTuple):
    token: str  # a secret: never printed, logged or stored anywhere but the cache file
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:
        return f"Minted(expires_at={self.expires_at})"


def load_key(path: Path) -> RSAPrivateKey:
    """The app's private key, refused (bad config) unless it is an RSA private key in a file
    that group and others cannot read."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise ConfigError(f"the GitHub App needs the app extra: {INSTALL_EXTRA}") from None
    try:
        with path.open("rb") as f:
            mode = os.fstat(f.fileno()).st_mode & 0o777
            pem = f.read(64 * 1024)
    except FileNotFoundError:
        raise ConfigError(f"app_key {path} does not exist; set app_key to the app's .pem file") from None
    except OSError as e:
        raise ConfigError(f"app_key {path} cannot be read: {e.strerror or e}") from None
    if mode & 0o077:
        raise ConfigError(f"app_key {path} is readable by group or others; run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        key = None  # the exception's text may quote the file: say nothing of its content
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"app_key {path} is not an unencrypted RSA private key (PEM); download a new key "
            "from the app's settings page"
        )
    return key


def sign_jwt(key: RSAPrivateKey, app_id: int, now: float) -> str:
    """A JWT for the app endpoints: RS256, `iat` a minute back, `exp` 9 minutes ahead."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = part(b'{"alg":"RS256","typ":"JWT"}')
    claims = {"iat": int(now) - JWT_BACK, "exp": int(now) + JWT_LIFE, "iss": str(app_id)}
    signed = header + b"." + part(json.dumps(claims, separators=(",", ":")).encode())
    return (signed + b"." + part(key.sign(signed, padding.PKCS1v15(), hashes.SHA256()))).decode()


class TokenCache:
    """Installation tokens (one file each) and the org → installation lookup, in the user's
    cache dir, mode 0600: never in the store or the config. Keyed by API host and app id, so
    two apps or two GitHub hosts never share a token. A file that others may read is ignored."""

    def __init__(self, directory: Path, api_url: str, app_id: int):
        host = (urlsplit(api_url).netloc or "github").replace(":", "_")
        self.dir = directory
        self.prefix = f"{host}-app{app_id}"

    @classmethod
    def default(cls, api_url: str, app_id: int) -> TokenCache:
        import platformdirs

        return cls(Path(platformdirs.user_cache_dir("specctl")) / "github-app", api_url, app_id)

    def token(self, installation: int) -> Minted | None:
        data = self._read(f"installation-{installation}.json")
        try:
            return Minted(str(data["token"]), float(data["expires_at"]))
        except (KeyError, TypeError, ValueError):
            return None

    def save_token(self, installation: int, minted: Minted) -> None:
        self._write(
            f"installation-{installation}.json", {"token": minted.token, "expires_at": minted.expires_at}
        )

    def forget_token(self, installation: int) -> None:
        (self.dir / f"{self.prefix}-installation-{installation}.json").unlink(missing_ok=True)

    def installations(self) -> dict[str, int]:
        """org (lower-case) → installation id, as looked up before."""
        data = self._read("orgs.json")
        return {str(k): v for k, v in data.items() if isinstance(v, int)}

    def save_installation(self, org: str, installation: int | None) -> None:
        known = self.installations()
        known.pop(org.lower(), None)
        if installation is not None:
            known[org.lower()] = installation
        self._write("orgs.json", known)

    def _read(self, name: str) -> dict[str, Any]:
        try:
            with (self.dir / f"{self.prefix}-{name}").open("rb") as f:
                if os.fstat(f.fileno()).st_mode & 0o077:
                    return {}
                data = json.loads(f.read())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, data: dict[str, Any]) -> None:
        """Atomically, 0600. A cache that cannot be written costs a mint next run, no more."""
        with suppress(OSError):
            write_private(self.dir / f"{self.prefix}-{name}", json.dumps(data).encode(), folder_mode=0o700)


class App:
    """The app as the credential of one run: what the transport's auth hook asks for tokens."""

    def __init__(
        self,
        credential: AppCredential,
        org: str,
        cache: TokenCache,
        *,
        clock: Callable[[], float],
    ):
        self.credential = credential
        self.org = org  # the default org: `installation_id`, when set, is its installation
        self.cache = cache
        self.clock = clock
        self.http: Transport | None = None  # bound once the client exists (GitHub.connect)
        self.mints: dict[int, int] = {}  # installation → tokens minted this run
        self._minted_at: dict[int, float] = {}  # installation → when this run last minted its token
        self._base = urlsplit(credential.api_url).path.rstrip("/") + "/"
        self._key: RSAPrivateKey | None = None
        self._jwt: tuple[str, float] | None = None
        self._tokens: dict[int, Minted] = {}
        self._from_cache: set[int] = set()  # installations whose token was read from disk
        self._lock = threading.RLock()  # pages may be fetched from several threads

    def __repr__(self) -> str:
        return f"<App {self.credential.app_id}>"

    def bind(self, http: Transport) -> None:
        self.http = http

    # -- the auth hook's side ---------------------------------------------------------------

    def bearer(self, request: httpx.Request) -> str:
        owner = self.owner(request)
        return self.jwt() if owner is None else self.token_for(owner)

    def renew(self, request: httpx.Request) -> bool:
        """A 401 answered the request: worth one more try when its token came from the cache
        (revoked, or the clock misled us); never for a token this run minted, nor for a JWT."""
        owner = self.owner(request)
        if owner is None:
            return False
        with self._lock:
            installation = self._installation(owner)
            if installation not in self._from_cache:
                return False
            self._from_cache.discard(installation)
            self._tokens.pop(installation, None)
            self.cache.forget_token(installation)
            return True

    def owner(self, request: httpx.Request) -> str | None:
        """Whose installation a request is for; None for the app endpoints (a JWT)."""
        path = request.url.path
        parts = path[len(self._base) :].strip("/").split("/") if path.startswith(self._base) else []
        head = parts[0] if parts else ""
        if head == "app" or (len(parts) in (3, 4) and parts[-1] == "installation"):
            return None
        if request.extensions.get(OWNER):
            return str(request.extensions[OWNER])
        if head in ("orgs", "repos", "users") and len(parts) > 1:
            return parts[1]
        return self.org

    # -- tokens -----------------------------------------------------------------------------

    def token_for(self, owner: str) -> str:
        with self._lock:
            installation = self._installation(owner)
            minted = self._tokens.get(installation)
            if minted is None:
                minted = self.cache.token(installation)
                if minted is not None:
                    register_secret(minted.token)  # whatever GitHub echoes back, never shown
                    self._from_cache.add(installation)
            if minted is None or minted.expires_at - self._margin(installation, minted) <= self.clock():
                minted = self._mint(installation, owner)
            self._tokens[installation] = minted
            return minted.token

    def _margin(self, installation: int, minted: Minted) -> float:
        """How long before its expiry a token is replaced: FRESH_FOR, but a token this run just
        minted that lives less than twice that serves half its life (GitHub may hand out short
        ones), so that a run does not mint again for every request."""
        minted_at = self._minted_at.get(installation)
        if minted_at is None:
            return FRESH_FOR
        return min(FRESH_FOR, (minted.expires_at - minted_at) / 2)

    def jwt(self) -> str:
        with self._lock:
            now = self.clock()
            if self._jwt is None or self._jwt[1] - 60 <= now:
                if self._key is None:
                    self._key = load_key(self.credential.key_path)
                self._jwt = sign_jwt(self._key, self.credential.app_id, now), now + JWT_LIFE
                register_secret(self._jwt[0])
            return self._jwt[0]

    def preflight(self) -> None:
        """Bad config (the key, the extra) is exit 2 before anything changes: check the key now
        unless the default org's token is cached and fresh, so no JWT will be needed for it."""
        installation = self._known_installation(self.org)
        cached = self.cache.token(installation) if installation is not None else None
        if cached is None or cached.expires_at - FRESH_FOR <= self.clock():
            self.jwt()

    def _known_installation(self, org: str) -> int | None:
        if org.lower() == self.org.lower() and self.credential.installation_id is not None:
            return self.credential.installation_id
        return self.cache.installations().get(org.lower())

    def _installation(self, org: str) -> int:
        known = self._known_installation(org)
        if known is not None:
            return known
        found = int(self.installation(org)["id"])
        self.cache.save_installation(org, found)
        return found

    def _mint(self, installation: int, owner: str, look_again: bool = True) -> Minted:
        response = self._send("POST", f"app/installations/{installation}/access_tokens")
        if response.status_code == 404:
            if look_again and self.cache.installations().get(owner.lower()) == installation:
                # Looked up earlier, since uninstalled or reinstalled: look it up again, once.
                self.cache.save_installation(owner, None)
                return self._mint(self._installation(owner), owner, look_again=False)
            raise GitHubError(
                GITHUB_NOT_FOUND,
                f"installation {installation} of GitHub App {self.credential.app_id} not found; "
                "check installation_id",
                http_status=404,
            )
        data = self._answer(response, f"installation {installation}", 201)
        expires = datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00"))
        minted = Minted(str(data["token"]), expires.astimezone(UTC).timestamp())
        register_secret(minted.token)
        self.mints[installation] = self.mints.get(installation, 0) + 1
        self._minted_at[installation] = self.clock()
        self._from_cache.discard(installation)
        self.cache.save_token(installation, minted)
        return minted

    # -- app endpoints (JWT) ----------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """The app itself (`GET /app`): name, slug, owner, html_url."""
        return self._answer(self._send("GET", "app"), "the app", 200)

    def installation(self, org: str) -> dict[str, Any]:
        """The app's installation on `org`: id, account, permissions, repository_selection."""
        response = self._send("GET", f"orgs/{org}/installation")
        if response.status_code == 404:
            raise GitHubError(
                GITHUB_NOT_FOUND,
                f"GitHub App {self.credential.app_id} is not installed on {org} (or there is no such "
                f"org); an owner of {org} can install it from {self._install_url()}",
                http_status=404,
            )
        return self._answer(response, f"the app's installation on {org}", 200)

    def _install_url(self) -> str:
        try:
            page = str(self.info().get("html_url") or "")
        except GitHubError:
            page = ""
        return f"{page}/installations/new" if page else "the app's page on GitHub (Install App)"

    def _send(self, method: str, path: str) -> httpx.Response:
        """One app request; a mint with no answer is simply asked again (a token too many
        does no harm), TRIES times at most."""
        assert self.http is not None, "bind() first"
        if method == "GET":
            return self.http.get(path)
        for attempt in range(1, TRIES + 1):
            try:
                response = self.http.send(method, path)
            except Transient:
                if attempt == TRIES:
                    raise GitHubError(
                        "GITHUB_UNAVAILABLE", f"GitHub did not answer {path} after {TRIES} tries"
                    ) from None
            else:
                if response.status_code < 500 or attempt == TRIES:
                    return response
            self.http.backoff_sleep(attempt)
        raise AssertionError("unreachable")

    def _answer(self, response: httpx.Response, what: str, ok: int) -> dict[str, Any]:
        if response.status_code == 401:
            raise GitHubError(
                GITHUB_UNAUTHORIZED,
                f"GitHub rejected the app's JWT ({message(response)}); check app_id "
                f"{self.credential.app_id} and app_key, and that this machine's clock is right",
                http_status=401,
            )
        if response.status_code != ok:
            raise error(response, what)
        data = response.json()
        return data if isinstance(data, dict) else {}
