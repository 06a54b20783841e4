"""API calls and database queries per step of a shopping journey.

An anonymous visitor fills a cart, logs in, applies a coupon, looks at the cart, pays;
each step goes through django_talon's public services exactly as a shop view would (in
autocommit, so the outbox's after-commit delivery runs), against the emulator in its own
process. Prints one row per step. Not a test: nothing is asserted (the tests assert the
bounds: tests/ops, and CORE's query-count tests).

    .venv/bin/python benchmarks/journey.py [--postgres]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import django_project, emulator_process


class BenchCart:
    """A shop cart as the default adapter sees it (``talon_cart_items()``, ``user``)."""

    class _meta:
        label_lower = "bench.cart"

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.user: Any = None
        self.lines: dict[str, tuple[str, float, int, str]] = {}

    def add(self, sku: str, name: str, price: float, category: str, quantity: int = 1) -> None:
        old = self.lines.get(sku)
        self.lines[sku] = (name, price, (old[2] if old else 0) + quantity, category)

    def talon_cart_items(self) -> list[dict[str, Any]]:
        return [
            {"sku": sku, "name": n, "price": p, "quantity": q, "category": c}
            for sku, (n, p, q, c) in self.lines.items()
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with emulator_process() as url, django_project(url, postgres=args.postgres):
        run_journey(url)


def run_journey(url: str) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_talon import services
    from django_talon.emulator import EmulatorControl

    control = EmulatorControl(url)
    cart = BenchCart(1)
    user = get_user_model().objects.create(username="bench-customer", password="!")
    control.clear_requests()
    state: dict[str, Any] = {}

    def add_espresso() -> None:
        cart.add("ESPRESSO-250", "Espresso 250g", 8.50, "coffee")
        state["session"] = services.update_cart(cart)

    def add_grinder() -> None:
        cart.add("GRINDER-X", "Grinder X", 89.00, "equipment")
        services.update_cart(cart)

    def save_unchanged() -> None:
        services.update_cart(cart)

    def login() -> None:
        cart.user = user
        services.attach_session_to_user(state["session"], user)

    def apply_coupon() -> None:
        services.apply_coupon(cart, "WELCOME10")

    def show_cart() -> None:
        services.get_promotions(cart)

    def pay() -> None:
        services.close_session(cart, fail_closed=False)

    steps: list[tuple[str, Callable[[], None]]] = [
        ("anonymous: add espresso", add_espresso),
        ("anonymous: add grinder", add_grinder),
        ("cart saved unchanged", save_unchanged),
        ("login (attach cart)", login),
        ("apply coupon WELCOME10", apply_coupon),
        ("show cart (promotions)", show_cart),
        ("order paid (close)", pay),
    ]
    rows = []
    for label, step in steps:
        before = len(control.requests())
        with CaptureQueriesContext(connection) as queries:
            step()
        calls = control.requests()[before:]
        rows.append((label, len(calls), len(queries), ", ".join(_short(c) for c in calls)))
    print(f"Shopping journey on {connection.vendor}, emulator at {url}\n")
    print(f"{'step':28} {'API calls':>9} {'queries':>8}  calls")
    for label, n_calls, n_queries, detail in rows:
        print(f"{label:28} {n_calls:>9} {n_queries:>8}  {detail}")
    print(f"{'total':28} {sum(r[1] for r in rows):>9} {sum(r[2] for r in rows):>8}")


def _short(call: dict[str, Any]) -> str:
    path = str(call["path"])
    for prefix in ("/v2/customer_sessions/", "/v2/customer_profiles/"):
        if path.startswith(prefix):
            path = prefix + "…"
    return f"{call['method']} {path} {call['status']}"


if __name__ == "__main__":
    main()
