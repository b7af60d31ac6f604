"""Settings: where each one comes from, in one place.

Precedence, highest first (SPEC "Configuration"):
    command-line flag > environment variable > config file [env.NAME] table > config file top level > default
The token has its own order: GH_TOKEN > GITHUB_TOKEN > the GitHub App (when `app_id` is set)
> config `token` (file must be 0600) > `gh auth token`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from specctl.errors import (
    GITHUB_TOKEN_MISSING,
    GITHUB_UNAUTHORIZED,
    BadInput,
    ConfigError,
    GitHubError,
    SpecctlError,
    register_secret,
    shown,
)
from specctl.names import check_owner

if TYPE_CHECKING:
    from specctl.repo_config import RepoConfig

DEFAULT_ORG = "auditmos-projects"
DEFAULT_API_URL = "https://api.github.com"


def _number(minimum: float, maximum: float, allow_zero: bool = True) -> Callable[[Any], float]:
    """A number within bounds: `maximum` keeps sleep() and socket timeouts from overflowing
    (`SPECCTL_PACE=1e10` crashed the first wait)."""
    if allow_zero:
        expected = f"expected a number from {minimum:g} to {maximum:g}"
    else:
        expected = f"expected a number above {minimum:g}, at most {maximum:g}"

    def parse(value: Any) -> float:
        if isinstance(value, bool):  # TOML `pace = true` is not 1
            raise ValueError(expected)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(expected) from None
        # not NaN (every comparison with NaN is false) and not infinite
        if not minimum <= number <= maximum or (not allow_zero and number == 0):
            raise ValueError(expected)
        return number

    return parse


def _concurrency(value: Any) -> int:
    expected = "expected a whole number from 1 to 100"
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(expected)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(expected) from None
    if not 1 <= number <= 100:
        raise ValueError(expected)
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _org(value: Any) -> str:
    try:
        return check_owner(_text(value), "org")
    except BadInput as e:
        raise ValueError(e.message) from None


def _api_url(value: Any) -> str:
    url = urlsplit(_text(value))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("expected an http(s) URL such as https://api.github.com")
    return _text(value).rstrip("/")


def _positive_int(value: Any) -> int:
    """An app or installation id: digits only (TOML integer or text such as "12345")."""
    text = str(value).strip() if not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) == 0:
        raise ValueError("expected a positive whole number (the id GitHub shows)")
    return int(text)


def _path(value: Any) -> str:
    return str(Path(_text(value)).expanduser())


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseURL:
    """A PostgreSQL URL for the `db` setting. Printed any way (str, repr, f-strings) it shows
    the password as `****`; `.url` is for libpq alone. Not a str subclass, so nothing prints
    the secret by accident."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    def __str__(self) -> str:
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"DatabaseURL({redact_url(self.url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseURL) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def has_password(self) -> bool:
        return redact_url(self.url) != self.url


def is_database_url(text: str) -> bool:
    return text.lower().startswith(POSTGRES_SCHEMES)


def parse_db(text: str) -> Path | DatabaseURL:
    """The `db` setting: a PostgreSQL URL is kept whole (no ~ expansion, no path rules),
    anything else is the path of an SQLite file."""
    if is_database_url(text):
        return DatabaseURL(text)
    try:
        return Path(text).expanduser()
    except RuntimeError:  # `~nosuchuser/…`, or `~` with no home directory
        raise ConfigError(
            f"db {shown(text)}: cannot expand '~' (no such user, or no home directory); give a full path"
        ) from None


def redact_url(url: str) -> str:
    """`url` with any password (`user:PASSWORD@` or `?password=`) replaced by `****`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, question, query = rest.partition("?")
    # The last `@` ends the user info: a password holding `@` or `/` unencoded is still masked.
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:****@{hosts}"
    params = [
        f"{p.partition('=')[0]}=****" if p.partition("=")[0].lower() == "password" else p
        for p in query.split("&")
    ]
    return f"{scheme}://{authority}{question}{'&'.join(params)}"


class Key(NamedTuple):  # NamedTuples here: ~0.1 ms to define at start-up, a dataclass ~0.6 ms
    name: str
    env_var: str | None
    parse: Callable[[Any], Any]
    per_env: bool = True  # may appear in an [env.NAME] table
    secret: bool = False  # its value is never echoed, not even when it is wrong


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("org", "GITHUB_ORG", _org),
        Key("api_url", "GITHUB_API_URL", _api_url),
        Key("db", "SPECCTL_DB", _text),
        Key("pace", "SPECCTL_PACE", _number(0, 60)),  # GitHub asks for 1 s
        Key("max_wait", "SPECCTL_MAX_WAIT", _number(0, 3600)),  # the primary limit resets hourly
        Key("timeout", "SPECCTL_TIMEOUT", _number(0, 300, allow_zero=False)),
        Key("concurrency", "SPECCTL_CONCURRENCY", _concurrency),
        Key("busy_timeout", "SPECCTL_BUSY_TIMEOUT", _number(0, 3600)),
        Key("token", None, _text, per_env=False, secret=True),
        Key("app_id", "SPECCTL_APP_ID", _positive_int),
        Key("app_key", "SPECCTL_APP_KEY", _path),
        Key("installation_id", "SPECCTL_APP_INSTALLATION_ID", _positive_int),
    )
}
DEFAULTS: dict[str, Any] = {
    "org": DEFAULT_ORG,
    "api_url": DEFAULT_API_URL,
    "pace": 1.0,
    "max_wait": 60.0,
    "timeout": 10.0,
    "concurrency": 4,
    "busy_timeout": 10.0,
}


def _setting(key: Key, value: Any) -> str:
    """`name = value` for an error line: a secret's value never, any other one cut short."""
    return key.name if key.secret else f"{key.name} = {shown(value)}"


def _env_table(name: str) -> str:
    return f"[env.{name if len(name) <= 40 else name[:40] + '…'}]"


def default_config_path(environ: Mapping[str, str]) -> Path:
    if environ.get("SPECCTL_CONFIG"):
        return Path(environ["SPECCTL_CONFIG"])
    import platformdirs

    return Path(platformdirs.user_config_dir("specctl")) / "config.toml"


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("specctl")) / "specctl.db"


class ConfigFile(NamedTuple):
    """The config file as read: its tables, and whether others may read it."""

    path: Path
    data: dict[str, Any]  # may hold the token: left out of the repr
    mode: int | None  # None when the file does not exist

    def __repr__(self) -> str:
        return f"ConfigFile(path={self.path!r}, mode={self.mode!r})"

    @property
    def exists(self) -> bool:
        return self.mode is not None

    @property
    def readable_by_others(self) -> bool:
        return self.mode is not None and bool(self.mode & 0o077)

    def table(self, env_name: str | None) -> dict[str, Any]:
        if env_name is None:
            return self.data
        return dict(self.data.get("env", {}).get(env_name, {}))


def read_config(path: Path, *, check: bool = True) -> ConfigFile:
    """The config file; `check=False` reads one with unknown keys, for `config unset` to fix."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return ConfigFile(path, {}, None)
    except IsADirectoryError:
        raise ConfigError(f"config {path} is a directory, not a TOML file") from None
    except OSError as e:
        raise ConfigError(f"config {path} cannot be read: {e.strerror}") from None
    import tomllib  # here, not at the top: most runs have no config file to parse

    try:
        with f:
            data = tomllib.load(f)
            mode = os.fstat(f.fileno()).st_mode & 0o777
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {path} is not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config {path} is not UTF-8 text (at byte {e.start + 1})") from None
    except OSError as e:
        raise ConfigError(f"config {path} cannot be read: {e.strerror or e}") from None
    if check:
        _check_tables(path, data)
    return ConfigFile(path, data, mode)


def _check_tables(path: Path, data: dict[str, Any]) -> None:
    def check(table: dict[str, Any], env_name: str | None) -> None:
        where = _env_table(env_name) if env_name is not None else "top level"
        for name, value in table.items():
            key = KEYS.get(name)
            if key is None or (env_name is not None and not key.per_env):
                env = f"--env {env_name} " if env_name is not None else ""
                fix = f" (remove it: specctl {env}config unset {name})" if len(env + name) <= 80 else ""
                raise ConfigError(f"config {path}: unknown key {shown(name)} in {where}{fix}")
            try:
                key.parse(value)
            except ValueError as e:
                raise ConfigError(f"config {path}: {where} {_setting(key, value)}: {e}") from None

    envs = data.get("env", {})
    if not isinstance(envs, dict) or not all(isinstance(t, dict) for t in envs.values()):
        raise ConfigError(f"config {path}: [env] must hold tables such as [env.staging]")
    check({k: v for k, v in data.items() if k not in ("env", "repo")}, None)
    _check_repo_table(path, data.get("repo"), "[repo]")
    for env_name, table in envs.items():
        check({k: v for k, v in table.items() if k != "repo"}, env_name)
        _check_repo_table(path, table.get("repo"), f"[env.{env_name}.repo]")


def _check_repo_table(path: Path, table: Any, where: str) -> None:
    """The [repo] table (SPEC "Provisioning") is checked with the rest: bad is exit 2 for every command."""
    if table is None:
        return
    from specctl.repo_config import parse_repo_table  # only configs with the table pay for it

    try:
        parse_repo_table(table, where)
    except ValueError as e:
        raise ConfigError(f"config {path}: {e}") from None


class Settings(NamedTuple):
    org: str
    api_url: str
    db: Path | DatabaseURL
    pace: float
    max_wait: float
    timeout: float
    concurrency: int
    busy_timeout: float
    env_name: str | None
    config: ConfigFile
    sources: dict[str, str]  # key -> where its value came from, for `config show` and doctor
    app_id: int | None = None  # the GitHub App (see resolve_credential)
    app_key: str | None = None  # the path of its private key, never its content
    installation_id: int | None = None

    def value(self, name: str) -> Any:
        return getattr(self, name)

    def repo_config(self) -> RepoConfig | None:
        """The [repo] table with [env.NAME.repo] over it key by key; None when there is none."""
        from specctl.repo_config import merged_repo_table

        return merged_repo_table(self.config.data, self.env_name)


def selected_env(env_flag: str | None, environ: Mapping[str, str]) -> str | None:
    """The [env.NAME] table asked for: --env, else SPECCTL_ENV, else none."""
    return env_flag or environ.get("SPECCTL_ENV") or None


def resolve(
    *,
    environ: Mapping[str, str],
    db_flag: str | None = None,
    env_flag: str | None = None,
    config: ConfigFile | None = None,
) -> Settings:
    """Resolve every setting: flag > environment > [env.NAME] > file top level > default."""
    config = config or read_config(default_config_path(environ))
    env_name = selected_env(env_flag, environ)
    if env_name is not None and env_name not in config.data.get("env", {}):
        raise ConfigError(f"no {_env_table(env_name)} table in config {config.path}; add one or drop --env")
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("flag", {"db": db_flag} if db_flag else {}),
        ("env", {n: environ[k.env_var] for n, k in KEYS.items() if k.env_var and environ.get(k.env_var)}),
        (f"config {_env_table(env_name)}" if env_name else "", config.table(env_name) if env_name else {}),
        ("config", {k: v for k, v in config.data.items() if k not in ("env", "token")}),
        ("default", DEFAULTS),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, key in KEYS.items():
        if name == "token":
            continue
        for source, layer in layers:
            if name in layer:
                values[name] = _parse(key, layer[name], source)
                sources[name] = (key.env_var or source) if source == "env" else source
                break
    if "db" not in values:
        values["db"], sources["db"] = str(default_db_path()), "default"
    for name in ("app_id", "app_key", "installation_id"):  # no default: the app is opt-in
        sources.setdefault(name, "default")
    db = parse_db(values["db"])
    if isinstance(db, DatabaseURL) and db.has_password and sources["db"].startswith("config"):
        _check_private(config, "a database password")
    return Settings(
        org=values["org"],
        api_url=values["api_url"],
        db=db,
        pace=values["pace"],
        max_wait=values["max_wait"],
        timeout=values["timeout"],
        concurrency=values["concurrency"],
        busy_timeout=values["busy_timeout"],
        env_name=env_name,
        config=config,
        sources=sources,
        app_id=values.get("app_id"),
        app_key=values.get("app_key"),
        installation_id=values.get("installation_id"),
    )


def _check_private(config: ConfigFile, what: str) -> None:
    """A secret in the config file is used only when no one else can read the file."""
    if config.readable_by_others:
        raise ConfigError(
            f"config {config.path} holds {what} but others can read it; run: chmod 600 {config.path}"
        )


def _parse(key: Key, value: Any, source: str) -> Any:
    try:
        return key.parse(value)
    except ValueError as e:
        where = key.env_var if source == "env" else source
        raise ConfigError(f"{_setting(key, value)} (from {where}): {e}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    import ipaddress  # here, not at the top: start-up time counts

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(api_url: str) -> None:
    """The token goes only over https; plain http is for loopback test doubles alone."""
    url = urlsplit(api_url)
    if url.scheme != "https" and not is_loopback(url.hostname or ""):
        raise ConfigError(
            f"api_url {api_url} is plain http to a remote host; the token is only sent over "
            "https (set api_url to https://…)"
        )


class Token:
    """A token and where it came from. Not a tuple: nothing should unpack or format its value.
    A plain class rather than a dataclass: ~0.5 ms less at every start."""

    __slots__ = ("source", "value")

    def __init__(self, value: str, source: str) -> None:
        self.value = value
        self.source = source  # GH_TOKEN, GITHUB_TOKEN, config, gh
        register_secret(value)  # whatever holds a token, no message can show it

    def __repr__(self) -> str:
        return f"Token(source={self.source!r})"

    def __str__(self) -> str:
        return f"<token from {self.source}>"


class AppCredential(NamedTuple):
    """The GitHub App as the credential: its id, the path of its key (read only when a JWT is
    needed, by specctl.github.app) and the default org's installation, when configured."""

    app_id: int
    key_path: Path
    installation_id: int | None
    api_url: str

    @property
    def source(self) -> str:
        return f"GitHub App {self.app_id}"


def resolve_credential(
    settings: Settings,
    environ: Mapping[str, str],
    gh_token: Callable[[str], str | None] | None = None,
) -> Token | AppCredential:
    """GH_TOKEN > GITHUB_TOKEN > the app (when app_id is set) > config `token` > `gh auth token`."""
    env_token = any(environ.get(var, "").strip() for var in ("GH_TOKEN", "GITHUB_TOKEN"))
    if settings.app_id is None or env_token:
        return resolve_token(settings.config, environ, settings.api_url, gh_token)
    if settings.app_key is None:
        raise ConfigError(
            f"app_id {settings.app_id} is set but app_key is not: set SPECCTL_APP_KEY or "
            "`specctl config set app_key PATH` to the app's private key file"
        )
    return AppCredential(settings.app_id, Path(settings.app_key), settings.installation_id, settings.api_url)


def resolve_token(
    config: ConfigFile,
    environ: Mapping[str, str],
    api_url: str = DEFAULT_API_URL,
    gh_token: Callable[[str], str | None] | None = None,
) -> Token:
    """GH_TOKEN > GITHUB_TOKEN > config `token` (0600 only) > `gh auth token`."""
    token = _find_token(config, environ, api_url, gh_token)
    if not token.value.isprintable() or any(c.isspace() for c in token.value):
        # httpx would refuse such a header and it would read as a dropped connection
        raise GitHubError(
            GITHUB_UNAUTHORIZED,
            f"the token from {token.source} has spaces or control characters inside; set it again",
        )
    return token


def _find_token(
    config: ConfigFile,
    environ: Mapping[str, str],
    api_url: str,
    gh_token: Callable[[str], str | None] | None,
) -> Token:
    for var in ("GH_TOKEN", "GITHUB_TOKEN"):
        if environ.get(var, "").strip():
            return Token(environ[var].strip(), var)
    if "token" in config.data:
        if config.readable_by_others:
            raise GitHubError(
                GITHUB_TOKEN_MISSING,
                f"config {config.path} holds a token but others can read it; run: chmod 600 {config.path}",
            )
        return Token(str(config.data["token"]).strip(), "config")
    from_gh = (gh_token or gh_auth_token)(urlsplit(api_url).hostname or "github.com")
    if from_gh:
        return Token(from_gh, "gh")
    raise GitHubError(
        GITHUB_TOKEN_MISSING,
        "no GitHub token: set GH_TOKEN, run `specctl config set token` (reads stdin), "
        "or log in with `gh auth login`",
    )


def gh_auth_token(api_host: str) -> str | None:
    """The token of the GitHub CLI, when it is installed and logged in to this host."""
    import shutil
    import subprocess

    if shutil.which("gh") is None:
        return None
    host = "github.com" if api_host == "api.github.com" else api_host
    try:
        done = subprocess.run(
            ["gh", "auth", "token", "--hostname", host],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Write the config file atomically, readable by the owner alone (0600)."""
    import tomli_w

    try:
        write_private(path, tomli_w.dumps(data).encode())
    except OSError as e:
        raise SpecctlError(f"cannot write config {path}: {e.strerror or e}") from None


def write_private(path: Path, data: bytes, folder_mode: int = 0o777) -> None:
    """Write `data` to `path` atomically (a temporary file, then a rename), readable by the
    owner alone (0600) whatever the umask: the config file and the app's token cache."""
    path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
