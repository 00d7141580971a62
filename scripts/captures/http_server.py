#!/usr/bin/env python3
"""Serves HTTP/1.1 bodies with chosen digest fields on 127.0.0.1.

scripts/make-http-captures.sh starts one server per case and records its
port. Paths pick the response:

  /digests            every digest field correct (Content-MD5, Digest,
                      Content-Digest, Repr-Digest, and an S3 MD5 ETag)
  /wrong/KIND         one field wrong; KIND is content-md5, digest,
                      content-digest, repr-digest or s3-etag
  /chunked            chunked body with a trailer and a correct
                      Content-Digest
  /gzip               gzip content coding, with a Content-Digest of the
                      gzip octets and a Repr-Digest of the decoded body
  /short              declares the whole body, sends half, then closes
  /etag               ETag validator; a matching If-None-Match gets 304
  /hsts               carries Strict-Transport-Security with
                      includeSubDomains
  /page               a plain body

Usage: http_server.py --port PORT
"""

import argparse
import base64
import gzip
import hashlib
import http.server
import sys

BODY = b"wiretrust HTTP fixture body, line of forty octets.\n" * 64
ETAG = '"wiretrust-fixture-v1"'


def b64(data):
    return base64.b64encode(data).decode("ascii")


def correct_fields(content, representation):
    """Returns every digest field, each computed over the octets it covers."""
    return {
        "Content-MD5": b64(hashlib.md5(content).digest()),
        "Digest": "SHA-256=%s, MD5=%s"
        % (b64(hashlib.sha256(content).digest()), b64(hashlib.md5(content).digest())),
        "Content-Digest": "sha-256=:%s:, sha-512=:%s:"
        % (b64(hashlib.sha256(content).digest()), b64(hashlib.sha512(content).digest())),
        "Repr-Digest": "sha-256=:%s:" % b64(hashlib.sha256(representation).digest()),
    }


def wrong_fields(kind):
    """Returns the one field named by KIND, computed over other octets."""
    other = BODY + b"tampered"
    if kind == "s3-etag":
        return {"ETag": '"%s"' % hashlib.md5(other).hexdigest(), "x-amz-request-id": "FIXTURE"}
    names = {
        "content-md5": "Content-MD5",
        "digest": "Digest",
        "content-digest": "Content-Digest",
        "repr-digest": "Repr-Digest",
    }
    name = names.get(kind)
    if name is None:
        return None
    return {name: correct_fields(other, other)[name]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wiretrust-fixture/1"
    sys_version = ""

    def log_message(self, format, *args):
        sys.stderr.write("http_server: %s\n" % (format % args))

    def do_GET(self):
        self.respond(send_body=True)

    def do_HEAD(self):
        self.respond(send_body=False)

    def respond(self, send_body):
        path = self.path.split("?", 1)[0]
        if path == "/digests":
            fields = correct_fields(BODY, BODY)
            fields["ETag"] = '"%s"' % hashlib.md5(BODY).hexdigest()
            fields["x-amz-request-id"] = "FIXTURE"
            self.send_whole(BODY, fields, send_body)
        elif path.startswith("/wrong/"):
            fields = wrong_fields(path[len("/wrong/"):])
            if fields is None:
                self.send_whole(b"unknown digest kind\n", {}, send_body, status=404)
            else:
                self.send_whole(BODY, fields, send_body)
        elif path == "/chunked":
            self.send_chunked(send_body)
        elif path == "/gzip":
            encoded = gzip.compress(BODY, mtime=0)
            fields = {
                "Content-Encoding": "gzip",
                "Content-Digest": "sha-256=:%s:" % b64(hashlib.sha256(encoded).digest()),
                "Repr-Digest": "sha-256=:%s:" % b64(hashlib.sha256(BODY).digest()),
            }
            self.send_whole(encoded, fields, send_body)
        elif path == "/short":
            self.send_short()
        elif path == "/etag":
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
            else:
                fields = {"ETag": ETAG, "Last-Modified": "Tue, 01 Dec 2026 00:00:00 GMT"}
                self.send_whole(BODY, fields, send_body)
        elif path == "/hsts":
            fields = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
            self.send_whole(b"strict transport security announced\n", fields, send_body)
        elif path == "/page":
            self.send_whole(b"plain page\n", {}, send_body)
        else:
            self.send_whole(b"not found\n", {}, send_body, status=404)

    def send_whole(self, body, fields, send_body, status=200):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in fields.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def send_chunked(self, send_body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Fixture-Trailer")
        self.send_header("Content-Digest", "sha-256=:%s:" % b64(hashlib.sha256(BODY).digest()))
        self.end_headers()
        if not send_body:
            return
        third = len(BODY) // 3
        for part in (BODY[:third], BODY[third : 2 * third], BODY[2 * third :]):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.flush()
        self.wfile.write(b"0\r\nX-Fixture-Trailer: done\r\n\r\n")

    def send_short(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Content-MD5", b64(hashlib.md5(BODY).digest()))
        self.end_headers()
        self.wfile.write(BODY[: len(BODY) // 2])
        self.wfile.flush()
        self.close_connection = True


class Server(http.server.HTTPServer):
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    print("http_server: listening on 127.0.0.1:%d" % args.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
