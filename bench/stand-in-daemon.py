#!/usr/bin/env python3
# A stand-in Engine API on a unix socket (argv[1]) for bench/cli-floor.sh and
# bench/containers.sh: it answers the requests of `run -d`, `run --rm` and `exec` at once,
# keep-alive, doing no work, so the stock CLI's own time shows.
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
