#!/usr/bin/env bash
# Container life-cycle benchmark: berthd against Docker's dockerd (the anchor dockerd from
# ../shared/anchors), both driven through the same stock docker CLI in one run. Prints a
# table of each figure, berthd/dockerd and the budget from DESIGN.md:
#
#   1  `docker run --rm busybox true`, median (hyperfine)
#   2  `docker exec c true` on a running `sleep` container, median (hyperfine)
#   3  CONTAINERS (50) concurrent `docker run -d busybox sleep 1000` until all are running;
#      and once more against a stand-in server that answers the CLI's requests at once: the
#      CLIs' own cost, the floor under both daemons' figures (printed with each one's time over it)
#   4  `docker rm -f` of those, one command with all the IDs
#   5  memory: the idle daemon (berthd; dockerd + containerd) and per running container (the
#      shims: processes named berth-shim / containerd-shim-runc-v2), RSS and PSS in MiB; and the
#      daemon again at the end, idle for 7 s after all the work
#   6  GET /containers/json req/s with those containers running (one keep-alive connection)
#   7  a container printing LOG_LINES (2,000,000) lines: `docker run` to exit (output to
#      /dev/null), then `docker logs` read-back
#
# A step that fails on a daemon is reported as n/a and the run goes on. Everything the run
# makes is removed at the end: containers, the temporary berthd data root, the daemons it
# started (by PID; the anchor dockerd with its stop script, then its network cleanup).
#
# Environment: BENCH_QUICK=1 (fewer iterations: RUNS=5, WARMUP=1, 1 s request loop), RUNS (20),
# WARMUP (3), CONTAINERS (50), LOG_LINES (2000000), RPS_SECONDS (2), DAEMONS ("berthd dockerd"),
# DOCKERD_NET (bridge | none: the anchor dockerd's network mode when this script starts it;
# DESIGN's budget figures are with the bridge), BERTH_BIN_DIR (default .build/release; built when
# berthd is missing there unless BERTH_BUILD=0), DOCKER_CLI (/usr/local/bin/docker),
# BERTH_TEST_IMAGE_DIR (default build/test-image, made with scripts/make-test-image),
# STEP_TIMEOUT (300 s for one docker command). Needs root.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
anchors=$(cd "$repo/.." && pwd)/shared/anchors
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then q_runs=5 q_warmup=1 q_rps=1; else q_runs=20 q_warmup=3 q_rps=2; fi
runs=${RUNS:-$q_runs}
warmup=${WARMUP:-$q_warmup}
rps_seconds=${RPS_SECONDS:-$q_rps}
count=${CONTAINERS:-50}
log_lines=${LOG_LINES:-2000000}
daemons=${DAEMONS:-"berthd dockerd"}
dockerd_net=${DOCKERD_NET:-bridge}
bin_dir=${BERTH_BIN_DIR:-$repo/.build/release}
docker=${DOCKER_CLI:-/usr/local/bin/docker}
image_dir=${BERTH_TEST_IMAGE_DIR:-$repo/build/test-image}
step_timeout=${STEP_TIMEOUT:-300}
label=berth.bench.containers=$$

[ "$(id -u)" -eq 0 ] || { echo "bench/containers.sh: needs root" >&2; exit 1; }
for tool in hyperfine jq python3 timeout awk; do
    command -v "$tool" >/dev/null || { echo "bench/containers.sh: $tool missing; run scripts/install-deps" >&2; exit 1; }
done
[ -x "$docker" ] || { echo "bench/containers.sh: docker CLI not found at $docker (set DOCKER_CLI)" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-bench-containers.XXXXXX)
berthd_pid=""
floor_pid=""
berthd_sock=$work/berth.sock
started_dockerd=no
dockerd_host=""
declare -A result=()   # result[metric.daemon]=value
notes=()

log() { printf '[%4ds] %s\n' "$SECONDS" "$*" >&2; }
# The telling line of a failed command's output (docker prints its usage hint last).
why() { { grep -h -m1 -iE 'error|fail|denied|no such|not ' "$@" || tail -q -n1 "$@"; } 2>/dev/null | head -1; }
note() { notes+=("$*"); log "note: $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# The docker CLI against one daemon, bounded in time.
dk() { local host=$1; shift; timeout "$step_timeout" "$docker" -H "$host" "$@"; }

# Sums of VmRSS and Pss (KiB) over the given PIDs: "rss pss".
mem_kib() {
    local pid rss pss total_rss=0 total_pss=0
    for pid in "$@"; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        pss=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null)
        total_rss=$((total_rss + ${rss:-0}))
        total_pss=$((total_pss + ${pss:-0}))
    done
    echo "$total_rss $total_pss"
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Processes whose comm is $1 and whose command line contains $2 (any when $2 is empty).
procs_named() {
    local want=$1 match=$2 dir comm cmdline
    for dir in /proc/[0-9]*; do
        comm=$(cat "$dir/comm" 2>/dev/null) || continue
        [ "$comm" = "$want" ] || continue
        if [ -n "$match" ]; then
            cmdline=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
            [[ "$cmdline" == *"$match"* ]] || continue
        fi
        echo "${dir#/proc/}"
    done
}

# The per-container helper processes of a daemon.
shim_pids() {
    local name=$1 pids
    if [ "$name" = dockerd ]; then
        # comm is cut to 15 characters: containerd-shim-runc-v2 -> containerd-shim
        procs_named containerd-shim "$CONTAINERD_SOCK"
    else
        # A shim's command line names its bundle under this run's exec root; shims of other
        # berthd instances on the host are not counted.
        pids=$(procs_named berth-shim "$work/")
        [ -z "$pids" ] && [ -n "$(procs_named berth-shim "")" ] &&
            note "berthd: berth-shim processes exist but none names $work in its command line; not counted"
        echo "$pids"
    fi
}

daemon_pids() {
    if [ "$1" = dockerd ]; then
        local file
        for file in "$ANCHOR_RUN/dockerd.pid" "$ANCHOR_RUN/containerd.pid"; do
            [ -s "$file" ] && echo "$(cat "$file")"
        done
    else
        echo "$berthd_pid"
    fi
}

# Median of a hyperfine run in seconds, or nothing when a run failed.
hyperfine_median() {
    local out=$1; shift
    if timeout $((step_timeout * 4)) hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$out" "$@" >"$out.log" 2>&1; then
        jq -r '.results[0].median' "$out"
    else
        log "  hyperfine failed: $(tail -3 "$out.log" | tr '\n' ' ')"
    fi
}

# Requests per second of GET /containers/json over one keep-alive connection for $2 s;
# prints "rate containers_in_answer", fails on any non-200 answer.
list_rate() {
    python3 - "$1" "$2" <<'PY'
import http.client, json, socket, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
class UnixConnection(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("localhost", timeout=30)
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
conn = UnixConnection()
def one():
    try:
        conn.request("GET", "/containers/json")
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
        conn.close()  # the daemon closed the connection: count the reconnect, as a client must
        conn.request("GET", "/containers/json")
        response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"GET /containers/json: {response.status} {body[:200]!r}")
    return body
end = time.perf_counter() + min(0.5, seconds / 4)   # warm-up
while time.perf_counter() < end:
    one()
n, start = 0, time.perf_counter()
while True:
    body = one()
    n += 1
    spent = time.perf_counter() - start
    if spent >= seconds:
        break
print(f"{n / spent:.1f} {len(json.loads(body))}")
PY
}

# COUNT concurrent `docker run -d` against $1, their outputs in $2/run-d.N; returns once
# every CLI has.
burst_run_d() {
    local host=$1 out=$2 index jobs=()
    for index in $(seq "$count"); do
        dk "$host" run -d --label "$label" busybox sleep 1000 >"$out/run-d.$index" 2>&1 &
        jobs+=($!)
    done
    wait "${jobs[@]}"
}

# COUNT concurrent `run -d` against the stand-in server: seconds until every CLI returned.
measure_cli_floor() {
    local sock=$work/stand-in.sock out=$work/floor start finish
    mkdir -p "$out"
    python3 "$repo/bench/stand-in-daemon.py" "$sock" 2>"$out/server.log" &
    floor_pid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    log ""
    log "== the CLIs' own cost: $count concurrent run -d against a server that answers at once"
    start=$(now)
    burst_run_d "unix://$sock" "$out"
    finish=$(now)
    if [ "$(cat "$out"/run-d.* | grep -cE '^[0-9a-f]{64}$')" -eq "$count" ]; then
        result[run50_floor]=$(elapsed "$start" "$finish")
    else
        log "  failed: $(why "$out"/run-d.*)"
    fi
    kill "$floor_pid" 2>/dev/null
    wait "$floor_pid" 2>/dev/null
    floor_pid=""
    log "    ${result[run50_floor]:-n/a} s"
}

remove_all_containers() {  # host
    local ids
    ids=$(dk "$1" ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk "$1" rm -f $ids >/dev/null 2>&1
    return 0
}

measure() {  # name host
    local name=$1 host=$2 out=$work/$name
    mkdir -p "$out"
    log ""
    log "== $name ($host)"
    if ! dk "$host" load -q -i "$image_tar" >"$out/load.log" 2>&1; then
        log "  docker load failed: $(why "$out/load.log"); every $name figure is n/a"
        note "$name: docker load of the busybox image failed"
        return
    fi

    # 5a: idle daemon memory (after the image load, before any container)
    sleep 1
    local pids
    pids=$(daemon_pids "$name")
    if [ -n "$pids" ]; then
        read -r rss pss < <(mem_kib $pids)
        result[idle_rss.$name]=$(mib "$rss")
        result[idle_pss.$name]=$(mib "$pss")
        log "  idle: RSS ${result[idle_rss.$name]} MiB, PSS ${result[idle_pss.$name]} MiB (pids $(echo $pids))"
    fi

    # 1: run --rm true
    log "  1 docker run --rm busybox true: $runs runs"
    if dk "$host" run --rm busybox true >"$out/probe-run.log" 2>&1; then
        local median
        median=$(hyperfine_median "$out/run.json" -n "$name run --rm" "$docker -H $host run --rm busybox true")
        [ -n "$median" ] && result[run_rm.$name]=$(awk -v s="$median" 'BEGIN { printf "%.0f", s * 1000 }')
    else
        log "  failed: $(why "$out/probe-run.log")"
    fi
    log "    ${result[run_rm.$name]:-n/a} ms"

    # 2: exec into a running container
    log "  2 docker exec c true: $runs runs"
    local exec_name=bench-exec-$$
    if dk "$host" run -d --name "$exec_name" --label "$label" busybox sleep 1000 >"$out/exec-run.log" 2>&1 &&
        dk "$host" exec "$exec_name" true >>"$out/exec-run.log" 2>&1; then
        local median
        median=$(hyperfine_median "$out/exec.json" -n "$name exec" "$docker -H $host exec $exec_name true")
        [ -n "$median" ] && result[exec.$name]=$(awk -v s="$median" 'BEGIN { printf "%.0f", s * 1000 }')
    else
        log "  failed: $(why "$out/exec-run.log")"
    fi
    dk "$host" rm -f "$exec_name" >/dev/null 2>&1
    log "    ${result[exec.$name]:-n/a} ms"

    # 3: CONTAINERS concurrent run -d, until all are running
    log "  3 $count concurrent docker run -d busybox sleep 1000"
    local before running start
    before=$(dk "$host" ps -q 2>/dev/null | wc -l)
    start=$(now)
    burst_run_d "$host" "$out"
    local finish ids started
    ids=$(cat "$out"/run-d.* | grep -E '^[0-9a-f]{64}$')
    started=$(echo "$ids" | grep -c . )
    # Until every container that was created is running (60 s at most once all `run -d` returned).
    local deadline=$(( $(date +%s) + 60 ))
    while :; do
        running=$(( $(dk "$host" ps -q 2>/dev/null | wc -l) - before ))
        [ "$running" -ge "$started" ] && break
        [ "$(date +%s)" -ge "$deadline" ] && break
        sleep 0.05
    done
    finish=$(now)
    if [ "$running" -ge "$count" ] && [ "$started" -eq "$count" ]; then
        result[run50.$name]=$(elapsed "$start" "$finish")
    else
        log "  only $started started, $running running: $(why "$out"/run-d.*)"
    fi
    log "    ${result[run50.$name]:-n/a} s"

    if [ "$running" -gt 0 ]; then
        # 5b: per running container: the shims
        sleep 1
        local shims
        shims=$(shim_pids "$name")
        if [ -n "$shims" ]; then
            read -r rss pss < <(mem_kib $shims)
            result[shim_rss.$name]=$(awk -v k="$rss" -v n="$running" 'BEGIN { printf "%.2f", k / n / 1024 }')
            result[shim_pss.$name]=$(awk -v k="$pss" -v n="$running" 'BEGIN { printf "%.2f", k / n / 1024 }')
            log "  5 $(echo $shims | wc -w) shim processes for $running containers: ${result[shim_rss.$name]} MiB RSS, ${result[shim_pss.$name]} MiB PSS per container"
        else
            log "  5 no shim processes found"
        fi
        read -r rss pss < <(mem_kib $(daemon_pids "$name"))
        log "    daemon(s) now: RSS $(mib "$rss") MiB, PSS $(mib "$pss") MiB"

        # 6: GET /containers/json
        local socket=${host#unix://} rate answer
        log "  6 GET /containers/json, $running containers, ${rps_seconds} s"
        if answer=$(list_rate "$socket" "$rps_seconds" 2>"$out/rps.log"); then
            read -r rate listed <<<"$answer"
            result[ps_rps.$name]=$(awk -v r="$rate" 'BEGIN { printf "%.0f", r }')
            [ "$listed" -lt "$running" ] && note "$name: /containers/json listed $listed of $running running containers"
        else
            log "  failed: $(why "$out/rps.log")"
        fi
        log "    ${result[ps_rps.$name]:-n/a} req/s"
    fi

    # 4: rm -f of them, one command
    if [ -n "$ids" ]; then
        log "  4 docker rm -f of $started containers"
        start=$(now)
        if dk "$host" rm -f $ids >"$out/rm.log" 2>&1; then
            finish=$(now)
            [ "$started" -eq "$count" ] && result[rm50.$name]=$(elapsed "$start" "$finish")
        else
            log "  failed: $(why "$out/rm.log")"
        fi
        log "    ${result[rm50.$name]:-n/a} s"
    fi

    # 7: LOG_LINES lines of output, then docker logs
    log "  7 docker run busybox seq 1 $log_lines, then docker logs"
    local logs_name=bench-logs-$$
    start=$(now)
    if dk "$host" run --name "$logs_name" --label "$label" busybox seq 1 "$log_lines" >/dev/null 2>"$out/logs-run.log"; then
        finish=$(now)
        result[logs_run.$name]=$(elapsed "$start" "$finish")
        log "    run to exit ${result[logs_run.$name]} s"
        start=$(now)
        if dk "$host" logs "$logs_name" >"$out/logs.out" 2>"$out/logs-read.log"; then
            finish=$(now)
            local lines
            lines=$(wc -l <"$out/logs.out")
            if [ "$lines" -eq "$log_lines" ]; then
                result[logs_read.$name]=$(elapsed "$start" "$finish")
            else
                note "$name: docker logs gave $lines lines, not $log_lines"
            fi
        else
            log "  docker logs failed: $(why "$out/logs-read.log")"
        fi
        rm -f "$out/logs.out"
        log "    docker logs ${result[logs_read.$name]:-n/a} s"
    else
        log "  failed: $(why "$out/logs-run.log")"
    fi
    dk "$host" rm -f "$logs_name" >/dev/null 2>&1

    # 5c: the daemon's memory once the work is over and it has been idle a while (berthd gives
    # freed heap back 3 to 6 s after the last request)
    sleep 7
    pids=$(daemon_pids "$name")
    if [ -n "$pids" ]; then
        read -r rss pss < <(mem_kib $pids)
        result[after_rss.$name]=$(mib "$rss")
        log "  after the run, idle 7 s: RSS ${result[after_rss.$name]} MiB, PSS $(mib "$pss") MiB"
    fi
    return 0
}

cleanup() {
    trap - EXIT INT TERM
    log ""
    log "== cleanup"
    local pid
    [ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null
    if [ -n "$berthd_pid" ]; then
        remove_all_containers "unix://$berthd_sock"
        if kill -0 "$berthd_pid" 2>/dev/null; then
            kill -TERM "$berthd_pid" 2>/dev/null
            for _ in $(seq 100); do kill -0 "$berthd_pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$berthd_pid" 2>/dev/null && kill -KILL "$berthd_pid" 2>/dev/null
            wait "$berthd_pid" 2>/dev/null
            log "stopped berthd pid $berthd_pid"
        fi
        # Shims outlive berthd by design: end the ones of this run's data root by PID.
        for pid in $(procs_named berth-shim "$work/"); do
            kill -TERM "$pid" 2>/dev/null && log "ended leftover berth-shim $pid"
        done
    fi
    if [ -n "$dockerd_host" ]; then
        if [ "$started_dockerd" = yes ]; then
            "$anchors/stop-dockerd.sh" >&2
            if [ "$dockerd_net" = bridge ]; then
                "$anchors/cleanup-net.sh" >"$work/cleanup-net.log" 2>&1 || log "cleanup-net.sh: $(head -2 "$work/cleanup-net.log")"
            fi
        else
            local ids
            ids=$(dk "$dockerd_host" ps -aq --filter "label=$label" 2>/dev/null)
            [ -n "$ids" ] && dk "$dockerd_host" rm -f $ids >/dev/null 2>&1
        fi
    fi
    # Whatever berthd left mounted under the temporary root, innermost first.
    awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r mount; do
        umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null
    done
    rm -rf --one-file-system "$work"
    # The containers' cgroup parent, when empty (another run may still use it).
    for parent in /sys/fs/cgroup/*/berth-bench /sys/fs/cgroup/berth-bench; do
        [ -d "$parent" ] && rmdir "$parent" 2>/dev/null
    done
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The test image: busybox:latest as a docker-archive.
if [ ! -s "$image_dir/busybox.tar" ]; then
    python3 "$repo/scripts/make-test-image" "$image_dir" >/dev/null || { echo "bench/containers.sh: scripts/make-test-image failed" >&2; exit 1; }
fi
image_tar=$image_dir/busybox.tar

hosts=()
for name in $daemons; do
    case $name in
    berthd)
        if [ ! -x "$bin_dir/berthd" ] && [ "${BERTH_BUILD:-1}" = 1 ]; then
            log "building berthd (release)..."
            (cd "$repo" && swift build -c release --product berthd >"$work/build.log" 2>&1) || log "build failed: $(tail -3 "$work/build.log")"
        fi
        if [ ! -x "$bin_dir/berthd" ]; then
            note "berthd: not found at $bin_dir/berthd"
            continue
        fi
        mkdir -p "$work/berth"
        echo '{"cgroup-parent": "/berth-bench"}' >"$work/berth/daemon.json"
        "$bin_dir/berthd" -H "unix://$berthd_sock" --data-root "$work/berth/data" --exec-root "$work/berth/exec" \
            --pidfile "$work/berth/berthd.pid" --config-file "$work/berth/daemon.json" >"$work/berthd.log" 2>&1 &
        berthd_pid=$!
        for _ in $(seq 200); do
            "$docker" -H "unix://$berthd_sock" version >/dev/null 2>&1 && break
            kill -0 "$berthd_pid" 2>/dev/null || break
            sleep 0.05
        done
        if ! "$docker" -H "unix://$berthd_sock" version >/dev/null 2>&1; then
            note "berthd did not come up: $(tail -3 "$work/berthd.log" | tr '\n' ' ')"
            continue
        fi
        hosts+=("berthd unix://$berthd_sock")
        ;;
    dockerd)
        if [ ! -x "$anchors/start-dockerd.sh" ] || ! command -v dockerd >/dev/null; then
            note "dockerd: not installed (run $anchors/install-deps.sh)"
            continue
        fi
        . "$anchors/env.sh"
        dockerd_host=unix://$DOCKERD_SOCK
        if ! "$docker" -H "$dockerd_host" version >/dev/null 2>&1; then
            if "$anchors/start-dockerd.sh" "$dockerd_net" >"$work/start-dockerd.log" 2>&1; then
                started_dockerd=yes
            else
                note "dockerd did not start: $(tail -3 "$work/start-dockerd.log" | tr '\n' ' ')"
                dockerd_host=""
                continue
            fi
        else
            note "dockerd: using the anchor dockerd that was already running (its network mode as it is)"
        fi
        hosts+=("dockerd $dockerd_host")
        ;;
    *) note "unknown daemon $name" ;;
    esac
done

log "docker CLI $("$docker" version --format '{{.Client.Version}}' 2>/dev/null); runs $runs, warm-up $warmup, $count containers, $log_lines log lines"
for entry in "${hosts[@]}"; do
    name=${entry%% *}
    host=${entry#* }
    log "$name: server $("$docker" -H "$host" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
done
for entry in "${hosts[@]}"; do
    measure "${entry%% *}" "${entry#* }"
done
measure_cli_floor

# key | label | unit | budget text | budget kind (ratio_max, ratio_min, abs_max) | budget value
metrics=(
    "run_rm|docker run --rm busybox true, median|ms|<= 1/8 of dockerd|ratio_max|0.125"
    "exec|docker exec c true, median|ms|<= 1/3|ratio_max|0.3334"
    "run50|$count concurrent run -d until all running|s|<= 1/10|ratio_max|0.1"
    "rm50|docker rm -f of $count running|s|<= 1/10|ratio_max|0.1"
    "idle_rss|daemon idle RSS|MiB|<= 25 MiB|abs_max|25"
    "idle_pss|daemon idle PSS|MiB|-|none|0"
    "after_rss|daemon RSS after the run, idle 7 s|MiB|-|none|0"
    "shim_rss|RSS per running container (shim)|MiB|<= 1 MiB|abs_max|1"
    "shim_pss|PSS per running container (shim)|MiB|-|none|0"
    "ps_rps|GET /containers/json, $count running|req/s|>= 10x|ratio_min|10"
    "logs_run|$log_lines log lines: run to exit|s|<= 1/3|ratio_max|0.3334"
    "logs_read|$log_lines log lines: docker logs|s|<= 1/5|ratio_max|0.2"
)
echo
printf '%-44s %10s %10s %8s  %-18s %s\n' "metric" "dockerd" "berthd" "ratio" "budget" "meets"
printf '%-44s %10s %10s %8s  %-18s %s\n' "------" "-------" "------" "-----" "------" "-----"
for row in "${metrics[@]}"; do
    IFS='|' read -r key text unit budget kind limit <<<"$row"
    d=${result[$key.dockerd]:-}
    b=${result[$key.berthd]:-}
    ratio=n/a
    if [ -n "$d" ] && [ -n "$b" ]; then
        ratio=$(awk -v b="$b" -v d="$d" 'BEGIN { if (d + 0 == 0) print "n/a"; else printf "%.3g", b / d }')
    fi
    meets=n/a
    case $kind in
    ratio_max) [ "$ratio" != n/a ] && meets=$(awk -v r="$ratio" -v l="$limit" 'BEGIN { print (r <= l) ? "yes" : "no" }') ;;
    ratio_min) [ "$ratio" != n/a ] && meets=$(awk -v r="$ratio" -v l="$limit" 'BEGIN { print (r >= l) ? "yes" : "no" }') ;;
    abs_max) [ -n "$b" ] && meets=$(awk -v v="$b" -v l="$limit" 'BEGIN { print (v <= l) ? "yes" : "no" }') ;;
    none) meets="" ;;
    esac
    printf '%-44s %10s %10s %8s  %-18s %s\n' "$text ($unit)" "${d:-n/a}" "${b:-n/a}" "$ratio" "$budget" "$meets"
done
if [ -n "${result[run50_floor]:-}" ]; then
    floor=${result[run50_floor]}
    d=${result[run50.dockerd]:-}
    b=${result[run50.berthd]:-}
    echo "$count concurrent run -d against a server that answers at once (the CLIs' own cost): $floor s"
    if [ -n "$d" ] && [ -n "$b" ]; then
        awk -v f="$floor" -v d="$d" -v b="$b" 'BEGIN {
            printf "  over that floor: dockerd %.3f s, berthd %.3f s, ratio %.3g\n", d - f, b - f, (d - f > 0) ? (b - f) / (d - f) : 0 }'
    fi
fi
if [ "$started_dockerd" = yes ]; then
    echo "(dockerd: the anchor dockerd 20.10 started by this run, network: $dockerd_net)"
fi
for line in "${notes[@]}"; do echo "note: $line"; done
