#!/usr/bin/env bash
# Packs Rampart, Rampart.Proxy, Rampart.Http and the `rampart` tool (Rampart.Tool), installs the tool from the local
# package folder into a temporary tool path, and runs `rampart validate` and a short `rampart demo` from it.
# Prints one VSTest-style summary line (three checks: pack, validate, demo), so that .ci/run counts them.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-pack.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
check() { # NAME COMMAND...
  local name=$1; shift
  if "$@" >"$work/$name.log" 2>&1; then passed=$((passed + 1)); echo "pack-check: $name ok"
  else failed=$((failed + 1)); echo "pack-check: $name FAILED"; tail -20 "$work/$name.log"; echo "  Failed pack-check.$name"; fi
}

version=$(dotnet msbuild "$root/src/Rampart/Rampart.csproj" -getProperty:Version)
pack() {
  rm -rf "$root/artifacts/packages"
  dotnet pack "$root/Rampart.slnx" -c Release -o "$root/artifacts/packages" &&
  for id in Rampart Rampart.Proxy Rampart.Http Rampart.Tool; do
    ls "$root/artifacts/packages/$id.$version.nupkg" "$root/artifacts/packages/$id.$version.snupkg" || return 1
    # Read whole, then searched: `unzip | grep -q` fails under pipefail when grep stops reading early (SIGPIPE).
    local files nuspec
    files=$(unzip -l "$root/artifacts/packages/$id.$version.nupkg") || return 1
    nuspec=$(unzip -p "$root/artifacts/packages/$id.$version.nupkg" "$id.nuspec") || return 1
    grep -qE ' README.md$' <<<"$files" || { echo "$id: no README"; return 1; }
    grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || { echo "$id: no license"; return 1; }
    if [ "$id" != Rampart.Tool ]; then
      grep -q "lib/net10.0/$id.xml" <<<"$files" || { echo "$id: no XML docs"; return 1; }
    fi
  done
  dotnet tool install Rampart.Tool --version "$version" --tool-path "$work/tools" --add-source "$root/artifacts/packages"
}
check pack pack

cat > "$work/rampart.json" <<'JSON'
{ "Rampart": { "Listen": [ "http://127.0.0.1:0" ],
  "Routes": [ { "Id": "all", "Cluster": "web" } ],
  "Clusters": { "web": { "Destinations": { "a": { "Address": "http://127.0.0.1:9" } } } } } }
JSON
check validate "$work/tools/rampart" validate --config "$work/rampart.json"
check demo timeout 120 "$work/tools/rampart" demo --no-live --duration 10

total=$((passed + failed))
if [ "$failed" -eq 0 ]; then echo "Passed!  - Failed:     0, Passed:     $passed, Skipped:     0, Total:     $total - packages"
else echo "Failed!  - Failed:     $failed, Passed:     $passed, Skipped:     0, Total:     $total - packages"; exit 1; fi
