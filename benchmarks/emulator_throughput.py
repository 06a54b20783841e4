"""Emulator throughput: session updates per second (10-item cart, 5 campaigns).

Starts ``python -m django_talon.emulator`` in its own process, then drives it from this
process with keep-alive connections (one thread per connection, raw ``http.client`` so the
load generator is as cheap as possible) and prints the figures. Not a test: nothing is
asserted, the numbers are for the reader (target: >= 1,000 updates/s on a 2-core machine).

    .venv/bin/python benchmarks/emulator_throughput.py [--seconds 5] [--connections 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "bench-key"

CAMPAIGNS: dict[str, Any] = {
    "application": {"id": 1, "currency": "EUR"},
    "loyaltyPrograms": [{"id": 1, "name": "coffee_club", "title": "Coffee Club"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Welcome 10%",
            "trigger": "coupon",
            "coupons": ["WELCOME10"],
            "effects": [{"type": "setDiscount", "percent": 10}],
        },
        {
            "id": 2,
            "name": "Free tote over 100",
            "conditions": [{"type": "subtotalAtLeast", "amount": 100}],
            "effects": [{"type": "addFreeItem", "sku": "FREE-TOTE", "name": "Canvas tote bag"}],
        },
        {
            "id": 3,
            "name": "Coffee 1 off each",
            "conditions": [{"type": "containsCategory", "category": "coffee"}],
            "effects": [{"type": "setDiscountPerItem", "category": "coffee", "amount": 1}],
        },
        {
            "id": 4,
            "name": "Coffee Club points",
            "effects": [{"type": "addLoyaltyPoints", "programId": 1, "pointsPerAmount": 1}],
        },
        {
            "id": 5,
            "name": "Free shipping notice",
            "conditions": [{"type": "subtotalBelow", "amount": 100}],
            "effects": [
                {"type": "showNotification", "title": "Free tote", "body": "Spend 100 EUR"}
            ],
        },
    ],
}

CART = [
    {
        "sku": f"SKU-{i}",
        "name": f"Item {i}",
        "price": 4.5 + i,
        "quantity": 1 + i % 2,
        "category": "coffee" if i % 3 == 0 else "equipment",
    }
    for i in range(10)
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the emulator exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/_emulator/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the emulator did not start within 30 s")


def _worker(
    port: int, index: int, stop_at: float, latencies: list[float], errors: list[int]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"ApiKey-v1 {API_KEY}", "Content-Type": "application/json"}
    count = 0
    while time.perf_counter() < stop_at:
        # each connection works on its own sessions: parallel updates of one session are 409s
        body = json.dumps(
            {
                "customerSession": {
                    "profileId": f"bench-{index}-{count % 50}",
                    "couponCodes": ["WELCOME10"],
                    "cartItems": CART,
                }
            }
        ).encode()
        started = time.perf_counter()
        conn.request(
            "PUT", f"/v2/customer_sessions/bench-{index}-{count % 50}", body=body, headers=headers
        )
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(response.status)
        count += 1
    conn.close()


def run(seconds: float, connections: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        campaign_file = Path(tmp) / "bench.json"
        campaign_file.write_text(json.dumps(CAMPAIGNS))
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django_talon.emulator",
                "--port",
                str(port),
                "--api-key",
                API_KEY,
                "--campaigns",
                str(campaign_file),
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            _wait_ready(port, proc)
            # warm-up
            warm: list[float] = []
            _worker(port, 999, time.perf_counter() + 0.5, warm, [])
            per_thread: list[list[float]] = [[] for _ in range(connections)]
            errors: list[int] = []
            stop_at = time.perf_counter() + seconds
            threads = [
                threading.Thread(target=_worker, args=(port, i, stop_at, per_thread[i], errors))
                for i in range(connections)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    latencies = sorted(x for chunk in per_thread for x in chunk)
    total = len(latencies)
    print(
        f"emulator throughput: PUT /v2/customer_sessions, {len(CART)}-item cart, "
        f"{len(CAMPAIGNS['campaigns'])} campaigns, coupon in session"
    )
    print(f"  connections        {connections} (keep-alive, load generator in a separate process)")
    print(f"  updates            {total} in {elapsed:.2f} s, errors {len(errors)}")
    print(f"  throughput         {total / elapsed:,.0f} updates/s")
    if latencies:
        print(
            f"  latency p50 / p99  {statistics.median(latencies) * 1000:.2f} ms / "
            f"{latencies[int(total * 0.99) - 1] * 1000:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    run(args.seconds, args.connections)


if __name__ == "__main__":
    main()
