#!/usr/bin/env python3
"""Checks Mamori's webhook signatures with an independent implementation: the `standardwebhooks`
package from PyPI. Starts `mamori demo`, subscribes a local receiver, grants a consent, and
verifies the delivery it receives (and that a tampered copy is refused)."""

import http.server
import json
import sys
import threading
import time
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import mamori_demo

received = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(method, url, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("authorization", f"Bearer {key}")
    request.add_header("content-type", "application/json")
    request.add_header("mamori-purpose", "order_fulfilment")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    demo = mamori_demo.start()
    base, service, officer = demo.base, demo.service, demo.officer
    try:
        hook = call("POST", f"{base}/v1/webhooks", officer, {"url": hook_url, "events": ["consent.changed"]})
        subject = call("GET", f"{base}/v1/subjects?email=customer1@example.com", service)["ids"][0]
        call("PUT", f"{base}/v1/consent/{subject}", service,
             {"purpose": "marketing_email", "channel": "email", "granted": True})
        deadline = time.time() + 10
        while not received and time.time() < deadline:
            time.sleep(0.05)
        if not received:
            sys.exit("no webhook delivery arrived within 10 s")
        headers, body = received[0]
        payload = Webhook(hook["secret"]).verify(body, headers)
        assert payload["type"] == "consent.changed", payload
        assert payload["data"]["subject"] == subject, payload
        try:
            Webhook(hook["secret"]).verify(body.replace("true", "false"), headers)
            sys.exit("a tampered delivery was accepted")
        except WebhookVerificationError:
            pass
        print("webhook signature verified by standardwebhooks: ok")
    finally:
        demo.stop()
        receiver.shutdown()


if __name__ == "__main__":
    main()
