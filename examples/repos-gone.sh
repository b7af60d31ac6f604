#!/usr/bin/env bash
# List projects whose recorded repo no longer shows up on GitHub (deleted, renamed, or the
# token lost access): slug<TAB>repo, one a line. Exit 1 when there are any.
#   examples/repos-gone.sh
set -euo pipefail
reachable=$(mktemp)
trap 'rm -f "$reachable"' EXIT
specctl list-repos | cut -f1 | tr '[:upper:]' '[:lower:]' | sort >"$reachable"

gone=$(specctl projects --with-repo |
  awk -F'\t' 'NR == FNR { seen[$1] = 1; next } !(tolower($3) in seen) { print $1 "\t" $3 }' "$reachable" -)
[[ -z $gone ]] && exit 0
printf '%s\n' "$gone"
exit 1
