#!/usr/bin/env python3
"""How a receiver verifies a notify-mq webhook (docs/layers.md shows this function). The tests run it
on the requests the receiver recorded:

  webhook_verify.py SECRET RECORDS INDEX [TOLERANCE_S]    exit 0 when request INDEX verifies, 1 if not
"""
import hashlib
import hmac
import json
import sys
import time


def verify(secret: bytes, body: bytes, signature: str, tolerance: int = 300) -> bool:
    """True when `signature` (the X-JALM-Signature header) signs `body` (the raw request body)."""
    try:
        fields = dict(item.split("=", 1) for item in signature.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (or from the future): a replay
    expected = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


if __name__ == "__main__":
    secret, records, index = sys.argv[1].encode(), sys.argv[2], int(sys.argv[3])
    tolerance = int(sys.argv[4]) if len(sys.argv) > 4 else 300
    lines = [json.loads(l) for l in open(records) if l.strip()]
    request = [l for l in lines if not l.get("ready")][index]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    ok = verify(secret, request["body"].encode(), headers.get("x-jalm-signature", ""), tolerance)
    sys.exit(0 if ok else 1)
