#!/usr/bin/env python3
"""The loopback HTTP(S) server of the io-http tests and catalog examples (Tests/EndToEndTests/Services/HTTPService.swift).

Usage: http-test-server.py WORKDIR
Listens on 127.0.0.1 (HTTP and HTTPS) and on ::1 (HTTP, when the machine has IPv6 loopback), each on a free
port. For HTTPS it generates, with openssl, a CA and a server certificate (localhost, 127.0.0.1, ::1) in
WORKDIR, so verification fails without WORKDIR/ca.pem and passes with it. Prints one JSON line with the
ports, then serves until killed. Every accepted connection is appended to WORKDIR/connections.log
("<listener> <peer address>"), so a test can prove that no connection reached it, and every request to
WORKDIR/requests.log (one JSON line: method, path, body), so a test can count the calls a capsule made.

/shop/* is a small shop for the order saga example (examples/order-saga.yml): charge, refund (slowed by
?ms=N) and ship, which refuses an address that starts with "Nowhere".
"""
import gzip, json, os, socket, ssl, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

WORK = sys.argv[1]
LOG = os.path.join(WORK, "connections.log")
REQUESTS = os.path.join(WORK, "requests.log")
log_lock = threading.Lock()


def log_request(method, path, body):
    with log_lock, open(REQUESTS, "a") as f:
        f.write(json.dumps({"method": method, "path": path, "body": body.decode("utf-8", "replace")}) + "\n")


def log_connection(listener, peer):
    with log_lock, open(LOG, "a") as f:
        f.write(f"{listener} {peer[0]}\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        p = url.path
        body = self.read_body()
        log_request(self.command, p, body)
        if p.startswith("/shop/"):
            return self.shop(p[len("/shop/"):], q, body)
        if p == "/json":
            return self.send(200, json.dumps({"ok": True, "items": [1, 2, 3]}).encode(), "application/json")
        if p == "/text":
            return self.send(200, b"hello from the test server")
        if p.startswith("/status/"):
            code = int(p.split("/")[2])
            return self.send(code, json.dumps({"status": code}).encode(), "application/json")
        if p == "/binary":
            return self.send(200, bytes([0, 1, 2, 255, 254]), "application/octet-stream")
        if p == "/gzip":
            data = json.dumps({"compressed": True, "text": "x" * 1000}).encode()
            return self.send(200, gzip.compress(data), "application/json", [("Content-Encoding", "gzip")])
        if p == "/huge":
            n = int(q.get("bytes", "1048576"))
            return self.send(200, b"a" * n)
        if p == "/chunked":
            n = int(q.get("chunks", "5"))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(n):
                chunk = f"chunk{i};".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if p == "/slow":
            # Headers now, then the body after `ms` milliseconds.
            ms = int(q.get("ms", "2000"))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.flush()
            time.sleep(ms / 1000)
            self.wfile.write(b"done")
            return
        if p == "/redirect":
            return self.send(int(q.get("status", "302")), b"", None, [("Location", q["to"])])
        if p == "/headers":
            return self.send(200, json.dumps({k.lower(): v for k, v in self.headers.items()}).encode(), "application/json")
        if p == "/echo":
            return self.send(200, json.dumps({
                "method": self.command, "query": q, "content_type": self.headers.get("Content-Type"),
                "idempotency_key": self.headers.get("Idempotency-Key"), "body": body.decode("utf-8", "replace"),
            }).encode(), "application/json")
        if p == "/v1/chat/completions":
            if self.headers.get("Authorization") != "Bearer test-llm-key":
                return self.send(401, b'{"error": {"message": "bad key"}}', "application/json")
            req = json.loads(body)
            last = req["messages"][-1]["content"]
            return self.send(200, json.dumps({
                "id": "chatcmpl-test", "object": "chat.completion", "model": req["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": f"echo: {last}"}}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
            }).encode(), "application/json")
        return self.send(404, b"not found")

    def shop(self, action, q, body):
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, b'{"error": "the body is not JSON"}', "application/json")
        def answer(status, value):
            return self.send(status, json.dumps(value).encode(), "application/json")
        if action == "charge":
            return answer(200, {"charge_id": f"ch-{req.get('order')}", "amount": req.get("amount")})
        if action == "refund":
            time.sleep(int(q.get("ms", "0")) / 1000)
            return answer(200, {"refunded": req.get("charge_id")})
        if action == "ship":
            if str(req.get("address", "")).startswith("Nowhere"):
                return answer(422, {"error": "address not deliverable"})
            return answer(200, {"tracking": f"tr-{req.get('order')}"})
        return self.send(404, b"no such shop action")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = route


def server(name, family, address, context=None):
    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True

        def get_request(self):
            conn, peer = self.socket.accept()
            log_connection(name, peer)
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            return conn, peer

        def handle_error(self, request, client_address):
            pass  # a client that fails TLS verification hangs up mid-handshake: expected in the tests

    s = Server((address, 0), Handler)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1]


def make_certificates():
    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=WORK, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=jalm test CA")
    with open(os.path.join(WORK, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")


def main():
    open(LOG, "a").close()
    make_certificates()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(WORK, "server.pem"), os.path.join(WORK, "server.key"))
    ports = {"http": server("http4", socket.AF_INET, "127.0.0.1"),
             "https": server("https4", socket.AF_INET, "127.0.0.1", ctx)}
    try:
        ports["http6"] = server("http6", socket.AF_INET6, "::1")
    except OSError:
        ports["http6"] = None
    print(json.dumps(ports), flush=True)
    threading.Event().wait()


main()
