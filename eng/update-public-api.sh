#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt, so that an intended API change is one command and a visible diff.
# Usage: eng/update-public-api.sh src/Rampart
set -euo pipefail
project_dir=${1:?usage: $0 PROJECT_DIR}
unshipped="$project_dir/PublicAPI.Unshipped.txt"
abs_dir=$(cd "$project_dir" && pwd)
# Only this project's own errors: building it builds its references too.
dotnet build "$project_dir" --no-incremental 2>&1 \
  | grep -F "[$abs_dir/" \
  | grep -o "error RS0016: Symbol '[^']*'" \
  | sed -E "s/^error RS0016: Symbol '(.*)'$/\1/" \
  | sort -u >> "$unshipped" || true
{ echo '#nullable enable'; grep -v '^#nullable' "$unshipped" | sort -u; } > "$unshipped.tmp"
mv "$unshipped.tmp" "$unshipped"
echo "updated $unshipped ($(grep -vc '^#' "$unshipped") symbols)"
