#!/usr/bin/env bash
# Approve every spec that has been in interviewing for more than N days (default 14), in one
# batch: one process, paced requests, one TSV line per project. Exit code as `specctl approve`.
#   examples/approve-stale.sh 30
set -euo pipefail
days=${1:-14}
db=$(specctl config get db)
[[ -f $db ]] || exit 0  # no store yet, nothing to approve

# The store is plain SQLite: sqlite-utils (installed with specctl) queries it directly.
sqlite-utils query "$db" \
  "select slug from projects where spec_status = 'interviewing'
     and created_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', :age)
   order by created_at" \
  -p age "-$days days" --csv --no-headers |
  specctl approve --stdin
