"""Charged versus booked: N orders with Talon.One down at checkout for part of them.

Each order goes through the test shop (tests/shopapp, wired through ``TALON["CART_MODELS"]``
/ ``["ORDER_MODELS"]`` as a shop would): a cart, a coupon for most of them, the order saved
as paid (fail-open). Orders inside the outage window apply their coupon while Talon.One
answers, then it goes down (503 on the session endpoints), the cart changes and the order
is placed: the shop charges the quote it has (no discounts) and the close waits in the
outbox. After the window the outbox is relayed. Then the figures:

* orders, closes reconciled (booked = charged) in %, discrepancies by reason;
* coupons redeemed but not charged: codes on a closed session in Talon.One (the emulator's
  own state, not the ledger) that the order's charged quote did not carry (target 0);
* writes lost: outbox rows not delivered and orders whose session Talon.One does not hold
  as closed (target 0).

    .venv/bin/python benchmarks/charged_vs_booked.py [--orders 200] [--outage 0.2]
        [--close-unconfirmed with_codes] [--postgres]

``--close-unconfirmed with_codes`` shows the behaviour before issue 10 (codes redeemed that
were never given). Not a test: nothing is asserted (tests/core/test_reconciliation.py does).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import django_project, emulator_process

PRODUCTS = [
    ("ESPRESSO-250", "Espresso beans 250 g", "8.50", "coffee"),
    ("GRINDER-X", "Grinder X", "89.00", "equipment"),
    ("KETTLE-GOOSENECK", "Gooseneck kettle", "45.00", "equipment"),
    ("FILTER-100", "Paper filters", "4.00", "accessories"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--outage", type=float, default=0.2, help="share of orders in it")
    parser.add_argument(
        "--close-unconfirmed", choices=["without_codes", "with_codes"], default="without_codes"
    )
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with emulator_process() as url, django_project(url, postgres=args.postgres):
        from django.conf import settings
        from django.test.utils import override_settings

        from tests.core.shop import SHOP_WIRING

        talon = {
            **settings.TALON,
            **SHOP_WIRING,
            "CLOSE_UNCONFIRMED": args.close_unconfirmed,
            "TIMEOUT": 0.5,
            "IMMEDIATE_TIMEOUT": 0.5,
            "CLIENT_MAX_ATTEMPTS": 1,
            "MAX_ATTEMPTS": 1000,  # the outage must not turn closes into dead letters
        }
        with override_settings(TALON=talon):
            run(url, args)


def place(rng: random.Random, control: Any, in_outage: bool) -> Any:
    """One order; in the outage window Talon.One goes down after the coupon is applied."""
    from decimal import Decimal

    from django_talon import services
    from tests.shopapp.models import Cart, CartItem, Order

    def add(cart: Any) -> None:
        sku, name, price, category = rng.choice(PRODUCTS)
        CartItem.objects.create(
            cart=cart,
            sku=sku,
            name=name,
            price=Decimal(price),
            quantity=rng.randint(1, 3),
            category=category,
        )

    cart = Cart.objects.create()
    for _ in range(rng.randint(1, 3)):
        add(cart)
    if rng.random() < 0.8:
        services.apply_coupon(cart, "WELCOME10")
    if in_outage:
        control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
        add(cart)  # the cart changes while Talon.One is down
    return Order.objects.create(cart=cart, status="paid")


def relay_everything(control: Any) -> None:
    from django.utils import timezone

    from django_talon import outbox, resilience
    from django_talon.models import OutboxMessage

    control.clear_faults()
    resilience.breaker.reset()
    for _ in range(100):
        pending = OutboxMessage.objects.filter(state="pending")
        if not pending.exists():
            return
        pending.update(next_attempt_at=timezone.now())
        outbox.relay(limit=1000)


def run(url: str, args: argparse.Namespace) -> None:
    from django_talon import services
    from django_talon.emulator import EmulatorControl
    from django_talon.models import LedgerEntry, OutboxMessage
    from django_talon.services.reconciliation import reconciliation_report

    logging.disable(logging.WARNING)  # the outage logs every refused call; figures only
    control = EmulatorControl(url)
    rng = random.Random(args.seed)
    start_at = int(args.orders * 0.4)
    window = range(start_at, start_at + int(args.orders * args.outage))
    started = time.perf_counter()
    orders = []
    for index in range(args.orders):
        if index == window.stop:
            relay_everything(control)  # Talon.One is back
        orders.append(place(rng, control, index in window))
    relay_everything(control)
    elapsed = time.perf_counter() - started

    remote = control.state()["sessions"]
    not_charged = 0
    not_closed = 0
    for order in orders:
        session = services.session_for_order(order)
        held = remote.get(session.integration_id) if session is not None else None
        if session is None or held is None or held.get("state") != "closed":
            not_closed += 1
            continue
        charged = LedgerEntry.objects.filter(
            session_id=session.integration_id, kind="charged"
        ).latest("id")
        given = set(charged.coupon_codes)
        not_charged += sum(1 for code in held.get("couponCodes") or [] if code not in given)
    undelivered = OutboxMessage.objects.exclude(state="done").count()
    report = reconciliation_report()
    reasons = Counter(report.by_reason)

    print(f"orders:                              {len(orders)}")
    print(f"  in the outage window at checkout:  {len(window)}")
    print(f"  CLOSE_UNCONFIRMED:                 {args.close_unconfirmed}")
    print(
        f"closes reconciled (booked=charged):  {report.reconciled}/{report.closed}"
        f" ({report.reconciled_percent:.1f}%)"
    )
    print("discrepancies by reason:")
    for reason, count in sorted(reasons.items()) or [("(none)", 0)]:
        print(f"  {reason:<33}  {count}")
    print(f"coupons redeemed but not charged:    {not_charged} (target 0)")
    print(
        f"writes lost:                         {undelivered + not_closed} (target 0;"
        f" {undelivered} outbox rows not delivered, {not_closed} orders not closed)"
    )
    print(f"elapsed:                             {elapsed:.1f} s")


if __name__ == "__main__":
    main()
