#!/usr/bin/env bash
# Network benchmark: berthd against the anchor dockerd (../shared/anchors, bridge mode), both
# through the same stock docker CLI, in one run. Prints each figure, the berthd/dockerd ratio
# and the budget:
#
#   1  `docker run --rm busybox true` on the default bridge, median (hyperfine), and on
#      berthd the network setup cost: NET_PAIRS runs on the bridge and with `--network none`,
#      alternated, and the median of each pair's difference (budget < 5 ms)
#   2  throughput host → container through a port published on 127.0.0.1 (the userland
#      proxy path): a FILE_MB file served by busybox httpd, fetched with curl; ROUNDS
#      rounds that fetch it once from each daemon in turn (who goes first alternates):
#      median, best, and the median of the rounds' berthd/dockerd ratios (budget ≥ 1)
#   3  connection rate through the same port: new connection + GET of a small file,
#      sequential, for RATE_SECONDS, in the same rounds
#
# Both daemons are up together, with their servers, so that each round meets the same load
# on this shared machine. All traffic is to 127.0.0.1. Everything is removed at the end:
# containers, the berthd data root, its bridge and nftables table, the daemons this script
# started (by PID; the anchor dockerd with its stop script and cleanup-net.sh).
#
# Environment: RUNS (20), WARMUP (3), NET_PAIRS (100), FILE_MB (512), ROUNDS (5),
# RATE_SECONDS (3), DAEMONS ("berthd dockerd"), BERTH_BIN_DIR (.build/release), DOCKER_CLI
# (/usr/local/bin/docker), BERTH_TEST_IMAGE_DIR (build/test-image, made with
# scripts/make-test-image); the anchors' ANCHOR_DATA, ANCHOR_RUN and DOCKERD_SOCK place
# another anchor dockerd than the shared one. Needs root.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
anchors=$(cd "$repo/.." && pwd)/shared/anchors
runs=${RUNS:-20}
warmup=${WARMUP:-3}
net_pairs=${NET_PAIRS:-100}
file_mb=${FILE_MB:-512}
rounds=${ROUNDS:-5}
rate_seconds=${RATE_SECONDS:-3}
daemons=${DAEMONS:-"berthd dockerd"}
bin_dir=${BERTH_BIN_DIR:-$repo/.build/release}
docker=${DOCKER_CLI:-/usr/local/bin/docker}
image_dir=${BERTH_TEST_IMAGE_DIR:-$repo/build/test-image}
bridge=""  # berthd names its bridge after the data root; read back once it is up
bip=10.249.$(( $$ % 200 )).1/24

[ "$(id -u)" -eq 0 ] || { echo "bench/network.sh: needs root" >&2; exit 1; }
for tool in hyperfine curl python3; do command -v "$tool" >/dev/null || { echo "bench/network.sh: $tool missing" >&2; exit 1; }; done
[ -x "$bin_dir/berthd" ] || { echo "bench/network.sh: no berthd in $bin_dir (swift build -c release)" >&2; exit 1; }
[ -f "$image_dir/busybox.tar" ] || python3 "$repo/scripts/make-test-image" "$image_dir" >/dev/null

work=$(mktemp -d /tmp/berth-bench-network.XXXXXX)
berthd_pid=""
started_dockerd=no
declare -A host=() result=()
log() { printf '[%4ds] %s\n' "$SECONDS" "$*" >&2; }

cleanup() {
    for name in $daemons; do
        [ -n "${host[$name]:-}" ] || continue
        ids=$("$docker" -H "${host[$name]}" ps -aq --filter label=berth.bench.network 2>/dev/null)
        [ -n "$ids" ] && "$docker" -H "${host[$name]}" rm -f $ids >/dev/null 2>&1
    done
    if [ -n "$berthd_pid" ]; then
        kill -TERM "$berthd_pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.1; done
        if [ -n "$bridge" ]; then
            ip link del "$bridge" 2>/dev/null
            nft delete table ip "berth-$bridge" 2>/dev/null
        fi
    fi
    if [ "$started_dockerd" = yes ]; then
        "$anchors/stop-dockerd.sh" >/dev/null 2>&1
        "$anchors/cleanup-net.sh" >/dev/null 2>&1
    fi
    umount "$work"/data/overlay/*/merged 2>/dev/null
    rm -rf "$work"
    # The containers' cgroup parent, when empty (another run may still use it).
    for c in /sys/fs/cgroup/*/berth-bench /sys/fs/cgroup/berth-bench; do [ -d "$c" ] && rmdir "$c" 2>/dev/null; done
}
trap cleanup EXIT

start_berthd() {
    printf '{"cgroup-parent": "/berth-bench", "bip": "%s"}\n' "$bip" >"$work/daemon.json"
    "$bin_dir/berthd" -H "unix://$work/berth.sock" --data-root "$work/data" --exec-root "$work/exec" \
        --pidfile "$work/berthd.pid" --config-file "$work/daemon.json" 2>"$work/berthd.log" &
    berthd_pid=$!
    for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.1; done
    host[berthd]=unix://$work/berth.sock
    bridge=$("$docker" -H "${host[berthd]}" network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' bridge 2>/dev/null)
}

start_dockerd() {
    . "$anchors/env.sh"
    if ! "$docker" -H "unix://$DOCKERD_SOCK" version >/dev/null 2>&1; then
        "$anchors/start-dockerd.sh" bridge >"$work/dockerd-start.log" 2>&1 || { log "anchor dockerd did not start"; return 1; }
        started_dockerd=yes
    fi
    host[dockerd]=unix://$DOCKERD_SOCK
}

median_ms() { python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1000))" "$1"; }
declare -A port=()

# Run latency, then a web server on 127.0.0.1 for the later rounds.
prepare() {
    local name=$1 d="${host[$1]}"
    port[$name]=$((20000 + RANDOM % 9000))
    "$docker" -H "$d" load -q -i "$image_dir/busybox.tar" >/dev/null || { log "$name: load failed"; return 1; }
    log "$name: docker run --rm busybox true"
    hyperfine -N -r "$runs" -w "$warmup" --export-json "$work/run-$name.json" \
        "$docker -H $d run --rm busybox true" >/dev/null 2>&1 && result[run.$name]=$(median_ms "$work/run-$name.json")
    if [ "$name" = berthd ]; then
        log "$name: network setup cost, $net_pairs pairs of runs"
        read -r bridge_ms none_ms cost_ms < <(python3 - "$docker" "$d" "$net_pairs" <<'PY'
import statistics, subprocess, sys, time
docker, host, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def run(extra):
    start = time.perf_counter()
    subprocess.run([docker, "-H", host, "run", "--rm"] + extra + ["busybox", "true"], check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000
bridge, none = [], []
for i in range(pairs):
    # Alternated, and in both orders, so that drift in the machine's load cancels out.
    first, second = ([], ["--network", "none"]) if i % 2 else (["--network", "none"], [])
    a, b = run(first), run(second)
    bridge.append(a if not first else b)
    none.append(b if not first else a)
print(f"{statistics.median(bridge):.1f} {statistics.median(none):.1f} {statistics.median(x - y for x, y in zip(bridge, none)):.1f}")
PY
)
        result[bridge.berthd]=$bridge_ms
        result[none.berthd]=$none_ms
        result[cost.berthd]=$cost_ms
    fi
    log "$name: httpd with a ${file_mb} MB file on 127.0.0.1:${port[$name]}"
    "$docker" -H "$d" run -d --label berth.bench.network=1 --name "bench-net-$$" -p "127.0.0.1:${port[$name]}:80" busybox sh -c \
        "mkdir -p /www && echo ok > /www/small && dd if=/dev/zero of=/www/big bs=1M count=$file_mb 2>/dev/null && exec httpd -f -p 80 -h /www" >/dev/null
    for _ in $(seq 200); do curl -sf -m 1 "http://127.0.0.1:${port[$name]}/small" >/dev/null && break; sleep 0.1; done
}

ready=()
for name in $daemons; do
    case $name in
        berthd) start_berthd ;;
        dockerd) start_dockerd || continue ;;
    esac
    prepare "$name" && ready+=("$name")
done

# Throughput and connection rate, one daemon after the other within each round.
declare -A speeds=() rates=()
for round in $(seq "$rounds"); do
    log "round $round of $rounds: throughput and connection rate"
    order=("${ready[@]}")
    # Who goes first alternates too.
    [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${ready[@]}" | tac))
    for name in "${order[@]}"; do
        speed=$(curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:${port[$name]}/big")
        speeds[$name]+="$speed "
    done
    for name in "${order[@]}"; do
        rate=$(python3 - "${port[$name]}" "$rate_seconds" <<'PY'
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
done, end = 0, time.monotonic() + seconds
while time.monotonic() < end:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /small HTTP/1.0\r\n\r\n")
    while s.recv(4096): pass
    s.close(); done += 1
print(f"{done / seconds:.0f}")
PY
)
        rates[$name]+="$rate "
    done
done
for name in "${ready[@]}"; do
    if [ -z "${speeds[$name]:-}" ]; then "$docker" -H "${host[$name]}" rm -f "bench-net-$$" >/dev/null; continue; fi  # ROUNDS=0
    result[mbps.$name]=$(python3 -c "import statistics, sys; v = [float(x) / 1048576 for x in sys.argv[1:]]; print(f'{statistics.median(v):.0f}')" ${speeds[$name]})
    result[best.$name]=$(python3 -c "import sys; print(f'{max(float(x) for x in sys.argv[1:]) / 1048576:.0f}')" ${speeds[$name]})
    result[rate.$name]=$(python3 -c "import statistics, sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.0f}')" ${rates[$name]})
    log "$name: MiB/s $(python3 -c "import sys; print(' '.join(f'{float(x) / 1048576:.0f}' for x in sys.argv[1:]))" ${speeds[$name]}); connections/s ${rates[$name]}"
    "$docker" -H "${host[$name]}" rm -f "bench-net-$$" >/dev/null
done

# The median of each round's berthd/dockerd ratio: both ran within seconds of each other.
paired() { python3 -c "import statistics, sys; a, b = sys.argv[1].split(), sys.argv[2].split(); print(f'{statistics.median(float(x) / float(y) for x, y in zip(a, b)):.2f}' if a and b else 'n/a')" "${1:-}" "${2:-}"; }
ratio() { python3 -c "import sys; a,b=sys.argv[1],sys.argv[2]; print(f'{float(a)/float(b):.2f}' if a and b else 'n/a')" "${1:-}" "${2:-}"; }
printf '\n%-48s %10s %10s %8s  %s\n' "figure" "berthd" "dockerd" "ratio" "budget"
printf '%-48s %10s %10s %8s  %s\n' "docker run --rm busybox true, median ms" "${result[run.berthd]:-n/a}" "${result[run.dockerd]:-n/a}" "$(ratio "${result[run.berthd]:-}" "${result[run.dockerd]:-}")" "≤ 0.125"
printf '%-48s %10s %10s %8s  %s\n' "  berthd on the bridge / --network none, ms" "${result[bridge.berthd]:-n/a} / ${result[none.berthd]:-n/a}" "" "" "(medians of the pairs)"
printf '%-48s %10s %10s %8s  %s\n' "  network setup cost (bridge − none), ms" "${result[cost.berthd]:-n/a}" "" "" "< 5"
printf '%-48s %10s %10s %8s  %s\n' "throughput 127.0.0.1 → container, MiB/s, median" "${result[mbps.berthd]:-n/a}" "${result[mbps.dockerd]:-n/a}" "$(ratio "${result[mbps.berthd]:-}" "${result[mbps.dockerd]:-}")" "≥ 1"
printf '%-48s %10s %10s %8s  %s\n' "  median of the rounds' ratios" "" "" "$(paired "${speeds[berthd]:-}" "${speeds[dockerd]:-}")" ""
printf '%-48s %10s %10s %8s  %s\n' "  best round, MiB/s" "${result[best.berthd]:-n/a}" "${result[best.dockerd]:-n/a}" "$(ratio "${result[best.berthd]:-}" "${result[best.dockerd]:-}")" ""
printf '%-48s %10s %10s %8s  %s\n' "connections/s (new connection + GET), median" "${result[rate.berthd]:-n/a}" "${result[rate.dockerd]:-n/a}" "$(ratio "${result[rate.berthd]:-}" "${result[rate.dockerd]:-}")" "≥ 1"
printf '%-48s %10s %10s %8s  %s\n' "  median of the rounds' ratios" "" "" "$(paired "${rates[berthd]:-}" "${rates[dockerd]:-}")" ""
