#!/usr/bin/env python3
"""Checks Mamori's Data Rights Protocol endpoints with an independent signer: PyNaCl (libsodium),
the library the DRP implementation guide points authorised agents to. Written from the protocol
text (0.9.4 and 1.0), not from OSIRAA's code. Starts `mamori demo`, registers an agent with a
PyNaCl verify key through the CLI, then, as that agent: pairs, files requests in 1.0 and 0.9.x,
reads and revokes one, and checks that replays, unknown versions, a missing version, expired or
over-long messages, another key's signature and a revoked request are refused."""

import base64
import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from nacl.signing import SigningKey

import mamori_demo

BIN = mamori_demo.BIN
AGENT = "PYNACL_AGENT"
# The demo's organisation is "Kitsune Goods Ltd": its DRP business id by default.
BUSINESS = "KITSUNE_GOODS_LTD"
failures = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)


def at(seconds):
    t = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def envelope(version="1.0", issued=-5, expires=300, **extra):
    message = {"agent-id": AGENT, "business-id": BUSINESS, "issued-at": at(issued), "expires-at": at(expires)}
    if version is not None:
        message["drp.version"] = version
    message.update(extra)
    return message


def signed(key, message):
    """libsodium's combined mode: the 64-byte signature, then the message; base64 on the wire."""
    return base64.b64encode(key.sign(json.dumps(message).encode()).__bytes__()).decode()


def http(method, url, body=None, token=None):
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "text/plain")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text or b"null")
        except ValueError:
            return e.code, text.decode(errors="replace")


def main():
    key, stranger = SigningKey.generate(), SigningKey.generate()
    demo = mamori_demo.start()
    base, data, officer = demo.base, demo.data, demo.officer
    try:
        verify = base64.b64encode(key.verify_key.encode()).decode()
        subprocess.run([BIN, "--data", data, "agent", "add", AGENT, "--name", "PyNaCl agent",
                        "--verify-key", verify], check=True, stdout=subprocess.DEVNULL)

        pairing = signed(key, envelope())
        status, answer = http("POST", f"{base}/v1/agent/{AGENT}", pairing)
        check(status == 200 and isinstance(answer, dict) and "token" in answer, f"pair: {status}")
        token = answer["token"]
        status, _ = http("POST", f"{base}/v1/agent/{AGENT}", pairing)
        check(status == 403, f"a replayed pairing is refused: {status}")
        status, _ = http("GET", f"{base}/v1/agent/{AGENT}", token=token)
        check(status == 200, f"agent status with the token: {status}")

        def file(version, request_id, key=key, issued=-5, expires=300):
            message = envelope(version, issued, expires, **{
                "exercise": "access", "regime": "ccpa", "agent-request-id": request_id,
                "email": "customer1@example.com", "email_verified": True})
            body = signed(key, message)
            return body, http("POST", f"{base}/v1/data-rights-request", body, token)

        body, (status, filed) = file("1.0", "py-1.0")
        check(status in (200, 201) and filed.get("request_id"), f"DRP 1.0 request filed: {status} {filed}")
        check(filed.get("status") in ("open", "in_progress"), f"its status: {filed.get('status')}")
        status, _ = http("POST", f"{base}/v1/data-rights-request", body, token)
        check(status == 403, f"the same signed request again is refused: {status}")
        _, (status, _) = file("0.9.4", "py-0.9.4")
        check(status in (200, 201), f"DRP 0.9.4 request filed: {status}")
        for version, why in (("2.0", "an unknown major"), ("1.x", "a malformed version"), (None, "no version")):
            _, (status, _) = file(version, f"py-{version}")
            check(status == 400, f"{why} is a 400: {status}")
        _, (status, _) = file("1.0", "py-expired", issued=-600, expires=-60)
        check(status == 400, f"an expired message is a 400: {status}")
        _, (status, _) = file("1.0", "py-long", expires=16 * 60)
        check(status == 400, f"a window over 15 minutes is a 400: {status}")
        _, (status, _) = file("1.0", "py-stranger", key=stranger)
        check(status == 403, f"another key's signature is refused: {status}")

        request_id = filed["request_id"]
        status, state = http("GET", f"{base}/v1/data-rights-request/{request_id}", token=token)
        check(status == 200 and state.get("request_id") == request_id, f"status read: {status}")
        revoke = signed(key, envelope(**{"reason": "changed my mind"}))
        status, state = http("DELETE", f"{base}/v1/data-rights-request/{request_id}", revoke, token)
        check(status == 200 and state.get("status") == "revoked", f"revoked: {status} {state}")
        again = signed(key, envelope(issued=-4, **{"reason": "again"}))
        status, _ = http("DELETE", f"{base}/v1/data-rights-request/{request_id}", again, token)
        check(status == 409, f"revoking twice is a 409: {status}")

        request = urllib.request.Request(f"{base}/v1/requests?state=revoked")
        request.add_header("authorization", f"Bearer {officer}")
        request.add_header("mamori-purpose", "data_subject_rights")
        with urllib.request.urlopen(request, timeout=10) as response:
            register = json.loads(response.read())["requests"]
        check(any(r["source"] == "agent" for r in register), "the register holds the agent's request")
    finally:
        demo.stop()
    if failures:
        sys.exit(f"{len(failures)} DRP check(s) failed")
    print("DRP 1.0 and 0.9.4: every check passed with PyNaCl as the agent's signer")


if __name__ == "__main__":
    main()
