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

cat >"$work/server.py" <<'PY'
# Answers the Engine API requests of `run -d`, `run --rm` and `exec` at once, keep-alive.
import asyncio, re, secrets, sys

ID = "0" * 64

def reply(status, body=b"", extra=""):
    head = "HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n" % (status, extra, len(body))
    return head.encode() + body

def json_reply(status, text):
    return reply(status, text.encode(), "Content-Type: application/json\r\n")

async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, target, _ = line.decode().split(" ", 2)
            path = re.sub(r"^/v[0-9.]+", "", target.split("?")[0])
            length = 0
            while True:
                header = await reader.readline()
                if header in (b"\r\n", b""):
                    break
                name, value = header.decode().split(":", 1)
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if path == "/_ping":
                writer.write(reply("200 OK", b"" if method == "HEAD" else b"OK",
                                   "Api-Version: 1.50\r\nOstype: linux\r\nDocker-Experimental: false\r\n"))
            elif path == "/containers/create":
                writer.write(json_reply("201 Created", '{"Id":"%s","Warnings":[]}' % secrets.token_hex(32)))
            elif path.endswith("/wait"):
                # As dockerd: the headers at once; here the body follows at once too.
                writer.write(json_reply("200 OK", '{"StatusCode":0,"Error":null}'))
            elif path.endswith("/attach") or path.startswith("/exec/") and path.endswith("/start"):
                # The hijacked stream: upgraded, then closed (the process printed nothing).
                writer.write(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                             b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
                await writer.drain()
                break
            elif path.endswith("/start"):
                writer.write(reply("204 No Content"))
            elif re.fullmatch(r"/containers/[^/]+/exec", path):
                writer.write(json_reply("201 Created", '{"Id":"%s"}' % secrets.token_hex(32)))
            elif path.startswith("/exec/") and path.endswith("/json"):
                writer.write(json_reply("200 OK", '{"ID":"x","Running":false,"ExitCode":0,"Pid":1}'))
            elif path.startswith("/containers/") and path.endswith("/json"):
                writer.write(json_reply("200 OK", '{"Id":"%s","State":{"Running":true,"Status":"running"},'
                                        '"Config":{"Tty":false,"AttachStdout":true}}' % ID))
            elif method == "DELETE":
                writer.write(reply("204 No Content"))
            else:
                writer.write(json_reply("404 Not Found", '{"message":"not in the stand-in daemon"}'))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()

async def main():
    server = await asyncio.start_unix_server(handle, path=sys.argv[1])
    async with server:
        await server.serve_forever()

asyncio.run(main())
PY
sock=$work/s.sock
python3 "$work/server.py" "$sock" &
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
