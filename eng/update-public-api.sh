#!/usr/bin/env bash
# Brings a project's PublicAPI.Unshipped.txt up to date with its public API: adds what the
# PublicApiAnalyzers report as undeclared (RS0016) and removes what they report as gone (RS0017),
# so that an intended API change is one command and a visible diff.
# Usage: eng/update-public-api.sh src/Rampart
set -euo pipefail
project_dir=${1:?usage: $0 PROJECT_DIR}
unshipped="$project_dir/PublicAPI.Unshipped.txt"
abs_dir=$(cd "$project_dir" && pwd)
log=$(mktemp)
# Only this project's own diagnostics: building it builds its references too.
dotnet build "$project_dir" --no-incremental 2>&1 | grep -F "$abs_dir/" > "$log" || true
grep -o "error RS0016: Symbol '[^']*'" "$log" | sed -E "s/^error RS0016: Symbol '(.*)'$/\1/" | sort -u >> "$unshipped" || true
grep -o "error RS0017: Symbol '[^']*'" "$log" | sed -E "s/^error RS0017: Symbol '(.*)'$/\1/" | sort -u > "$log.gone" || true
{ echo '#nullable enable'; grep -v '^#nullable' "$unshipped" | grep -vxF -f "$log.gone" | sort -u; } > "$unshipped.tmp" || true
mv "$unshipped.tmp" "$unshipped"
rm -f "$log" "$log.gone"
echo "updated $unshipped ($(grep -vc '^#' "$unshipped") symbols)"
