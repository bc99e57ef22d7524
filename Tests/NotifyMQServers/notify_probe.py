#!/usr/bin/env python3
"""What the notify-mq end-to-end tests use to see what reached Redis and NATS, with stdlib sockets only:

  notify_probe.py redis-subscribe HOST PORT PASSWORD CHANNEL OUT   record each message as a JSON line
  notify_probe.py nats-subscribe HOST PORT USER PASS SUBJECT OUT   record each message (headers too)
  notify_probe.py redis-command HOST PORT PASSWORD ARG...       print the reply as JSON (bytes as text)
  notify_probe.py nats-request HOST PORT USER PASS SUBJECT JSON    print the reply (JetStream API calls)

A subscriber writes {"ready": true} as its first line once the server confirmed the subscription, then
one {"channel"|"subject", "headers", "payload"} line per message, flushed at once.
"""
import json
import socket
import sys


def write_line(out, obj):
    out.write(json.dumps(obj) + "\n")
    out.flush()


def resp_command(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


def resp_read(f):
    line = f.readline()
    if not line:
        raise EOFError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise RuntimeError("bad reply %r" % line)


def redis_subscribe(host, port, password, channel, out_path):
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    if password:
        s.sendall(resp_command("AUTH", password))
        resp_read(f)
    s.sendall(resp_command("SUBSCRIBE", channel))
    resp_read(f)
    with open(out_path, "a") as out:
        write_line(out, {"ready": True})
        while True:
            kind, chan, payload = resp_read(f)
            if kind == b"message":
                write_line(out, {"channel": chan.decode(), "payload": payload.decode()})


def plain(reply):
    if isinstance(reply, bytes):
        return reply.decode()
    if isinstance(reply, list):
        return [plain(r) for r in reply]
    return reply


def redis_command(host, port, password, *args):
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    if password:
        s.sendall(resp_command("AUTH", password))
        resp_read(f)
    s.sendall(resp_command(*args))
    print(json.dumps(plain(resp_read(f))))


def nats_connect(host, port, user, password):
    s = socket.create_connection((host, int(port)))
    f = s.makefile("rb")
    f.readline()  # INFO
    opts = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True, "protocol": 1}
    if user:
        opts.update(user=user, **{"pass": password})
    s.sendall(b"CONNECT " + json.dumps(opts).encode() + b"\r\nPING\r\n")
    while True:
        line = f.readline()
        if line.startswith(b"PONG"):
            return s, f
        if line.startswith(b"-ERR") or not line:
            raise RuntimeError("nats: %r" % line)


def nats_next(s, f):
    """The next message: (subject, headers dict, payload bytes); answers PINGs on the way."""
    while True:
        line = f.readline()
        if not line:
            raise EOFError("nats closed the connection")
        parts = line.split()
        if parts[0] == b"PING":
            s.sendall(b"PONG\r\n")
        elif parts[0] == b"MSG":
            body = f.read(int(parts[-1]) + 2)[:-2]
            return parts[1].decode(), {}, body
        elif parts[0] == b"HMSG":
            hlen, total = int(parts[-2]), int(parts[-1])
            body = f.read(total + 2)[:-2]
            headers = {}
            for h in body[:hlen].decode().split("\r\n")[1:]:
                if ":" in h:
                    k, v = h.split(":", 1)
                    headers[k.strip()] = v.strip()
            return parts[1].decode(), headers, body[hlen:]
        elif parts[0] == b"-ERR":
            raise RuntimeError("nats: %r" % line)


def nats_subscribe(host, port, user, password, subject, out_path):
    s, f = nats_connect(host, port, user, password)
    s.sendall(b"SUB %s 1\r\nPING\r\n" % subject.encode())
    while not f.readline().startswith(b"PONG"):
        pass
    with open(out_path, "a") as out:
        write_line(out, {"ready": True})
        while True:
            subj, headers, payload = nats_next(s, f)
            write_line(out, {"subject": subj, "headers": headers, "payload": payload.decode()})


def nats_request(host, port, user, password, subject, body):
    s, f = nats_connect(host, port, user, password)
    inbox = "_INBOX.probe"
    data = body.encode()
    s.sendall(b"SUB %s 1\r\nPUB %s %s %d\r\n%s\r\n" % (inbox.encode(), subject.encode(), inbox.encode(), len(data), data))
    _, _, payload = nats_next(s, f)
    print(payload.decode())


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"redis-subscribe": redis_subscribe, "redis-command": redis_command, "nats-subscribe": nats_subscribe, "nats-request": nats_request}[cmd](*args)
