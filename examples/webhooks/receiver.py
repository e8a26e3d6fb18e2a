#!/usr/bin/python3
"""A webhook receiver for trying AlertHub: prints each delivery and checks its
Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature)
with the integration's secret. Standard library only.

  examples/webhooks/receiver.py --port 9000 --secret whsec_...

Answers 200 to valid requests and 401 to requests whose signature does not
verify or whose timestamp is more than 5 minutes off.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import time


def verify(secret, headers, body):
    """True when one of the v1 signatures is HMAC-SHA256(secret, id.ts.body)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    if not msg_id or not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    signed = b"%s.%s.%s" % (msg_id.encode(), ts.encode(), body)
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for sig in headers.get("webhook-signature", "").split():
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--secret", required=True, help="the integration's whsec_ secret")
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            ok = verify(args.secret, headers, body)
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                shown = json.loads(body).get("title", body[:80])
            except ValueError:
                shown = body[:80]
            print("%s webhook-id=%s signature=%s: %s"
                  % (time.strftime("%H:%M:%S"), headers.get("webhook-id"),
                     "valid" if ok else "INVALID", shown), flush=True)

        def log_message(self, *a):
            pass

    print("receiving webhooks on http://127.0.0.1:%d/" % args.port, flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
