"""Importing this module registers every command on the app. The order of the imports is the
order of the groups in `specctl --help`: projects, approval, repos, setup."""

# isort: skip_file
from specctl.cli import projects_cmd  # noqa: F401
from specctl.cli import approve_cmd  # noqa: F401
from specctl.cli import repos_cmd  # noqa: F401
from specctl.cli import provision_cmd  # noqa: F401
from specctl.cli import doctor_cmd  # noqa: F401
from specctl.cli import config_cmd  # noqa: F401
from specctl.cli import store_cmd  # noqa: F401
