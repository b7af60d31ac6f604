"""config show|get|set|unset|path: read and write the config file (0600, tomli-w)."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from specctl.cli.app import app, runtime
from specctl.config import (
    KEYS,
    ConfigFile,
    Token,
    default_config_path,
    read_config,
    selected_env,
    write_config,
)
from specctl.errors import BadInput, ConfigError, GitHubError, shown

config_app = typer.Typer(help="Read and write the config file.", no_args_is_help=True)
app.add_typer(config_app, name="config", rich_help_panel="Setup")

_KEY_HELP = f"One of: {', '.join(KEYS)}."


def _key(name: str) -> str:
    if name not in KEYS:
        raise BadInput(f"unknown config key {shown(name)}: use one of {', '.join(KEYS)}")
    return name


def _config_file(ctx: typer.Context) -> ConfigFile:
    return read_config(default_config_path(runtime(ctx).environ))


def _token_row(ctx: typer.Context) -> dict[str, Any]:
    """Where the token comes from; never the token itself (nor, for the app, its key)."""
    rt = runtime(ctx)
    try:
        credential = rt.credential()
        value = "****" if isinstance(credential, Token) else None
        return {"key": "token", "value": value, "source": credential.source}
    except (GitHubError, ConfigError) as e:
        return {"key": "token", "value": None, "source": e.message}


@config_app.command("path")
def path(ctx: typer.Context) -> None:
    """Print the config file's path.

    Example: specctl config path
    """
    runtime(ctx).output.line(str(default_config_path(runtime(ctx).environ)))


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Show every setting, its value and where it came from (the token masked).

    Example: specctl --env staging config show
    """
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


@config_app.command("get")
def get(ctx: typer.Context, key: Annotated[str, typer.Argument(help=_KEY_HELP)]) -> None:
    """Print one setting's effective value.

    Example: specctl config get org
    """
    rt = runtime(ctx)
    if _key(key) == "token":
        raise BadInput("the token is never printed; `specctl config show` says where it comes from")
    value = _plain(rt.settings.value(key))
    if rt.options.json:
        rt.output.document({"key": key, "value": value})
    else:
        rt.output.line(str(value))


@config_app.command("set")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help=_KEY_HELP)],
    value: Annotated[
        str | None, typer.Argument(help="The value (not for token: it is read from stdin).")
    ] = None,
) -> None:
    """Set a key in the config file (in table env.NAME with --env). The token is read from stdin.

    Example: specctl config set org acme-clients; gh auth token | specctl config set token
    """
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


@config_app.command("unset")
def unset(ctx: typer.Context, key: Annotated[str, typer.Argument(help=_KEY_HELP)]) -> None:
    """Remove a key from the config file (from table env.NAME with --env).

    Example: specctl config unset token
    """
    rt = runtime(ctx)
    _key(key)
    env_name = selected_env(rt.options.env, rt.environ)
    config = _config_file(ctx)
    data = dict(config.data)
    table = data.get("env", {}).get(env_name, {}) if env_name else data
    if key not in table:
        rt.output.info(f"{key} is not set in {config.path}")
        return
    del table[key]
    write_config(config.path, data)
    rt.output.success(f"{key} removed from {config.path}")


def _plain(value: Any) -> Any:
    """Paths as strings, for TSV and JSON alike."""
    return str(value) if isinstance(value, Path) else value


def _read_token() -> str:
    if sys.stdin.isatty():
        token = str(typer.prompt("GitHub token", hide_input=True))
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise BadInput("no token on stdin: … | specctl config set token")
    return token
