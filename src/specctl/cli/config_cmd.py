"""config show|get|set|unset|path: read and write the config file (0600, tomli-w)."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from specctl.cli.app import app, help_without_command, runtime
from specctl.cli.help import examples
from specctl.config import (
    KEYS,
    ConfigFile,
    DatabaseURL,
    Token,
    default_config_path,
    read_config,
    selected_env,
    write_config,
)
from specctl.errors import BadInput, ConfigError, GitHubError, shown

config_app = typer.Typer(
    help="Read and write the config file.",
    epilog=examples(
        "specctl config show",
        "specctl config set org acme-clients",
        "gh auth token | specctl config set token",
    ),
    invoke_without_command=True,
    callback=help_without_command,
)
app.add_typer(config_app, name="config", rich_help_panel="Setup")

_KEY_HELP = f"One of: {', '.join(KEYS)}."


def complete_key(incomplete: str) -> list[str]:
    """Shell completion offers the keys (not file names)."""
    return [name for name in KEYS if name.startswith(incomplete)]


Key = Annotated[str, typer.Argument(help=_KEY_HELP, autocompletion=complete_key, show_default=False)]


def _key(name: str) -> str:
    if name not in KEYS:
        raise BadInput(f"unknown config key {shown(name)}: use one of {', '.join(KEYS)}")
    return name


def _config_file(ctx: typer.Context, *, check: bool = True) -> ConfigFile:
    return read_config(default_config_path(runtime(ctx).environ), check=check)


def _token_row(ctx: typer.Context) -> dict[str, Any]:
    """Where the token comes from; never the token itself (nor, for the app, its key). Without
    one, the source is "none" and why goes to stderr, as a message, not into the table."""
    rt = runtime(ctx)
    try:
        credential = rt.credential()
    except (GitHubError, ConfigError) as e:
        rt.output.warn(e.message)
        return {"key": "token", "value": None, "source": "none"}
    value = "****" if isinstance(credential, Token) else None
    return {"key": "token", "value": value, "source": credential.source}


@config_app.command("path", epilog=examples("specctl config path", '"$EDITOR" "$(specctl config path)"'))
def path(ctx: typer.Context) -> None:
    """Print the config file's path."""
    runtime(ctx).output.line(str(default_config_path(runtime(ctx).environ)))


@config_app.command(
    "show", epilog=examples("specctl config show", "specctl --env staging config show --json")
)
def show(ctx: typer.Context) -> None:
    """Show every setting, its value and where it came from (the token masked)."""
    rt = runtime(ctx)
    s = rt.settings
    rows = [
        {
            "key": name,
            "value": _plain(s.value(name)),
            "source": s.sources[name],
        }
        for name in KEYS
        if name != "token"
    ]
    rows.append(_token_row(ctx))
    rt.output.records(rows, ["key", "value", "source"], title=f"Config ({s.config.path})")


@config_app.command(
    "get", epilog=examples("specctl config get org", 'sqlite-utils tables "$(specctl config get db)"')
)
def get(ctx: typer.Context, key: Key) -> None:
    """Print one setting's effective value."""
    rt = runtime(ctx)
    if _key(key) == "token":
        raise BadInput("the token is never printed; `specctl config show` says where it comes from")
    value = _plain(rt.settings.value(key))
    if rt.options.json:
        rt.output.document({"key": key, "value": value})
    else:
        rt.output.line(str(value))


@config_app.command(
    "set",
    epilog=examples(
        "specctl config set org acme-clients",
        "gh auth token | specctl config set token",
        "specctl --env staging config set api_url https://github.example.com/api/v3",
    ),
)
def set_(
    ctx: typer.Context,
    key: Key,
    value: Annotated[
        str | None, typer.Argument(help="The value (not for token: it is read from stdin).")
    ] = None,
) -> None:
    """Set a key in the config file (in table env.NAME with --env). The token is read from stdin."""
    rt = runtime(ctx)
    spec = KEYS[_key(key)]
    if key == "token":
        if value is not None:
            raise BadInput(
                "a token is never taken from the command line; pipe it: … | specctl config set token"
            )
        value = _read_token()
    elif value is None:
        raise BadInput(f"missing value: specctl config set {key} VALUE")
    env_name = selected_env(rt.options.env, rt.environ)
    if env_name and not spec.per_env:
        raise BadInput(f"{key} is not per environment; set it without --env")
    try:
        parsed = spec.parse(value)
    except ValueError as e:
        raise ConfigError(f"{key} = {shown(value)}: {e}") from None
    config = _config_file(ctx)
    data = dict(config.data)
    table = data.setdefault("env", {}).setdefault(env_name, {}) if env_name else data
    table[key] = parsed
    write_config(config.path, data)
    where = f"[env.{env_name}] of " if env_name else ""
    rt.output.success(f"{key} set in {where}{config.path}")


@config_app.command(
    "unset",
    epilog=examples("specctl config unset token", "specctl config unset orgz   # a key specctl doesn't know"),
)
def unset(ctx: typer.Context, key: Key) -> None:
    """Remove a key from the config file (from table env.NAME with --env).

    Also removes a key specctl doesn't know (a typo), which every other command refuses.
    """
    rt = runtime(ctx)
    env_name = selected_env(rt.options.env, rt.environ)
    config = _config_file(ctx, check=False)  # a file with the typo'd key must still be fixable
    data = dict(config.data)
    envs = data.get("env", {})
    table = envs.get(env_name, {}) if env_name and isinstance(envs, dict) else data
    if key == "env" or not isinstance(table, dict) or key not in table:
        _key(key)  # an unknown key that isn't there either: say which keys exist
        rt.output.info(f"{key} is not set in {config.path}")
        return
    del table[key]
    write_config(config.path, data)
    rt.output.success(f"{key} removed from {config.path}")


def _plain(value: Any) -> Any:
    """Paths and URLs (their password masked) as strings, for TSV and JSON alike."""
    return str(value) if isinstance(value, Path | DatabaseURL) else value


def _read_token() -> str:
    if sys.stdin.isatty():
        token = str(typer.prompt("GitHub token", hide_input=True))
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise BadInput("no token on stdin: … | specctl config set token")
    return token
