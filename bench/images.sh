#!/usr/bin/env bash
# `docker load` and `docker save` of a generated ~200 MB multi-layer image, through the stock
# docker CLI, against berthd and (when it is installed) the anchor dockerd from
# ../shared/anchors, in one run; prints each median and berthd's ratio to dockerd.
#
# Environment: RUNS (5), SIZE_MB (200), LAYERS (8), BERTH_BIN_DIR (default .build/release),
# DOCKER_CLI (default /usr/local/bin/docker). Needs root.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
anchors=$(cd "$repo/.." && pwd)/shared/anchors
runs=${RUNS:-5}
size_mb=${SIZE_MB:-200}
layers=${LAYERS:-8}
bin_dir=${BERTH_BIN_DIR:-$repo/.build/release}
docker=${DOCKER_CLI:-/usr/local/bin/docker}

[ "$(id -u)" -eq 0 ] || { echo "bench/images.sh: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/images.sh: hyperfine missing; run scripts/install-deps" >&2; exit 1; }
if [ ! -x "$bin_dir/berthd" ]; then
    (cd "$repo" && swift build -c release --product berthd >/dev/null)
fi

work=$(mktemp -d /tmp/berth-bench-images.XXXXXX)
berthd_pid=""
started_dockerd=no
cleanup() {
    [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null
    if [ "$started_dockerd" = yes ]; then
        "$docker" -H "unix://$DOCKERD_SOCK" rmi -f bench/images:1 >/dev/null 2>&1 || true
        "$anchors/stop-dockerd.sh" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "generating a ${size_mb} MB image in $layers layers of incompressible data..."
python3 - "$work/image.tar" "$size_mb" "$layers" <<'PY'
import hashlib, io, json, os, sys, tarfile
path, size_mb, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_layer = (size_mb << 20) // count
layers, diff_ids = [], []
for index in range(count):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        data = os.urandom(per_layer)
        info = tarfile.TarInfo(f"data/layer{index}.bin"); info.size = len(data)
        layer.addfile(info, io.BytesIO(data))
    body = buffer.getvalue()
    layers.append(body)
    diff_ids.append("sha256:" + hashlib.sha256(body).hexdigest())
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids},
                     "history": [{"created_by": f"layer {i}"} for i in range(count)]}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
names = [f"{d[7:]}/layer.tar" for d in diff_ids]
manifest = json.dumps([{"Config": config_name, "RepoTags": ["bench/images:1"], "Layers": names}]).encode()
with tarfile.open(path, "w") as out:
    for name, body in list(zip(names, layers)) + [(config_name, config), ("manifest.json", manifest)]:
        info = tarfile.TarInfo(name); info.size = len(body); out.addfile(info, io.BytesIO(body))
PY

mkdir -p "$work/berth"
echo '{}' >"$work/berth/daemon.json"
"$bin_dir/berthd" -H "unix://$work/berth.sock" --data-root "$work/berth/data" --exec-root "$work/berth/exec" \
    --pidfile "$work/berth/berthd.pid" --config-file "$work/berth/daemon.json" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$work/berth.sock" ] && break; sleep 0.05; done

daemons=("berthd unix://$work/berth.sock")
if [ -x "$anchors/start-dockerd.sh" ] && command -v dockerd >/dev/null; then
    . "$anchors/env.sh"
    if ! "$docker" -H "unix://$DOCKERD_SOCK" version >/dev/null 2>&1; then
        "$anchors/start-dockerd.sh" none >/dev/null && started_dockerd=yes
    fi
    daemons+=("dockerd unix://$DOCKERD_SOCK")
else
    echo "dockerd: not installed here (run $anchors/install-deps.sh to compare); timing berthd alone"
fi

results=()
for entry in "${daemons[@]}"; do
    name=${entry%% *}; host=${entry#* }
    hyperfine -N --runs "$runs" --export-json "$work/$name-load.json" \
        --prepare "sh -c '$docker -H $host rmi -f bench/images:1 >/dev/null 2>&1 || true'" \
        -n "$name load" "$docker -H $host load -q -i $work/image.tar" >/dev/null
    hyperfine -N --runs "$runs" --export-json "$work/$name-save.json" \
        -n "$name save" "$docker -H $host save -o $work/$name-saved.tar bench/images:1" >/dev/null
    for op in load save; do
        median=$(jq '.results[0].median' "$work/$name-$op.json")
        results+=("$name $op $median")
    done
done

echo
echo "median of $runs runs, ${size_mb} MB in $layers layers:"
for line in "${results[@]}"; do
    read -r name op median <<<"$line"
    printf '  %-8s %-5s %7.2f s  (%.0f MB/s)\n' "$name" "$op" "$median" "$(echo "$size_mb / $median" | bc -l)"
done
if [ ${#daemons[@]} -gt 1 ]; then
    for op in load save; do
        berth=$(jq '.results[0].median' "$work/berthd-$op.json")
        dockerd=$(jq '.results[0].median' "$work/dockerd-$op.json")
        printf '  %s: berthd/dockerd = %.2f\n' "$op" "$(echo "$berth / $dockerd" | bc -l)"
    done
fi
