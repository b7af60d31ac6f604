"""specctl: approve client specs and give each project exactly one GitHub repo."""

__version__ = "0.1.0"
