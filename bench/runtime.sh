#!/usr/bin/env bash
# Times a whole container life cycle (create, start, wait for exit, delete) of a busybox
# `/bin/true` bundle with berth-runtime, Debian's runc and crun, in one hyperfine run, and
# prints the median ratio of each runtime to runc.
#
# Each runtime gets the same bundle and its own --root, and is run as `RUNTIME run --bundle B ID`:
# `run` creates, starts, waits and deletes in one call (runc's semantics; berth-runtime speaks
# the same command line). A runtime whose `run` leaves the container behind is timed as
# `run` + `delete` through sh instead, and the report says so.
#
# Environment: RUNS (30), WARMUP (3), BERTH_RUNTIME (path), BERTH_BIN_DIR (directory holding
# berth-runtime; default .build/release), BERTH_TEST_IMAGE_DIR (default build/test-image,
# made with scripts/make-test-image when missing). Needs root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-30}
warmup=${WARMUP:-3}
image_dir=${BERTH_TEST_IMAGE_DIR:-$repo/build/test-image}
berth_runtime=${BERTH_RUNTIME:-${BERTH_BIN_DIR:-$repo/.build/release}/berth-runtime}

if [ "$(id -u)" -ne 0 ]; then
    echo "bench/runtime.sh: needs root (containers, cgroups)" >&2
    exit 1
fi
for tool in hyperfine jq runc; do
    command -v "$tool" >/dev/null || { echo "bench/runtime.sh: $tool missing; run scripts/install-deps" >&2; exit 1; }
done

work=$(mktemp -d /tmp/berth-bench-runtime.XXXXXX)
cgroup_parent=berth-test
cgroup_leaf=bench-runtime-$$
parent_existed=()  # controllers whose berth-test parent was already there
for controller_dir in /sys/fs/cgroup/*/; do
    [ -d "$controller_dir$cgroup_parent" ] && parent_existed+=("$controller_dir")
done

names=()        # runtimes that work here, in order
declare -A binary=() root=() id=()

cleanup() {
    local name
    for name in "${!binary[@]}"; do
        "${binary[$name]}" --root "${root[$name]}" delete --force "${id[$name]}" >/dev/null 2>&1 || true
    done
    # The runtimes remove their own cgroup on delete; remove what a failed run left.
    local controller_dir
    for controller_dir in /sys/fs/cgroup/*/; do
        rmdir "$controller_dir$cgroup_parent/$cgroup_leaf" 2>/dev/null || true
        if [[ " ${parent_existed[*]} " != *" $controller_dir "* ]]; then
            rmdir "$controller_dir$cgroup_parent" 2>/dev/null || true  # only if empty
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$image_dir/rootfs/bin/busybox" ]; then
    python3 "$repo/scripts/make-test-image" "$image_dir" >/dev/null
fi
rootfs=$(cd "$image_dir/rootfs" && pwd)

# One bundle for all: runc's default spec, running /bin/true without a terminal on the
# read-only test rootfs, in a cgroup under the test parent.
bundle=$work/bundle
mkdir -p "$bundle"
(cd "$bundle" && runc spec)
jq --arg rootfs "$rootfs" --arg cgroup "/$cgroup_parent/$cgroup_leaf" '
    .process.args = ["/bin/true"]
    | .process.terminal = false
    | .root.path = $rootfs
    | .root.readonly = true
    | .linux.cgroupsPath = $cgroup
' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

commands=()
notes=()

# Tries one life cycle; keeps the runtime when it works, reports why when it does not.
add_runtime() {
    local name=$1 path=$2
    if [ ! -x "$path" ]; then
        notes+=("$name: not found at $path (build it with: swift build -c release)")
        return
    fi
    binary[$name]=$path
    root[$name]=$work/root-$name
    id[$name]=bench-$name-$$
    mkdir -p "${root[$name]}"
    local run=("$path" --root "${root[$name]}" run --bundle "$bundle" "${id[$name]}")
    local output
    if ! output=$("${run[@]}" 2>&1 </dev/null); then
        notes+=("$name: not supported here: $(tr '\n' ' ' <<<"$output" | sed 's/ *$//')")
        "$path" --root "${root[$name]}" delete --force "${id[$name]}" >/dev/null 2>&1 || true
        unset "binary[$name]"
        return
    fi
    local quoted
    printf -v quoted '%q ' "${run[@]}"
    if "$path" --root "${root[$name]}" state "${id[$name]}" >/dev/null 2>&1; then
        # `run` returned but left the container: delete it as part of each cycle.
        "$path" --root "${root[$name]}" delete --force "${id[$name]}" >/dev/null 2>&1 || true
        printf -v quoted '%s&& %q --root %q delete %q' "$quoted" "$path" "${root[$name]}" "${id[$name]}"
        commands+=(-n "$name" "sh -c $(printf '%q' "$quoted")")
        notes+=("$name: \`run\` left the container behind; timed as run + delete through sh")
    else
        commands+=(-n "$name" "${quoted% }")
    fi
    names+=("$name")
}

add_runtime berth-runtime "$berth_runtime"
add_runtime runc "$(command -v runc)"
add_runtime crun "$(command -v crun || echo /usr/bin/crun)"

for note in "${notes[@]}"; do echo "$note"; done
if [ ${#names[@]} -eq 0 ]; then
    echo "bench/runtime.sh: no runtime could run the bundle" >&2
    exit 1
fi

results=$work/hyperfine.json
hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$results" "${commands[@]}"

# Median of each runtime and its ratio to runc's (the reference).
echo
echo "median per life cycle (create+start+wait+delete of /bin/true), ratio to runc:"
jq -r '
    (.results | map({key: .command, value: .median}) | from_entries) as $median
    | .results[]
    | [.command, (.median * 1000 * 100 | round / 100 | tostring) + " ms",
       (if $median.runc then (.median / $median.runc * 100 | round / 100 | tostring) + "x" else "-" end)]
    | @tsv
' "$results" | column -t -s $'\t'
