#!/usr/bin/env bash
# Whole-proxy load run on this machine, loopback only, bounded, stops everything it started (by PID).
# Measures in the same run, rounds interleaved (and rotated: each round starts with the next target): the backend directly, Rampart
# (its defaults: Rampart's own HTTP/1.1 path on its epoll loops; RAMPART_VARIANTS="yarp-path:Rampart__Clusters__web__Forwarder=Yarp,Rampart__Server__Transport=Sockets"
# for YARP's forwarder on Kestrel's sockets, the defaults before stage 11), a bare YARP config proxy,
# and nginx and HAProxy when installed (apt-get install -y wrk nginx haproxy). nginx and HAProxy send what Rampart and YARP
# send by default (the client's Host, X-Forwarded-For/-Proto/-Host); TARGETS may name nginx-bare, nginx's own defaults.
# Usage: bench/load/run.sh [ROUNDS=3] [SECONDS=10] [CONNECTIONS=64]
# Every backend also speaks HTTP/2 with prior knowledge (h2c) on its port + 1000; the targets rampart-h2, yarp-h2 and
# haproxy-h2 forward over it (nginx cannot proxy HTTP/2 to upstreams). H2=0 leaves them out.
# More Rampart (or YARP: YARP_VARIANTS) variants in the same run (each on its own port, same config):
#   RAMPART_VARIANTS="inline:DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1,Rampart__Server__InlineScheduling=true gcserver:DOTNET_gcServer=1"
# RAMPART_BASELINE_REF=<git ref> also builds that commit's rampart and runs it as "base" (a before/after in one run);
#   RAMPART_BASELINE_SETTINGS gives it settings in the variants' format, e.g. "Rampart__Clusters__web__Forwarder=Fast".
# PIN=1 runs every proxy on CPU 1 and wrk and the backends on CPU 0 (taskset): each proxy then has one core of its
# own, so its throughput follows its own cost per request rather than what it leaves to the load generator.
# Besides req/s and latency it reports each proxy's CPU time per request (its process and children, from
# /proc), the figure that least depends on what else this 2-core machine runs at the same time.
# ALLOC=1 also reports the managed bytes each .NET target allocates per request (dotnet-counters over one more
# wrk run per target; dotnet tool install -g dotnet-counters).
set -euo pipefail
rounds=${1:-3}; seconds=${2:-10}; connections=${3:-64}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/rampart-load.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
on_proxy_cpu=(); on_load_cpu=()
if [ "${PIN:-0}" = 1 ]; then on_proxy_cpu=(taskset -c 1); on_load_cpu=(taskset -c 0); fi

echo "building (Release)…"
for p in bench/load/Backend bench/load/YarpProxy bench/load/Probe bench/load/EpollProbe src/Rampart.Host; do
  dotnet build -c Release "$root/$p" -o "$work/$(basename "$p")" >/dev/null
done

if [ -n "${RAMPART_BASELINE_REF:-}" ]; then
  git -C "$root" worktree add --detach "$work/baseline-src" "$RAMPART_BASELINE_REF" >/dev/null 2>&1
  dotnet build -c Release "$work/baseline-src/src/Rampart.Host" -o "$work/Rampart.Host.base" >/dev/null
  git -C "$root" worktree remove --force "$work/baseline-src" >/dev/null 2>&1 || true
fi

backend_ports=(9201 9202 9203)
for port in "${backend_ports[@]}"; do
  "${on_load_cpu[@]}" dotnet "$work/Backend/Backend.dll" "$port" & pids+=($!)
done

declare -A url pid
url[direct]=http://127.0.0.1:9201/
pid[direct]=${pids[0]}

# rampart_config FILE FIRST_BACKEND_PORT HTTP_VERSION
rampart_config() {
  cat > "$1" <<JSON
{ "Rampart": { "Listen": [ "http://127.0.0.1:8101" ], "Admin": { "Listen": "" },
  "Routes": [ { "Id": "all", "Cluster": "web" } ],
  "Clusters": { "web": { "LoadBalancing": "RoundRobin", "HttpVersion": "$3",
    "Destinations": { "a": { "Address": "http://127.0.0.1:$2" }, "b": { "Address": "http://127.0.0.1:$(($2 + 1))" }, "c": { "Address": "http://127.0.0.1:$(($2 + 2))" } },
    "HealthCheck": { "Active": { "Enabled": true, "Path": "/health", "Interval": "00:00:01", "Timeout": "00:00:00.500" },
                     "Passive": { "Enabled": true } } } } },
  "Logging": { "LogLevel": { "Default": "Warning" } } }
JSON
}
rampart_config "$work/rampart.json" 9201 1.1
(cd "$work" && exec "${on_proxy_cpu[@]}" dotnet "$work/Rampart.Host/Rampart.Host.dll" --config "$work/rampart.json" >"$work/rampart.log" 2>&1) & pids+=($!)
url[rampart]=http://127.0.0.1:8101/
pid[rampart]=$!

variants=()
port=8111
if [ -n "${RAMPART_BASELINE_REF:-}" ]; then
  base_settings=${RAMPART_BASELINE_SETTINGS:-}
  (cd "$work" && exec "${on_proxy_cpu[@]}" env ${base_settings//,/ } dotnet "$work/Rampart.Host.base/Rampart.Host.dll" --config "$work/rampart.json" \
     "--Rampart:Listen:0=http://127.0.0.1:$port" >"$work/rampart-base.log" 2>&1) & pids+=($!)
  url[base]=http://127.0.0.1:$port/
  pid[base]=$!
  variants+=(base)
  port=$((port + 1))
fi
for variant in ${RAMPART_VARIANTS:-}; do
  name=${variant%%:*}; settings=${variant#*:}
  (cd "$work" && exec "${on_proxy_cpu[@]}" env ${settings//,/ } dotnet "$work/Rampart.Host/Rampart.Host.dll" --config "$work/rampart.json" \
     "--Rampart:Listen:0=http://127.0.0.1:$port" >"$work/rampart-$name.log" 2>&1) & pids+=($!)
  url[$name]=http://127.0.0.1:$port/
  pid[$name]=$!
  variants+=("$name")
  port=$((port + 1))
done

"${on_proxy_cpu[@]}" dotnet "$work/YarpProxy/YarpProxy.dll" 8102 "${backend_ports[@]}" & pids+=($!)
url[yarp]=http://127.0.0.1:8102/
pid[yarp]=$!

# YARP variants, same format as RAMPART_VARIANTS (for instance the runtime settings Rampart ships with).
for variant in ${YARP_VARIANTS:-}; do
  name=${variant%%:*}; settings=${variant#*:}
  "${on_proxy_cpu[@]}" env ${settings//,/ } dotnet "$work/YarpProxy/YarpProxy.dll" "$port" "${backend_ports[@]}" & pids+=($!)
  url[$name]=http://127.0.0.1:$port/
  pid[$name]=$!
  variants+=("$name")
  port=$((port + 1))
done

# The floor of the fast path's issue (bench/load/Probe: no HttpContext, pooled sockets, none of Rampart's decisions),
# measured only when named in TARGETS: probe (default scheduling), probeinl (inline scheduling and completions), epollprobe.
"${on_proxy_cpu[@]}" dotnet "$work/Probe/Probe.dll" 8121 "${backend_ports[@]}" & pids+=($!)
url[probe]=http://127.0.0.1:8121/
pid[probe]=$!
"${on_proxy_cpu[@]}" env PROBE_INLINE=1 DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet "$work/Probe/Probe.dll" 8122 "${backend_ports[@]}" & pids+=($!)
url[probeinl]=http://127.0.0.1:8122/
pid[probeinl]=$!
# The same on its own epoll loops, nginx's discipline of reads (bench/load/EpollProbe): how much of the floor is .NET's sockets.
"${on_proxy_cpu[@]}" dotnet "$work/EpollProbe/EpollProbe.dll" 8123 "${backend_ports[@]}" & pids+=($!)
url[epollprobe]=http://127.0.0.1:8123/
pid[epollprobe]=$!

if command -v nginx >/dev/null; then
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream web { server 127.0.0.1:9201; server 127.0.0.1:9202; server 127.0.0.1:9203; keepalive 128; }
  # nginx: what Rampart (and YARP) send by default, so that every proxy asks the backends the same: the client's Host
  # and the X-Forwarded headers. nginx-bare: nginx's own defaults (Host: the upstream's name, no X-Forwarded headers),
  # the configuration of the measurements before stage 9 (bench/README.md).
  server {
    listen 127.0.0.1:8103;
    location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_next_upstream error timeout http_500 http_502 http_503 http_504;
      proxy_set_header Host \$http_host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme; proxy_set_header X-Forwarded-Host \$http_host; }
  }
  server {
    listen 127.0.0.1:8108;
    location / { proxy_pass http://web; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_next_upstream error timeout http_500 http_502 http_503 http_504; }
  }
}
CONF
  "${on_proxy_cpu[@]}" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' & pids+=($!)
  url[nginx]=http://127.0.0.1:8103/
  pid[nginx]=$!
  url[nginx-bare]=http://127.0.0.1:8108/ # the same processes: measured only when named in TARGETS
  pid[nginx-bare]=$!
fi

if command -v haproxy >/dev/null; then
  cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 2
  maxconn 8192
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  retries 2
  option redispatch
frontend fe
  bind 127.0.0.1:8104
  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  default_backend be
backend be
  balance roundrobin
  http-reuse always
  option httpchk GET /health
  server a 127.0.0.1:9201 check inter 1s
  server b 127.0.0.1:9202 check inter 1s
  server c 127.0.0.1:9203 check inter 1s
CONF
  "${on_proxy_cpu[@]}" haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 & pids+=($!)
  url[haproxy]=http://127.0.0.1:8104/
  pid[haproxy]=$!
fi

h2_targets=()
if [ "${H2:-1}" != 0 ]; then
  h2_ports=(10201 10202 10203)
  rampart_config "$work/rampart-h2.json" 10201 2
  (cd "$work" && exec "${on_proxy_cpu[@]}" dotnet "$work/Rampart.Host/Rampart.Host.dll" --config "$work/rampart-h2.json" \
     "--Rampart:Listen:0=http://127.0.0.1:8105" >"$work/rampart-h2.log" 2>&1) & pids+=($!)
  url[rampart-h2]=http://127.0.0.1:8105/
  pid[rampart-h2]=$!
  "${on_proxy_cpu[@]}" dotnet "$work/YarpProxy/YarpProxy.dll" 8106 --h2 "${h2_ports[@]}" & pids+=($!)
  url[yarp-h2]=http://127.0.0.1:8106/
  pid[yarp-h2]=$!
  h2_targets=(rampart-h2 yarp-h2)
  if command -v haproxy >/dev/null; then
    sed -e 's/8104/8107/' -e 's/ 127.0.0.1:92\(0[0-9]\) check inter 1s/ 127.0.0.1:102\1 check inter 1s proto h2 check-proto h2/' \
      "$work/haproxy.cfg" > "$work/haproxy-h2.cfg"
    "${on_proxy_cpu[@]}" haproxy -f "$work/haproxy-h2.cfg" -db >"$work/haproxy-h2.log" 2>&1 & pids+=($!)
    url[haproxy-h2]=http://127.0.0.1:8107/
    pid[haproxy-h2]=$!
    h2_targets+=(haproxy-h2)
  fi
fi

targets=(direct rampart "${variants[@]}" yarp)
[ -n "${url[nginx]:-}" ] && targets+=(nginx)
[ -n "${url[haproxy]:-}" ] && targets+=(haproxy)
targets+=("${h2_targets[@]}")
if [ -n "${TARGETS:-}" ]; then targets=($TARGETS); fi # e.g. TARGETS="rampart spin70 yarp" for a focused A/B

echo "waiting for every listener…"
for t in "${targets[@]}"; do
  for _ in $(seq 1 100); do curl -fs -o /dev/null "${url[$t]}" && break; sleep 0.2; done
  curl -fs -o /dev/null "${url[$t]}" || { echo "$t does not answer at ${url[$t]}" >&2; exit 1; }
done

echo "warming up…"
for t in "${targets[@]}"; do "${on_load_cpu[@]}" wrk -t2 -c"$connections" -d3s "${url[$t]}" >/dev/null; done

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v } else { sub(/s$/,"",v); print v*1000 } }'; }
results="$work/results.tsv"
# CPU time (clock ticks) of a process and its children (nginx's workers).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$rounds"); do
  # Each round starts one target further along, so that no target always runs in the same position, and every
  # other round runs them in reverse, so that no target always runs right after the same one (a rotation alone keeps
  # their cycle: each target would always follow the same one, and inherit its wind-down: closing 64 connections,
  # a .NET target's collection after its load). Between two runs everything settles for SETTLE seconds (default 2).
  order=()
  for i in "${!targets[@]}"; do
    j=$(( round % 2 == 1 ? i : ${#targets[@]} - 1 - i ))
    order+=("${targets[$(( (j + round - 1) % ${#targets[@]} ))]}")
  done
  for t in "${order[@]}"; do
    sleep "${SETTLE:-2}"
    before=$(cpu_ticks "${pid[$t]}")
    out=$("${on_load_cpu[@]}" wrk -t2 -c"$connections" -d"${seconds}s" --latency "${url[$t]}")
    after=$(cpu_ticks "${pid[$t]}")
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    total=$(echo "$out" | awk '/requests in/ { print $1 }')
    cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    p50=$(to_ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")
    p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }' | tr '\n' ' ')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rps" "$p50" "$p99" "$cpu_us" "$errors" >> "$results"
    printf 'round %d %-10s %10.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %6.1f us/req %s\n' "$round" "$t" "$rps" "$p50" "$p99" "$cpu_us" "$errors"
  done
done

echo
echo "medians over $rounds rounds ($(nproc) cores$([ "${PIN:-0}" = 1 ] && echo ", proxies pinned to CPU 1, wrk and backends to CPU 0"), wrk -t2 -c$connections -d${seconds}s, $(date -u +%Y-%m-%d)):"
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A med_rps med_p50 med_p99 med_cpu
for t in "${targets[@]}"; do
  med_rps[$t]=$(awk -F'\t' -v t="$t" '$1 == t { print $2 }' "$results" | median)
  med_p50[$t]=$(awk -F'\t' -v t="$t" '$1 == t { print $3 }' "$results" | median)
  med_p99[$t]=$(awk -F'\t' -v t="$t" '$1 == t { print $4 }' "$results" | median)
  med_cpu[$t]=$(awk -F'\t' -v t="$t" '$1 == t { print $5 }' "$results" | median)
done
printf '| %-10s | %10s | %8s | %8s | %10s | %8s | %8s | %12s |\n' target "req/s" "p50 ms" "p99 ms" "CPU µs/req" "× YARP" "× nginx" "CPU × YARP"
printf '| %-10s | %10s | %8s | %8s | %10s | %8s | %8s | %12s |\n' ---------- ---------- -------- -------- ---------- -------- -------- ------------
# a ÷ b of two targets' medians (of req/s, or of CPU per request with cpu), "-" when either was not measured.
ratio() {
  local which=med_rps; [ "${3:-}" = cpu ] && which=med_cpu
  local -n m=$which
  [ -n "${m[$1]:-}" ] && [ -n "${m[$2]:-}" ] && awk -v a="${m[$1]}" -v b="${m[$2]}" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}
for t in "${targets[@]}"; do
  printf '| %-10s | %10.0f | %8.2f | %8.2f | %10s | %8s | %8s | %12s |\n' "$t" "${med_rps[$t]}" "${med_p50[$t]}" "${med_p99[$t]}" "${med_cpu[$t]}" \
    "$(ratio "$t" yarp)" "$(ratio "$t" nginx)" "$(ratio "$t" yarp cpu)"
done
echo
echo "like for like: rampart ÷ yarp $(ratio rampart yarp) (HTTP/1.1 to backends), rampart-h2 ÷ yarp-h2 $(ratio rampart-h2 yarp-h2) (HTTP/2);" \
  "rampart-h2 ÷ nginx $(ratio rampart-h2 nginx), rampart-h2 ÷ haproxy-h2 $(ratio rampart-h2 haproxy-h2)"

if [ "${ALLOC:-0}" = 1 ]; then
  counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
  [ -x "$counters" ] || { echo "ALLOC=1: dotnet-counters is missing (dotnet tool install -g dotnet-counters)" >&2; exit 1; }
  echo
  echo "managed allocations per request (dotnet-counters, $seconds s of wrk -t2 -c$connections per target):"
  for t in "${targets[@]}"; do
    [ -r "/proc/${pid[$t]}/cmdline" ] && tr '\0' ' ' < "/proc/${pid[$t]}/cmdline" | grep -q dotnet || continue
    csv="$work/alloc-$t.csv"
    "$counters" collect -p "${pid[$t]}" --counters System.Runtime --refresh-interval 1 --format csv -o "$csv" --duration "$(printf '%02d:%02d:%02d' $((seconds / 3600)) $((seconds % 3600 / 60)) $((seconds % 60)))" >/dev/null 2>&1 &
    collector=$!
    sleep 1
    out=$("${on_load_cpu[@]}" wrk -t2 -c"$connections" -d"${seconds}s" "${url[$t]}")
    wait "$collector" || true
    rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
    # The per-second allocation rates of the seconds wrk ran (the first and last of the window dropped), over its req/s.
    awk -F, -v rps="$rps" -v t="$t" '/total_allocated/ { r[++n] = $NF } END { s = 0; k = 0; for (i = 2; i < n; i++) { s += r[i]; k++ }
      if (k > 0 && rps > 0) printf "  %-10s %10.0f B/s at %8.0f req/s: %8.1f B per request\n", t, s / k, rps, s / k / rps; else printf "  %-10s not measured\n", t }' "$csv"
  done
fi
