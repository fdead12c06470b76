#!/usr/bin/env bash
# Large configurations: how long `rampart validate` and a start (until the proxy answers) take at 1k, 10k and
# 100k destinations, in clusters of 1,000 and in one cluster. Every process started here is stopped by its PID.
# Usage: bench/config/run.sh [SIZES...]        (default: 1000 10000 100000)
#        RAMPART_BASELINE_REF=<git ref> ...    also measures that commit's build, in the same run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sizes=("${@:-1000 10000 100000}")
[ $# -gt 0 ] || sizes=(1000 10000 100000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # $1: source tree, $2: output dir
  dotnet build "$1/src/Rampart.Host" -c Release -o "$2" -v q -nologo >/dev/null
}

declare -A exe
build "$root" "$work/current"; exe[current]="$work/current/Rampart.Host.dll"
if [ -n "${RAMPART_BASELINE_REF:-}" ]; then
  git -C "$root" worktree add -f "$work/baseline-src" "$RAMPART_BASELINE_REF" >/dev/null 2>&1
  build "$work/baseline-src" "$work/baseline"; exe[baseline]="$work/baseline/Rampart.Host.dll"
fi

seconds() { python3 -c "import time; print(time.monotonic())"; }

start_time() { # $1: dll, $2: config, $3: port -> seconds until the proxy answers (or "-" after 120 s)
  local begin pid answered=-
  begin=$(seconds)
  dotnet "$1" --config "$2" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 6000); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$3/c0/x"; then answered=$(python3 -c "print(f'{$(seconds) - $begin:.2f}')"); break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$answered"
}

printf '| build | destinations | clusters | validate s | start s (until the proxy answers) |\n| --- | ---: | ---: | ---: | ---: |\n'
port=18100
for name in "${!exe[@]}"; do
  for n in "${sizes[@]}"; do
    for per in 1000 "$n"; do
      port=$((port + 2))
      config="$work/cfg-$n-$per.json"
      python3 "$root/bench/config/generate.py" "$n" "$port" "$per" > "$config"
      begin=$(seconds)
      if timeout 120 dotnet "${exe[$name]}" validate --config "$config" >/dev/null 2>&1; then
        validate=$(python3 -c "print(f'{$(seconds) - $begin:.2f}')")
      else
        validate="- (over 120 s or failed)"
      fi
      clusters=$(( (n + per - 1) / per ))
      printf '| %s | %d | %d | %s | %s |\n' "$name" "$n" "$clusters" "$validate" "$(start_time "${exe[$name]}" "$config" "$port")"
      [ "$per" = "$n" ] && break
    done
  done
done
[ -z "${RAMPART_BASELINE_REF:-}" ] || git -C "$root" worktree remove --force "$work/baseline-src" >/dev/null 2>&1 || true
