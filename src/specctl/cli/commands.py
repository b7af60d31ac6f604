"""Importing this module registers every command on the app, grouped in --help by panel."""

from specctl.cli import approve_cmd, config_cmd, doctor_cmd, projects_cmd, repos_cmd  # noqa: F401
