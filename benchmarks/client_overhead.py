"""Client overhead: CPU per session update against raw ``requests``, and per decoded effect.

Two figures, each printed as a RATIO against a baseline measured in the same run, the
measurements interleaved (baseline, client, baseline, ...) and the ratio taken per round,
then the median of the rounds: the machine is shared and noisy, absolute microseconds move
from run to run, the ratios much less.

1. ``update_customer_session_v2`` vs what a shop would write by hand: ``requests`` on a
   ``Session`` (``json.dumps`` the same body, ``PUT`` it with the same headers and timeout,
   ``json.loads`` the answer). CPU time of this process per call (``time.process_time``);
   the server runs in another process (a stdlib threaded HTTP server on 127.0.0.1 that
   answers a canned ``IntegrationStateV2`` with 5 effects at once), so its CPU is not
   counted. A second baseline, a ``Session`` with ``trust_env = False`` (no proxy/netrc/CA
   environment look-ups per call), is the floor of ``requests`` itself.
2. ``decode_effects`` per effect (8 effect types as the API sends them) vs a plain-dict
   baseline (a copy of each effect and of its props: the least any decoder that keeps the
   raw data does), and vs the official SDK ``talon_one`` (``Effect.from_dict`` plus the
   effect type's ``...EffectProps.from_dict``), when it is importable.

Not a test: nothing is asserted. ``--profile`` prints where the client's time goes
(cProfile, top functions by own time).

    .venv/bin/python benchmarks/client_overhead.py [--calls 100] [--rounds 21] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import json
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

API_KEY = "bench-api-key-0123456789abcdef"
TIMEOUT = (3.05, 10.0)

SESSION: dict[str, Any] = {
    "profileId": "customer-7",
    "couponCodes": ["WELCOME10"],
    "cartItems": [
        {"sku": "ESPRESSO-250", "name": "Espresso 250g", "price": 8.5, "quantity": 2,
         "category": "coffee"},
        {"sku": "GRINDER-X", "name": "Grinder X", "price": 89.0, "quantity": 1,
         "category": "equipment"},
        {"sku": "FILTER-100", "name": "Filters", "price": 3.2, "quantity": 3,
         "category": "accessories"},
    ],
    "attributes": {"ShippingCountry": "DE"},
}  # fmt: skip


def _effect(effect_type: str, campaign_id: int, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaignId": campaign_id,
        "rulesetId": 10 + campaign_id,
        "ruleIndex": 0,
        "ruleName": f"rule {campaign_id}",
        "effectType": effect_type,
        "props": props,
    }


#: One of each of the effect types a cart page sees most (props as the API documents them).
EFFECTS: list[dict[str, Any]] = [
    _effect("acceptCoupon", 1, {"value": "WELCOME10"}),
    _effect("setDiscount", 1, {"name": "Welcome 10%", "value": 12.35, "desiredValue": 12.35}),
    _effect("setDiscountPerItem", 3, {"name": "Coffee 1 off#0", "value": 1, "position": 0}),
    _effect(
        "addLoyaltyPoints",
        4,
        {
            "name": "Coffee Club points",
            "programId": 1,
            "subLedgerId": "",
            "value": 123,
            "recipientIntegrationId": "customer-7",
            "transactionUUID": "0c7e6b1e-33a1-4a57-9d0f-5d2f8b1c7a11",
        },
    ),
    _effect("addFreeItem", 2, {"sku": "FREE-TOTE", "name": "Canvas tote bag"}),
    _effect(
        "showNotification",
        5,
        {"notificationType": "Discounts", "title": "Free tote", "body": "Spend 100 EUR"},
    ),
    _effect("rejectCoupon", 6, {"value": "SPRING5", "rejectionReason": "CouponExpired"}),
    _effect("updateAttribute", 7, {"path": "Session.Attributes.Tier", "value": "gold"}),
]

#: The session update's answer: 5 effects, as on a typical cart page.
ANSWER: dict[str, Any] = {
    "effects": EFFECTS[:5],
    "createdCoupons": [],
    "createdReferrals": [],
    "triggeredCampaigns": [],
    "ruleFailureReasons": [],
}


# --- the server (run in its own process) ---------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    answer = b""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve() -> None:
    """Answer every PUT with ``ANSWER`` at once; print the port, stop when stdin closes."""
    import threading

    body = json.dumps(ANSWER).encode()
    _Handler.answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


# --- measuring -------------------------------------------------------------------------------


def cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    """CPU microseconds of this process per call of ``fn``."""
    gc.collect()
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) / calls * 1e6


def interleaved(
    candidates: dict[str, Callable[[], object]], calls: int, rounds: int
) -> dict[str, list[float]]:
    """Per round, each candidate once (the order rotating); microseconds per call."""
    names = list(candidates)
    results: dict[str, list[float]] = {name: [] for name in names}
    for fn in candidates.values():  # warm up: pools, caches, first imports
        cpu_per_call(fn, max(10, calls // 10))
    for index in range(rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            results[name].append(cpu_per_call(candidates[name], calls))
    return results


def median_ratio(results: dict[str, list[float]], name: str, baseline: str) -> float:
    return statistics.median(a / b for a, b in zip(results[name], results[baseline], strict=True))


def http_candidates(url: str) -> dict[str, Callable[[], object]]:
    import requests
    from requests.adapters import HTTPAdapter

    from django_talon.client import TalonClient

    def raw_session(trust_env: bool) -> requests.Session:
        session = requests.Session()
        session.trust_env = trust_env
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        return session

    headers = {
        "Authorization": f"ApiKey-v1 {API_KEY}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }

    def raw(session: requests.Session) -> Callable[[], object]:
        def call() -> object:
            response = session.put(
                f"{url}/v2/customer_sessions/cart-1",
                data=json.dumps({"customerSession": SESSION}).encode(),
                headers=headers,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
            if response.status_code != 200:
                raise RuntimeError(response.status_code)
            return json.loads(response.content)

        return call

    client = TalonClient(url, API_KEY, timeout=TIMEOUT)
    return {
        "requests": raw(raw_session(True)),
        "requests, trust_env=False": raw(raw_session(False)),
        "TalonClient": lambda: client.update_customer_session_v2("cart-1", SESSION),
    }


def _sdk_props_classes() -> dict[str, Callable[[Any], object]] | None:
    try:  # imported by name: it is optional, and mypy need not know it
        sdk = importlib.import_module("talon_one.models")
    except ImportError:
        return None
    classes: dict[str, Callable[[Any], object]] = {}
    for effect in EFFECTS:
        name = effect["effectType"]
        cls = getattr(sdk, name[0].upper() + name[1:] + "EffectProps")
        classes[name] = cls.from_dict
    classes[""] = sdk.Effect.from_dict
    return classes


def effect_candidates(count: int) -> dict[str, Callable[[], object]]:
    from django_talon.client.effects import decode_effects

    batch = (EFFECTS * (count // len(EFFECTS) + 1))[:count]

    def plain() -> object:
        return [{**e, "props": dict(e["props"])} for e in batch]

    candidates: dict[str, Callable[[], object]] = {
        "plain dicts": plain,
        "decode_effects": lambda: decode_effects(batch),
    }
    sdk = _sdk_props_classes()
    if sdk is not None:
        sdk_effect = sdk[""]

        def official() -> object:
            return [(sdk_effect(e), sdk[e["effectType"]](e["props"])) for e in batch]

        candidates["talon_one (official SDK)"] = official
    return candidates


def _sdk_version() -> str:
    try:
        return str(importlib.import_module("talon_one").__version__)
    except ImportError:
        return "not installed"


def profile(fn: Callable[[], object], calls: int, title: str) -> None:
    profiler = cProfile.Profile(time.process_time)  # CPU, as measured: not the socket waits
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    print(f"\n--- profile: {title}, {calls} calls, top 25 by own CPU time ---")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="HTTP calls per round")
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--effects", type=int, default=800, help="effects per round")
    parser.add_argument("--profile", action="store_true", help="cProfile the client")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"
        http = interleaved(http_candidates(url), args.calls, args.rounds)
        effects = effect_candidates(args.effects)
        decoded = interleaved(effects, 1, args.rounds)
        if args.profile:
            profile(http_candidates(url)["TalonClient"], args.calls, "update_customer_session_v2")
            profile(effects["decode_effects"], 20, f"decode_effects ({args.effects} effects)")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)

    print(
        f"\nClient overhead: {args.rounds} rounds, medians; session update with "
        f"{len(SESSION['cartItems'])} cart items answered with {len(ANSWER['effects'])} effects\n"
    )
    print(f"{'per session update (CPU)':32} {'us/call':>9} {'vs requests':>12}")
    for name, values in http.items():
        ratio = median_ratio(http, name, "requests")
        print(f"{name:32} {statistics.median(values):>9.0f} {ratio:>11.2f}x")
    floor = median_ratio(http, "TalonClient", "requests, trust_env=False")
    print(f"{'TalonClient vs trust_env=False':32} {'':>9} {floor:>11.2f}x")

    per_effect = {n: [v / args.effects for v in vs] for n, vs in decoded.items()}
    print(f"\n{'effect decoding':32} {'us/effect':>9} {'vs dicts':>12} {'vs talon_one':>13}")
    for name, values in per_effect.items():
        vs_sdk = (
            f"{median_ratio(per_effect, name, 'talon_one (official SDK)'):>12.2f}x"
            if "talon_one (official SDK)" in per_effect
            else f"{'-':>13}"
        )
        ratio = median_ratio(per_effect, name, "plain dicts")
        print(f"{name:32} {statistics.median(values):>9.2f} {ratio:>11.2f}x {vs_sdk}")
    python = re.sub(r"\s+", " ", sys.version)
    print(f"\ntalon_one: {_sdk_version()}; Python {python}")


if __name__ == "__main__":
    main()
