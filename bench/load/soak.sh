#!/usr/bin/env bash
# Soak: steady load through Rampart while a background loop kills, restarts, fails and heals backends at
# random. Loopback only, bounded in time, stops every process it started (by PID). Not part of CI.
# Usage: bench/load/soak.sh [MINUTES=10] [CONNECTIONS=32]
# HTTP_VERSION=2: Rampart speaks HTTP/2 (h2c) to the backends (their port + 1000), every request in flight to a
# backend on one connection, so a kill fails them all at once.
# Reports: client-visible errors (wrk's non-2xx and socket errors; target 0), Rampart's RSS at start,
# end and peak (target: end within 10 % of start), its growth over the soak's second half (a leak keeps growing;
# the runtime's working set — GC regions, code compiled as the chaos reaches new paths — levels off), and GC /
# thread-pool figures from its /metrics.
set -euo pipefail
minutes=${1:-10}; connections=${2:-32}
seconds=$((minutes * 60))
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/rampart-soak.XXXXXX)
pids=()
declare -A backend_pid
cleanup() {
  # Backends restarted by the chaos loop (a subshell) are listed in backends.pids.
  for pid in "${pids[@]}" "${backend_pid[@]}" $(cat "$work/backends.pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

echo "building (Release)…"
for p in bench/load/Backend src/Rampart.Host; do
  dotnet build -c Release "$root/$p" -o "$work/$(basename "$p")" >/dev/null
done

ports=(9301 9302 9303)
start_backend() { dotnet "$work/Backend/Backend.dll" "$1" >/dev/null 2>&1 & backend_pid[$1]=$!; echo $! >> "$work/backends.pids"; }
for port in "${ports[@]}"; do start_backend "$port"; done

http_version=${HTTP_VERSION:-1.1}
offset=$([ "$http_version" = 2 ] && echo 1000 || echo 0)
cat > "$work/rampart.json" <<JSON
{ "Rampart": { "Listen": [ "http://127.0.0.1:8301" ], "Admin": { "Listen": "http://127.0.0.1:9391" },
  "Routes": [ { "Id": "all", "Cluster": "web" } ],
  "Clusters": { "web": { "LoadBalancing": "RoundRobin", "HttpVersion": "$http_version",
    "Destinations": { "a": { "Address": "http://127.0.0.1:$((9301 + offset))" }, "b": { "Address": "http://127.0.0.1:$((9302 + offset))" }, "c": { "Address": "http://127.0.0.1:$((9303 + offset))" } },
    "HealthCheck": { "Active": { "Enabled": true, "Path": "/health", "Interval": "00:00:01", "UnhealthyInterval": "00:00:00.500", "Timeout": "00:00:00.500" },
                     "Passive": { "Enabled": true, "ConsecutiveFailures": 3, "BaseEjectionTime": "00:00:05" } },
    "Retry": { "MaxAttempts": 3, "BudgetRatio": 0.5 },
    "AttemptTimeout": "00:00:01", "Timeout": "00:00:10" } } },
  "Logging": { "LogLevel": { "Default": "Warning" } } }
JSON
(cd "$work" && exec dotnet "$work/Rampart.Host/Rampart.Host.dll" --config "$work/rampart.json" >"$work/rampart.log" 2>&1) & pids+=($!)
rampart=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null http://127.0.0.1:8301/ && break; sleep 0.2; done
curl -fs -o /dev/null http://127.0.0.1:8301/ || { echo "rampart does not answer" >&2; cat "$work/rampart.log" >&2; exit 1; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$rampart/status"; }
runtime_figures() {
  curl -fs http://127.0.0.1:9391/metrics | grep -E '^dotnet_(gc_collections_total|gc_pause_time_seconds_total|thread_pool_thread_count|thread_pool_queue_length|gc_last_collection_heap_size_bytes|process_memory_working_set_bytes|monitor_lock_contentions_total)' || true
}

echo "warming up (20 s)…"
wrk -t2 -c"$connections" -d20s http://127.0.0.1:8301/ >/dev/null
rss_start=$(rss_kb)
runtime_figures > "$work/runtime-start.txt"

# The chaos loop: every 2-5 s one backend is killed, restarted, failed (500s), hung or healed, keeping at
# least one of the three able to serve at any moment (with none, errors are the right answer).
chaos() {
  declare -A state=([9301]=ok [9302]=ok [9303]=ok)
  local end=$((SECONDS + seconds)) events=0
  while [ $SECONDS -lt $end ]; do
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.1f", 2 + 3 * r / 32768 }')"
    local port=${ports[$((RANDOM % 3))]} healthy=0 p
    for p in "${ports[@]}"; do [ "${state[$p]}" = ok ] && healthy=$((healthy + 1)); done
    if [ "${state[$port]}" = ok ]; then
      [ "$healthy" -le 1 ] && continue
      case $((RANDOM % 3)) in
        0) kill "${backend_pid[$port]}" 2>/dev/null || true; sed -i "/^${backend_pid[$port]}\$/d" "$work/backends.pids"; state[$port]=dead ;;
        1) curl -fs -X POST "http://127.0.0.1:$port/__mode/error" >/dev/null || true; state[$port]=error ;;
        2) curl -fs -X POST "http://127.0.0.1:$port/__mode/hang" >/dev/null || true; state[$port]=hang ;;
      esac
    elif [ "${state[$port]}" = dead ]; then
      start_backend "$port"; state[$port]=ok
    else
      curl -fs -X POST "http://127.0.0.1:$port/__mode/ok" >/dev/null || true; state[$port]=ok
    fi
    events=$((events + 1))
    echo "$(date -u +%H:%M:%S) $port ${state[$port]}" >> "$work/chaos.log"
  done
}

echo "soaking for $minutes min with $connections connections; backends fail at random every 2-5 s…"
chaos & chaos_pid=$!; pids+=($chaos_pid)
( while sleep 30; do echo "$(date -u +%H:%M:%S) $(rss_kb)" >> "$work/rss.log"; done ) & pids+=($!)
wrk -t2 -c"$connections" -d"${seconds}s" --latency --timeout 15s http://127.0.0.1:8301/ > "$work/wrk.txt"
wait "$chaos_pid" 2>/dev/null || true
rss_end=$(rss_kb)
runtime_figures > "$work/runtime-end.txt"

requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.txt"); non2xx=${non2xx:-0}
socket=$(awk -F'[ ,]+' '/Socket errors/ { print $4 + $6 + $8 + $10 }' "$work/wrk.txt"); socket=${socket:-0}
peak=$(awk '{ print $2 }' "$work/rss.log" 2>/dev/null | sort -n | tail -1); peak=${peak:-$rss_end}
events=$(wc -l < "$work/chaos.log" 2>/dev/null || echo 0)

echo
echo "== soak: $minutes min, $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$connections, HTTP/$http_version to backends =="
grep -E 'Requests/sec|Latency|99%' "$work/wrk.txt" | sed 's/^/  /'
echo "  chaos events: $events ($(awk '{ print $3 }' "$work/chaos.log" | sort | uniq -c | tr '\n' ' '))"
echo "  requests: $requests, client-visible errors: $((non2xx + socket)) (non-2xx $non2xx, socket $socket)"
first=$(awk 'NR == 1 { print $2 }' "$work/rss.log" 2>/dev/null); first=${first:-$rss_start}
awk -v w="$rss_start" -v s="$first" -v e="$rss_end" -v p="$peak" 'BEGIN {
  printf "  Rampart RSS: after warm-up %.1f MiB; 30 s into the soak %.1f MiB; end %.1f MiB (%+.1f %% from 30 s in); peak %.1f MiB\n", w/1024, s/1024, e/1024, (e-s)*100/s, p/1024 }'
# The second half: from the sample nearest the soak's middle to the end.
middle=$(awk -v n="$(wc -l < "$work/rss.log" 2>/dev/null || echo 0)" 'NR == int((n + 1) / 2) { print $2 }' "$work/rss.log" 2>/dev/null)
[ -n "$middle" ] && awk -v m="$middle" -v e="$rss_end" 'BEGIN {
  printf "  Rampart RSS over the second half: %.1f → %.1f MiB (%+.1f %%)\n", m/1024, e/1024, (e-m)*100/m }'
echo "  runtime, from /metrics (start → end):"
awk 'NR == FNR { k = $0; sub(/ [^ ]+$/, "", k); v[k] = $NF; next }
     { k = $0; sub(/ [^ ]+$/, "", k); gsub(/otel_scope_name="System.Runtime",?/, "", k); sub(/\{\}/, "", k)
       printf "    %s %s → %s\n", k, (k in v ? v[k] : "-"), $NF }' \
  <(sed 's/otel_scope_name="System.Runtime",\{0,1\}//; s/{}//' "$work/runtime-start.txt") "$work/runtime-end.txt"
echo "  logs and raw output: $work"
