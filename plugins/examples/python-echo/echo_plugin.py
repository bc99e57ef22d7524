#!/usr/bin/env python3
"""A JALM layer plugin in Python, standard library only: serves sys.echo and sys.sleep."""
import json, os, struct, sys, threading

FD = int(os.environ.get("JALM_FD", "3"))
LAYER = os.environ["JALM_LAYER"]
MAX_FRAME = int(os.environ.get("JALM_MAX_FRAME", str(16 * 1024 * 1024)))
MAX_INFLIGHT = int(os.environ.get("JALM_MAX_INFLIGHT", "64"))

write_lock = threading.Lock()   # frames from several threads must not interleave
state_lock = threading.Lock()
running = {}                    # call id -> threading.Event, set when the kernel sends cancel
draining = False


def send(msg):
    body = json.dumps(msg, separators=(",", ":")).encode()
    frame = memoryview(struct.pack(">I", len(body)) + body)
    with write_lock:
        try:
            while frame:
                frame = frame[os.write(FD, frame):]
        except OSError:
            os._exit(0)          # the kernel closed the socket


def read_exact(n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = os.read(FD, n - len(buf))
        except OSError:
            chunk = b""
        if not chunk:
            os._exit(0)          # EOF: the kernel is gone, so we go too
        buf += chunk
    return bytes(buf)


def fail(call_id, code, message, retryable=False):
    send({"t": "err", "id": call_id, "code": code, "message": message, "retryable": retryable})


def finish_sleep(call_id, ms, cancelled):
    if cancelled.wait(ms / 1000):
        fail(call_id, "cancelled", "sleep cancelled")
    else:
        send({"t": "ok", "id": call_id, "output": {"slept_ms": ms}})
    with state_lock:
        del running[call_id]
        last = draining and not running
    if last:
        os._exit(0)              # drained: the last call has been answered


def on_call(msg):
    call_id, op, data = msg["id"], msg["op"], msg.get("input") or {}
    if op == "sys.echo":
        send({"t": "ok", "id": call_id, "output": data})
    elif op == "sys.sleep":
        ms = data.get("ms")
        if type(ms) is not int or not 0 <= ms <= 3_600_000:
            return fail(call_id, "invalid_input", '"ms" must be an integer from 0 to 3600000')
        with state_lock:
            if draining:
                return fail(call_id, "layer_unavailable", LAYER + " is draining", retryable=True)
            running[call_id] = threading.Event()
        threading.Thread(target=finish_sleep, args=(call_id, ms, running[call_id]), daemon=True).start()
    else:
        fail(call_id, "not_found", "unknown op " + json.dumps(op))


send({"t": "hello", "layer": LAYER, "version": "0.1.0-python", "ops": ["sys.echo", "sys.sleep"],
      "protocol": 1, "pid": os.getpid(), "max_inflight": MAX_INFLIGHT})
while True:
    (length,) = struct.unpack(">I", read_exact(4))
    if length > MAX_FRAME:       # check the length before reading (allocating) the body
        print(f"{LAYER}: frame of {length} bytes exceeds {MAX_FRAME}", file=sys.stderr, flush=True)
        os._exit(76)
    msg = json.loads(read_exact(length))
    kind = msg.get("t")
    if kind == "call":
        on_call(msg)
    elif kind == "cancel":
        with state_lock:
            event = running.get(msg["id"])
        if event:
            event.set()
    elif kind == "ping":
        send({"t": "pong", "seq": msg["seq"]})
    elif kind == "drain":
        with state_lock:
            draining = True
            idle = not running
        if idle:
            os._exit(0)
