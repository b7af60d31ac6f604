#!/usr/bin/env bash
# Add the projects listed in a file (one "Name<TAB>Description" a line; '#' comments and blank
# lines skipped), then print the new projects that still have no repo, as TSV.
#   examples/add-from-file.sh new-clients.tsv
set -euo pipefail
file=${1:?usage: add-from-file.sh FILE}

added=()
while IFS=$'\t' read -r name description || [[ -n $name ]]; do
  [[ -z ${name// } || $name == \#* ]] && continue
  added+=("$(specctl add "$name" --description "${description:-}")")
done <"$file"

# Only the projects this run added, in the `projects` columns.
specctl projects --without-repo | grep -F -f <(printf '%s\n' "${added[@]}") || true
