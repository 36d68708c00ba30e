#!/usr/bin/env python3
"""A file server on 127.0.0.1 for the build tests: serves a directory (files, and git
repositories over git's "dumb" HTTP protocol) and a few special paths; logs each request.

usage: test-file-server.py DIRECTORY --port-file FILE --log FILE

  /redirect/PATH      302 to /PATH
  /named/             a file whose name is only in Content-Disposition ("named.txt")
  /slow               announces 1 MB, sends a byte every 0.1 s; logs "slow: client gone"
                      once the client hangs up
  /huge               announces 16 GiB, sends a few bytes
"""
import http.server
import socketserver
import sys
import time

directory = sys.argv[1]
port_file = sys.argv[sys.argv.index("--port-file") + 1]
log_file = sys.argv[sys.argv.index("--log") + 1]


def log(line):
    with open(log_file, "a") as out:
        out.write(line + "\n")


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=directory, **kwargs)

    def log_message(self, format, *args):
        pass

    def send_head(self):
        log(f"{self.command} {self.path}")
        return super().send_head()

    def do_GET(self):
        if self.path.startswith("/redirect/"):
            log(f"{self.command} {self.path}")
            self.send_response(302)
            self.send_header("Location", self.path[len("/redirect"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/named/":
            log(f"{self.command} {self.path}")
            body = b"named by its header\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Disposition", 'attachment; filename="named.txt"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/slow":
            log(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                for _ in range(1000000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                log("slow: client gone")
        elif self.path == "/huge":
            log(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(16 << 30))
            self.end_headers()
            try:
                self.wfile.write(b"x" * 1024)
            except OSError:
                pass
        else:
            super().do_GET()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as out:
    out.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
