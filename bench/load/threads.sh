#!/usr/bin/env bash
# Where a proxy's threads spend a request, by the scheduler's own accounting (/proc/PID/task/*/schedstat), under one
# bounded wrk run against it: per request and per thread name, the CPU time run, the time spent runnable but waiting
# for a CPU (what a request's latency is made of on a saturated machine), and how many times each was scheduled.
# Loopback only; starts nothing but wrk. Usage: bench/load/threads.sh PID URL [SECONDS=6] [CONNECTIONS=64]
# (PID: the proxy's process; its children are counted too, e.g. nginx's workers.)
set -euo pipefail
pid=$1; url=$2; seconds=${3:-6}; connections=${4:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
snap() {
  for p in "$pid" $(pgrep -P "$pid" || true); do
    for t in /proc/"$p"/task/*; do
      [ -r "$t/schedstat" ] && echo "$p.$(basename "$t") $(tr ' ' '_' < "$t/comm") $(cat "$t/schedstat")"
    done
  done | sort
}
before=$(mktemp); after=$(mktemp); trap 'rm -f "$before" "$after"' EXIT
snap > "$before"
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$url")
snap > "$after"
n=$(echo "$out" | awk '/requests in/ { print $1 }')
echo "$url: $(echo "$out" | awk '/^Requests\/sec/ { print $2 }') req/s, p99 $(echo "$out" | awk '$1 == "99%" { print $2 }'), $n requests"
printf '  %-24s %12s %12s %12s\n' thread "run µs/req" "wait µs/req" "slices/req"
# Threads named alike (a pool's workers, numbered loops) are summed under one name; threads that ended meanwhile drop out.
join "$before" "$after" | awk -v n="$n" '{ name = $2; sub(/_[0-9]+$/, "", name); r[name] += $7 - $3; w[name] += $8 - $4; k[name] += $9 - $5 }
  END { for (x in r) if (r[x] + w[x] > 0) printf "  %-24s %12.1f %12.1f %12.3f\n", x, r[x] / 1000 / n, w[x] / 1000 / n, k[x] / n }' | sort -k2 -rn
