#!/usr/bin/env bash
# Export every project with its repo and dates to CSV (stdout), with sqlite-utils.
#   examples/export-csv.sh > projects.csv
set -euo pipefail
db=$(specctl config get db)
if [[ ! -f $db ]]; then
  echo "slug,name,spec_status,github_repo,repo_source,created_at,updated_at"
  exit 0
fi
sqlite-utils query "$db" \
  "select slug, name, spec_status, github_repo, repo_source, created_at, updated_at
   from projects order by slug" --csv
