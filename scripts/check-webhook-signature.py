#!/usr/bin/env python3
"""Checks Mamori's webhook signatures with an independent implementation: the `standardwebhooks`
package from PyPI. Starts `mamori demo`, subscribes a local receiver, grants a consent, and
verifies the delivery it receives (and that a tampered copy is refused). Then the other way: a
vendor told of an erasure confirms it with a request the same library signs with the vendor's
secret, and a request it signs with another secret is refused."""

import base64
import datetime
import http.server
import json
import os
import subprocess
import urllib.error
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


def wait_for(kind):
    deadline = time.time() + 10
    while time.time() < deadline:
        for headers, body in received:
            if json.loads(body)["type"] == kind:
                return headers, body
        time.sleep(0.05)
    sys.exit(f"no {kind} delivery arrived within 10 s")


def signed_confirmation(base, task, vendor, secret):
    body = json.dumps({"vendor": vendor})
    msg_id = f"msg_{task}"
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    signature = Webhook(secret).sign(msg_id, now, body)
    request = urllib.request.Request(f"{base}/v1/vendor-tasks/{task}/confirm", data=body.encode(), method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("webhook-id", msg_id)
    request.add_header("webhook-timestamp", str(int(now.timestamp())))
    request.add_header("webhook-signature", signature)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def vendor_confirms_with_standardwebhooks(demo, hook_url):
    """Erases a demo customer (whose address went to the courier), receives the courier's task
    through a webhook, and confirms it as the courier would."""
    base, service, officer = demo.base, demo.service, demo.officer
    call("POST", f"{base}/v1/webhooks", officer, {"url": hook_url, "events": ["vendor.erasure_requested"]})
    subject = call("GET", f"{base}/v1/subjects?email=customer2@example.com", service)["ids"][0]
    request = urllib.request.Request(f"{base}/v1/subjects/{subject}", method="DELETE")
    request.add_header("authorization", f"Bearer {officer}")
    request.add_header("mamori-purpose", "data_subject_rights")
    urllib.request.urlopen(request, timeout=10).close()
    _, body = wait_for("vendor.erasure_requested")
    task = json.loads(body)["data"]
    assert task["vendor"] == "kuroneko_logistics" and task["subject"] == subject, task
    cli = [mamori_demo.BIN, "--data", demo.data, "vendor", "secret", "kuroneko_logistics"]
    secret = subprocess.run(cli, capture_output=True, text=True, check=True).stdout.strip()
    forged = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    status, problem = signed_confirmation(base, task["task"], "kuroneko_logistics", forged)
    assert (status, problem["code"]) == (403, "vendor_signature_invalid"), (status, problem)
    status, confirmed = signed_confirmation(base, task["task"], "kuroneko_logistics", secret)
    assert status == 200 and confirmed["confirmed_at"], (status, confirmed)
    print("vendor confirmation signed by standardwebhooks: ok")


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
        vendor_confirms_with_standardwebhooks(demo, hook_url)
    finally:
        demo.stop()
        receiver.shutdown()


if __name__ == "__main__":
    main()
