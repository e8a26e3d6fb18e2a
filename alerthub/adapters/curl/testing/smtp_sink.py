#!/usr/bin/python3
"""A real SMTP server for AlertHub's tests (aiosmtpd, Debian's python3-aiosmtpd).

Listens on 127.0.0.1 on a free port, prints "PORT <n>" on stdout once it
accepts connections, and writes every message it accepts to
<out_dir>/<nnnn>.json, parsed by Python's own e-mail package (an independent
MIME parser) so tests can check what a mail reader would see:

  {"mail_from", "rcpt_tos", "login" (AUTH user or null), "raw_b64" (the
   message as received, dot-unstuffed), "headers": [[name, decoded value]],
   "defects": [what the parser found wrong], "parts": [{"content_type",
   "charset", "transfer_encoding", "content"}] (the message itself when it
   is not multipart)}

Scripted answers, by the recipient's local part:
  reject-permanent*  550 to RCPT TO
  reject-temporary*  451 to RCPT TO
  slow*              RCPT TO answered after 5 seconds
With --username/--password, AUTH (PLAIN, LOGIN) is required and only those
credentials pass (535 otherwise). Runs until killed.
"""
import argparse
import asyncio
import base64
import email
import email.policy
import json
import os
import sys
import warnings

# aiosmtpd warns that AUTH without TLS is unsafe: a test sink on loopback
# has no certificate, and the warnings would only clutter the test logs.
warnings.simplefilter("ignore")

try:
    from aiosmtpd.smtp import SMTP, AuthResult
except ImportError:
    sys.stderr.write("smtp_sink: the aiosmtpd module is missing: run tools/bootstrap.sh "
                     "(it installs python3-aiosmtpd)\n")
    sys.exit(2)


def describe(msg):
    parts = list(msg.iter_parts()) if msg.is_multipart() else [msg]
    defects = [type(d).__name__ for d in msg.defects]
    out = []
    for part in parts:
        defects += [type(d).__name__ for d in part.defects]
        out.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    return out, defects


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject-permanent"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if local.startswith("reject-temporary"):
            return f"451 4.7.1 <{address}>: Recipient address rejected: Try again later"
        if local.startswith("slow"):
            await asyncio.sleep(5)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts, defects = describe(msg)
        login = session.auth_data if session.authenticated else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login.decode() if isinstance(login, bytes) else login,
            "raw_b64": base64.b64encode(raw).decode(),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "defects": defects,
            "parts": parts,
        }
        path = os.path.join(self.out_dir, f"{self.count:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return f"250 2.0.0 Ok: queued as {self.count:04d}"


class Credentials:
    def __init__(self, username, password):
        self.username = username.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == self.username and auth_data.password == self.password
        # handled=False: aiosmtpd answers 535 itself on failure.
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data.login if ok else None)


async def serve(args):
    handler = Sink(args.out_dir)
    authenticator = Credentials(args.username, args.password) if args.username else None

    def factory():
        return SMTP(handler, hostname="alerthub-smtp-sink", authenticator=authenticator,
                    auth_required=authenticator is not None, auth_require_tls=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, host="127.0.0.1", port=0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
