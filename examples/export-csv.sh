#!/usr/bin/env bash
# Export every project with its repo to CSV (stdout), with a header row, for a spreadsheet.
#   examples/export-csv.sh > projects.csv
set -euo pipefail
specctl projects --csv
