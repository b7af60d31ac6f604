#!/usr/bin/env bash
# Add the projects listed in a file (one "Name<TAB>Description" a line; '#' comments and blank
# lines skipped), then print the new projects that still have no repo, as TSV. Names a project
# has already are skipped, so running it again on the same file adds nothing twice.
#   examples/add-from-file.sh new-clients.tsv
set -euo pipefail
file=${1:?usage: add-from-file.sh FILE}

declare -A existing  # names already in the store, lower-cased (specctl compares them so)
while IFS= read -r name; do
  existing[${name,,}]=1
done < <(specctl projects | cut -f5)

added=()
while IFS=$'\t' read -r name description || [[ -n $name ]]; do
  [[ -z ${name// } || $name == \#* ]] && continue
  trimmed=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$name")
  if [[ -n ${existing[${trimmed,,}]:-} ]]; then
    echo "skipped: $name (a project has this name)" >&2
    continue
  fi
  added+=("$(specctl add "$name" --description "${description:-}")")
  existing[${trimmed,,}]=1
done <"$file"

# Only the projects this run added, in the `projects` columns.
((${#added[@]})) || exit 0
specctl projects --without-repo | grep -F -f <(printf '%s\n' "${added[@]}") || true
