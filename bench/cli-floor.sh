#!/usr/bin/env bash
# What the stock docker CLI costs by itself: the same commands bench/containers.sh times, run
# against a stand-in daemon that does no work at all (a small Python server on a unix socket
# that answers each request the CLI makes with a canned reply at once). No engine can answer
# faster than this, so the figures are the floor under any daemon's time; compare them with
# the budgets of DESIGN.md (ratios of dockerd's time).
#
#   1  `docker run -d busybox sleep 1000` × CONTAINERS (50), all at once, wall time (ROUNDS)
#   2  `docker exec c true`, median (hyperfine)
#   3  `docker run --rm busybox true`, median (hyperfine)
#
# Environment: CONTAINERS (50), ROUNDS (5), RUNS (40), DOCKER_CLI (/usr/local/bin/docker).
# Nothing runs as root and nothing is made but a temporary directory, removed at the end.
set -uo pipefail

docker=${DOCKER_CLI:-/usr/local/bin/docker}
count=${CONTAINERS:-50}
rounds=${ROUNDS:-5}
runs=${RUNS:-40}
for tool in python3 hyperfine bc; do
    command -v "$tool" >/dev/null || { echo "bench/cli-floor.sh: $tool missing; run scripts/install-deps" >&2; exit 1; }
done
work=$(mktemp -d /tmp/berth-cli-floor.XXXXXX)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

sock=$work/s.sock
python3 "$(dirname "${BASH_SOURCE[0]}")/stand-in-daemon.py" "$sock" &
server_pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
dk="$docker -H unix://$sock"

echo "docker CLI against a daemon that does nothing ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for round in $(seq "$rounds"); do
    start=$(date +%s.%N)
    pids=()
    for _ in $(seq "$count"); do $dk run -d busybox sleep 1000 >/dev/null 2>>"$work/errors" & pids+=($!); done
    wait "${pids[@]}"
    printf '  %d concurrent run -d, round %d: %.3f s\n' "$count" "$round" "$(echo "$(date +%s.%N) - $start" | bc)"
done
median() { hyperfine -N -w 3 -r "$runs" --export-json "$work/h.json" "$1" >/dev/null 2>&1 &&
    python3 -c 'import json,sys; print("%.1f ms" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$work/h.json"; }
echo "  exec c true, median: $(median "$dk exec c true")"
echo "  run --rm busybox true, median: $(median "$dk run --rm busybox true")"
if [ -s "$work/errors" ]; then
    echo "errors from the CLI:" >&2
    sort "$work/errors" | uniq -c | head -5 >&2
fi
