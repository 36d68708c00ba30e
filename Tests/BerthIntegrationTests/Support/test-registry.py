#!/usr/bin/env python3
"""A small OCI distribution (v2) registry for the pull tests, on 127.0.0.1 at a random port.

    test-registry.py OCI_LAYOUT_TAR [--token USER:PASSWORD | --token-anonymous] [--corrupt] [--slow] [--tls]
                     [--port-file PATH]

Serves the one image of the OCI layout under four repositories, as tags latest and stable:
    busybox        an OCI index (linux/amd64 and a linux/s390x entry) over an OCI manifest,
                   its layer as stored (a plain tar)
    docker/busybox a docker manifest list over a schema2 manifest, its layer gzipped
    other          a bare schema2 manifest (no list), its layer gzipped
    labelled       like other, but its config has a label: another image, the same layer
    zstd           an OCI manifest, its layer compressed with zstd (the zstd command)
Unknown repositories and tags answer as the reference registry does (NAME_UNKNOWN,
MANIFEST_UNKNOWN). --token demands a Bearer token from /token (with basic credentials when
given); --corrupt serves every layer with one byte changed; --slow sends layers at about
640 kB/s; --tls serves HTTPS with a
self-signed certificate made for the run (the openssl command). Prints the port on stdout, then
serves until killed (also written to PATH, whole, with --port-file). Every request is logged on stderr.

Pushes are taken as the distribution API takes them: HEAD of a blob, POST of an upload (with
?mount=&from= for a cross-repository mount: 201 when the source repository holds the blob),
PATCH with data, PUT with ?digest= (checked), and PUT of a manifest (its blobs must be in the
repository); a pushed repository answers pulls like the others. --slow sends pushed layers
slowly too. /v1/search?q=&n= answers from a fixed catalogue (the repositories above, with
stars) plus the pushed repositories.
"""

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import ssl
import subprocess
import tempfile
import time
import sys
import tarfile
import threading
import urllib.parse
import uuid

args = sys.argv[1:]
layout_tar = args[0]
token_credentials = None
token_mode = False
corrupt = "--corrupt" in args
if "--token" in args:
    token_mode = True
    token_credentials = args[args.index("--token") + 1]
if "--token-anonymous" in args:
    token_mode = True

blobs = {}
with tarfile.open(layout_tar) as archive:
    for member in archive.getmembers():
        if member.isfile() and member.name.startswith("blobs/sha256/"):
            blobs["sha256:" + member.name.rsplit("/", 1)[1]] = archive.extractfile(member).read()
        elif member.name == "index.json":
            layout_index = json.loads(archive.extractfile(member).read())


def put(data, digests=blobs):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    digests[digest] = data
    return digest


def canonical(document):
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


oci_manifest_digest = layout_index["manifests"][0]["digest"]
oci_manifest = json.loads(blobs[oci_manifest_digest])
config_digest = oci_manifest["config"]["digest"]
layer_digest = oci_manifest["layers"][0]["digest"]
gzipped_layer = gzip.compress(blobs[layer_digest], mtime=0)
gzipped_digest = put(gzipped_layer)

D_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
D_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"

schema2 = canonical({
    "schemaVersion": 2, "mediaType": D_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
               "size": len(blobs[config_digest]), "digest": config_digest},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(gzipped_layer), "digest": gzipped_digest}],
})
schema2_digest = put(schema2)
# The same layer under another image (a label added to the config): its layer "Already exists".
labelled_config = json.loads(blobs[config_digest])
labelled_config["config"]["Labels"] = {"variant": "labelled"}
labelled_config_bytes = canonical(labelled_config)
labelled_config_digest = put(labelled_config_bytes)
labelled = canonical({
    "schemaVersion": 2, "mediaType": D_MANIFEST,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
               "size": len(labelled_config_bytes), "digest": labelled_config_digest},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(gzipped_layer), "digest": gzipped_digest}],
})
oci_manifest_bytes = blobs[oci_manifest_digest]


def listing(media_type, manifest_media_type, digest, size):
    return canonical({"schemaVersion": 2, "mediaType": media_type, "manifests": [
        {"mediaType": manifest_media_type, "digest": "sha256:" + "0" * 64, "size": size,
         "platform": {"architecture": "s390x", "os": "linux"}},
        {"mediaType": manifest_media_type, "digest": digest, "size": size,
         "platform": {"architecture": "amd64", "os": "linux"}},
    ]})


oci_index = listing(OCI_INDEX, OCI_MANIFEST, oci_manifest_digest, len(oci_manifest_bytes))
docker_list = listing(D_LIST, D_MANIFEST, schema2_digest, len(schema2))
zstd_layer = subprocess.run(["zstd", "-q", "-c"], input=blobs[layer_digest], stdout=subprocess.PIPE, check=True).stdout
zstd_digest = put(zstd_layer)
zstd_manifest = canonical({
    "schemaVersion": 2, "mediaType": OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "size": len(blobs[config_digest]), "digest": config_digest},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                "size": len(zstd_layer), "digest": zstd_digest}],
})
# repository → {tag or digest: (media type, bytes)}
manifests = {}
for repository, top_type, top in [("busybox", OCI_INDEX, oci_index), ("docker/busybox", D_LIST, docker_list),
                                  ("other", D_MANIFEST, schema2), ("labelled", D_MANIFEST, labelled),
                                  ("zstd", OCI_MANIFEST, zstd_manifest)]:
    entries = {"latest": (top_type, top), "stable": (top_type, top)}
    entries[put(top, {})] = (top_type, top)
    entries[oci_manifest_digest] = (OCI_MANIFEST, oci_manifest_bytes)
    entries[schema2_digest] = (D_MANIFEST, schema2)
    manifests[repository] = entries

tokens = set()
lock = threading.Lock()
# Pushed repositories: repository → digests of the blobs they hold; uploads in progress.
repository_blobs = {}
uploads = {}
pushed_layers = set()
catalogue = [("busybox", "Busybox base image.", 3300, True), ("docker/busybox", "A busybox for docker.", 12, False),
             ("other", "Another busybox.", 0, False), ("labelled", "A labelled busybox.", 5, False),
             ("zstd", "Busybox with a zstd layer.", 1, False)]


def holds(repository, digest):
    if repository in manifests and repository not in repository_blobs:
        return digest in blobs
    return digest in repository_blobs.get(repository, set())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (getattr(self, "command", "-"), getattr(self, "path", "-")))

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message, detail=None, headers=()):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()
        self.answer(status, body, [("Content-Type", "application/json")] + list(headers))

    def authorised(self, scope):
        if not token_mode:
            return True
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer ") and header[7:] in tokens:
            return True
        host = self.headers.get("Host")
        scheme = "https" if "--tls" in args else "http"
        challenge = 'Bearer realm="%s://%s/token",service="test-registry"' % (scheme, host)
        if scope:
            challenge += ',scope="%s"' % scope
        self.error(401, "UNAUTHORIZED", "authentication required", None, [("WWW-Authenticate", challenge)])
        return False

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/token":
            if token_credentials is not None:
                expected = "Basic " + base64.b64encode(token_credentials.encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.error(401, "UNAUTHORIZED", "incorrect username or password")
            token = hashlib.sha256(self.path.encode() + str(len(tokens)).encode()).hexdigest()
            with lock:
                tokens.add(token)
            return self.answer(200, json.dumps({"token": token, "expires_in": 300}).encode(),
                               [("Content-Type", "application/json")])
        if path == "/v1/search":
            return self.search()
        if path == "/v2/" or path == "/v2":
            if not self.authorised(None):
                return
            return self.answer(200, b"{}", [("Content-Type", "application/json")])
        if not path.startswith("/v2/"):
            return self.answer(404, b"404 page not found\n")
        rest = path[4:]
        if rest.endswith("/tags/list"):
            repository = rest[:-len("/tags/list")]
            if not self.authorised("repository:%s:pull" % repository):
                return
            if repository not in manifests:
                return self.error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": repository})
            tags = sorted(tag for tag in manifests[repository] if not tag.startswith("sha256:"))
            return self.answer(200, json.dumps({"name": repository, "tags": tags}).encode(),
                               [("Content-Type", "application/json")])
        for kind in ("/manifests/", "/blobs/"):
            if kind in rest:
                repository, reference = rest.rsplit(kind, 1)
                break
        else:
            return self.answer(404, b"404 page not found\n")
        if not self.authorised("repository:%s:pull" % repository):
            return
        if kind == "/blobs/" and repository in repository_blobs and not holds(repository, reference):
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry", reference)
        if repository not in manifests and not (kind == "/blobs/" and repository in repository_blobs):
            return self.error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": repository})
        if kind == "/manifests/":
            entry = manifests[repository].get(reference)
            if entry is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag": reference})
            media_type, body = entry
            return self.answer(200, body, [("Content-Type", media_type),
                                           ("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())])
        data = blobs.get(reference)
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry", reference)
        if corrupt and reference in (layer_digest, gzipped_digest, zstd_digest):
            data = data[:-1] + bytes([data[-1] ^ 1])
        if "--slow" in args and (reference in (layer_digest, gzipped_digest, zstd_digest) or reference in pushed_layers):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                for start in range(0, len(data), 65536):
                    self.wfile.write(data[start:start + 65536])
                    self.wfile.flush()
                    time.sleep(0.1)
                sys.stderr.write("layer sent whole\n")
            except OSError:
                sys.stderr.write("layer transfer cut\n")
            return
        return self.answer(200, data, [("Content-Type", "application/octet-stream"),
                                       ("Docker-Content-Digest", reference)])

    def search(self):
        query = urllib.parse.parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        term = query.get("q", [""])[0]
        size = int(query.get("n", ["25"])[0])
        entries = catalogue + [(name, "", 0, False) for name in sorted(repository_blobs) if name not in manifests or
                                                                                  name not in [c[0] for c in catalogue]]
        results = [{"name": name, "description": description, "star_count": stars, "is_official": official,
                    "is_automated": False} for name, description, stars, official in entries if term in name][:size]
        body = {"num_pages": 1, "num_results": len(results), "page": 1, "page_size": size, "query": term, "results": results}
        return self.answer(200, json.dumps(body).encode(), [("Content-Type", "application/json")])

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def push_target(self):
        """(repository, rest) of a push request's path, after checking its token; None when answered."""
        path = self.path.split("?", 1)[0]
        if not path.startswith("/v2/"):
            self.answer(404, b"404 page not found\n")
            return None
        rest = path[4:]
        for kind in ("/blobs/uploads/", "/blobs/uploads", "/manifests/"):
            if kind in rest:
                repository = rest.split(kind, 1)[0]
                if not self.authorised("repository:%s:push,pull" % repository):
                    return None
                return repository, kind, rest.split(kind, 1)[1]
        self.answer(404, b"404 page not found\n")
        return None

    def do_POST(self):
        target = self.push_target()
        if target is None:
            return
        repository, kind, _ = target
        self.body()
        if not kind.startswith("/blobs/uploads"):
            return self.answer(405, b"")
        query = urllib.parse.parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        with lock:
            repository_blobs.setdefault(repository, set())
            mount, source = query.get("mount", [None])[0], query.get("from", [None])[0]
            if mount and source and holds(source, mount):
                repository_blobs[repository].add(mount)
                sys.stderr.write("mounted %s from %s\n" % (mount, source))
                return self.answer(201, b"", [("Location", "/v2/%s/blobs/%s" % (repository, mount)),
                                              ("Docker-Content-Digest", mount)])
            session = str(uuid.uuid4())
            uploads[session] = bytearray()
        return self.answer(202, b"", [("Location", "/v2/%s/blobs/uploads/%s" % (repository, session)),
                                      ("Docker-Upload-UUID", session), ("Range", "0-0")])

    def do_PATCH(self):
        target = self.push_target()
        if target is None:
            return
        repository, kind, session = target
        data = self.body()
        with lock:
            if session not in uploads:
                return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", session)
            uploads[session] += data
            end = len(uploads[session])
        return self.answer(202, b"", [("Location", "/v2/%s/blobs/uploads/%s" % (repository, session)),
                                      ("Docker-Upload-UUID", session), ("Range", "0-%d" % max(end - 1, 0))])

    def do_PUT(self):
        target = self.push_target()
        if target is None:
            return
        repository, kind, name = target
        data = self.body()
        if kind == "/manifests/":
            try:
                document = json.loads(data)
            except ValueError:
                return self.error(400, "MANIFEST_INVALID", "manifest invalid", None)
            wanted = [document.get("config", {}).get("digest")] + [layer.get("digest") for layer in document.get("layers", [])]
            with lock:
                for digest in wanted:
                    if not holds(repository, digest):
                        return self.error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", digest)
                pushed_layers.update(wanted[1:])
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                media_type = self.headers.get("Content-Type", D_MANIFEST)
                entries = manifests.setdefault(repository, {})
                entries[name] = (media_type, data)
                entries[digest] = (media_type, data)
            return self.answer(201, b"", [("Location", "/v2/%s/manifests/%s" % (repository, digest)),
                                          ("Docker-Content-Digest", digest)])
        session = name
        query = urllib.parse.parse_qs(self.path.split("?", 1)[1] if "?" in self.path else "")
        digest = query.get("digest", [""])[0]
        with lock:
            if session not in uploads:
                return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", session)
            content = bytes(uploads.pop(session) + data)
            if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
                return self.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", None)
            blobs[digest] = content
            repository_blobs.setdefault(repository, set()).add(digest)
        sys.stderr.write("stored %s (%d bytes)\n" % (digest, len(content)))
        return self.answer(201, b"", [("Location", "/v2/%s/blobs/%s" % (repository, digest)), ("Docker-Content-Digest", digest)])


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if "--tls" in args:
    keys = tempfile.mkdtemp()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                    "-keyout", keys + "/key.pem", "-out", keys + "/cert.pem"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(keys + "/cert.pem", keys + "/key.pem")
    for name in ("key.pem", "cert.pem"):
        os.unlink(keys + "/" + name)
    os.rmdir(keys)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
if "--port-file" in args:
    path = args[args.index("--port-file") + 1]
    with open(path + ".new", "w") as file:
        file.write(str(server.server_address[1]))
    os.rename(path + ".new", path)
server.serve_forever()
