#!/usr/bin/env python3
"""Parses a message the SMTP test server recorded with Python's email package and prints what a mail
client would see, as JSON: decoded headers, each part's type, charset, transfer encoding and decoded
text, and whether every line ended in CRLF.

  parse_email.py RECORDS INDEX
"""
import json
import sys
from email import message_from_string, policy
from email.utils import getaddresses, parsedate_to_datetime

records, index = sys.argv[1], int(sys.argv[2])
lines = [json.loads(l) for l in open(records) if l.strip()]
record = [l for l in lines if not l.get("ready")][index]
raw = record["data"]
msg = message_from_string(raw, policy=policy.default)
parts = []
for part in (msg.iter_parts() if msg.is_multipart() else [msg]):
    parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                  "encoding": part.get("Content-Transfer-Encoding"),
                  # Parsed from a string, the wire's CRLFs stay in the content; a mail client shows lines.
                  "content": part.get_content().replace("\r\n", "\n")})
print(json.dumps({
    "subject": str(msg["Subject"]),
    "from": str(msg["From"]),
    "to": [a for _, a in getaddresses([str(msg["To"] or "")])],
    "to_names": [n for n, _ in getaddresses([str(msg["To"] or "")])],
    "cc": [a for _, a in getaddresses([str(msg["Cc"] or "")])],
    "bcc_header": msg["Bcc"] is not None,
    "message_id": str(msg["Message-ID"]),
    "idempotency_key": str(msg["X-JALM-Idempotency-Key"]),
    "date_ok": parsedate_to_datetime(str(msg["Date"])) is not None,
    "content_type": msg.get_content_type(),
    "parts": parts,
    "defects": [str(d) for d in msg.defects] + [str(d) for p in msg.walk() for d in p.defects],
    "crlf_only": "\n" not in raw.replace("\r\n", ""),
    "rcpt_tos": record["rcpt_tos"],
    "mail_from": record["mail_from"],
    "tls": record["tls"],
    "auth": record["auth"],
}))
