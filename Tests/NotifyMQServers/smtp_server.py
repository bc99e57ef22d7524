#!/usr/bin/env python3
"""The SMTP server of the notify-mq email tests (aiosmtpd), on 127.0.0.1:PORT:

  smtp_server.py PORT CERT KEY USER PASSWORD OUT

Offers STARTTLS (with CERT/KEY) and AUTH PLAIN/LOGIN after it, and requires AUTH. Every message that
arrives is appended to OUT as one JSON line: {mail_from, rcpt_tos, data, tls, auth}; the first line is
{"ready": true}. A message with a recipient starting "flaky@" is recorded, then refused once per
Message-ID with 451 (a temporary failure), as a server that lost its answer would make a sender retry.
"""
import json
import ssl
import sys
import time
from email import message_from_bytes

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

PORT, CERT, KEY, USER, PASSWORD, OUT = sys.argv[1:7]
seen_flaky = set()


def record(obj):
    with open(OUT, "a") as f:
        f.write(json.dumps(obj) + "\n")


class Handler:
    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        record({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                "data": data.decode("utf-8", "replace"), "tls": session.ssl is not None,
                "auth": session.authenticated})
        if any(r.startswith("flaky@") for r in envelope.rcpt_tos):
            mid = message_from_bytes(data).get("Message-ID")
            if mid not in seen_flaky:
                seen_flaky.add(mid)
                return "451 4.3.0 try again later"
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
    # handled=False: aiosmtpd then answers 535 itself (with the default True it answers nothing).
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(CERT, KEY)
controller = Controller(Handler(), hostname="127.0.0.1", port=int(PORT), tls_context=context,
                        require_starttls=False, auth_required=True, auth_require_tls=True,
                        authenticator=authenticator)
controller.start()
record({"ready": True})
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
