#!/usr/bin/env python3
"""The webhook receiver of the notify-mq tests, on 127.0.0.1:PORT:

  webhook_receiver.py PORT OUT

Appends each request to OUT as one JSON line {method, path, headers, body}; the first line is
{"ready": true}. It answers 200 with {"received": true}, except: /status/NNN answers NNN, and
/flaky answers 503 to the first request of each Idempotency-Key and 200 after, as a receiver that lost
its answer would make a sender retry.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, OUT = int(sys.argv[1]), sys.argv[2]
seen = set()


def record(obj):
    with open(OUT, "a") as f:
        f.write(json.dumps(obj) + "\n")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record({"method": "POST", "path": self.path, "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace")})
        status = 200
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2])
        elif self.path == "/flaky":
            key = self.headers.get("Idempotency-Key")
            status = 200 if key in seen else 503
            seen.add(key)
        reply = b'{"received": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Receiver)
record({"ready": True})
server.serve_forever()
