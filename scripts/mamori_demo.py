"""A throw-away `mamori demo` for the outside checkers (scripts/check-*.py): started on a free port
with a fresh data directory, its two API keys read from what it prints."""

import os
import re
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The binary `cargo build` just made: under CARGO_TARGET_DIR if that is set.
TARGET = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"))
BIN = os.environ.get("MAMORI_BIN", os.path.join(TARGET, "debug", "mamori"))


@dataclass
class Demo:
    process: subprocess.Popen
    base: str
    data: str
    service: str
    officer: str

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base, process, seconds=120):
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("mamori demo stopped before it listened")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"mamori demo did not answer at {base} within {seconds} s")


def start(customers=5):
    port = free_port()
    data = tempfile.mkdtemp(prefix="mamori-check-")
    process = subprocess.Popen(
        [BIN, "--data", data, "--listen", f"127.0.0.1:{port}", "demo", "--customers", str(customers)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    output = ""
    while "privacy_ops role" not in output:
        line = process.stdout.readline()
        if not line:
            sys.exit("mamori demo stopped before printing its keys")
        output += line
    # The keys are printed before the listener is bound: wait until it answers.
    wait_until_up(f"http://127.0.0.1:{port}", process)
    return Demo(
        process=process,
        base=f"http://127.0.0.1:{port}",
        data=data,
        service=re.search(r"service role\):\s+(\S+)", output).group(1),
        officer=re.search(r"privacy_ops role\):\s+(\S+)", output).group(1),
    )
