"""What django-talon adds to a cart change of the example shop, as a ratio to the shop alone.

The example shop (``example_project``: its URLs, views, cart services and adapter, wired
through ``TALON["CART_MODELS"]`` / ``["CART_ITEM_MODELS"]`` as its settings do) takes cart
changes through its real views with Django's test client, signed in as the demo customer:
``POST /cart/add/`` (one more of a product: the line's quantity goes up) and ``POST
/cart/update/`` (the quantity set back). Each is a real change, so each sends one session
update to the emulator (its own process, 127.0.0.1) through the immediate attempt after
commit. The baseline is the same requests with django-talon's receivers disconnected (the
shop alone), measured in the same run: the two take turns (``--rounds`` rounds of
``--changes`` changes each, the order alternating), the ratio is taken per round and the
median is printed.

Queries and commits are counted in one more pass of each, outside the timed rounds:

* queries: the statements ``CaptureQueriesContext`` sees, transaction control (``BEGIN``,
  ``COMMIT``, ``SAVEPOINT``, ``RELEASE``) left out, as in tests/core/test_queries.py;
* commits: the database transactions that end in a commit, counted as Django's
  ``connection.commit()`` calls (the end of an outermost ``atomic()``, patched on the
  connection) plus the writes (``INSERT``/``UPDATE``/``DELETE``) run in autocommit mode,
  each of which is its own transaction (seen by ``connection.execute_wrapper``).

    .venv/bin/python benchmarks/cart_change.py [--rounds 9] [--changes 20] [--postgres]
    .venv/bin/python benchmarks/cart_change.py --queries    # plus every added statement
    .venv/bin/python benchmarks/cart_change.py --celery     # delivery handed to Celery
    .venv/bin/python benchmarks/cart_change.py --bare       # plus the hand-written floor
    .venv/bin/python benchmarks/cart_change.py --profile    # plus cProfile's top functions

``--bare``: a second baseline, the least an integration that evaluates every change can do,
written by hand (:func:`bare_integration`: after commit, one query for the lines and one
``PUT`` with ``requests``; no mirror, no outbox, no error handling). It says how much of the
ratio any such integration pays, whatever library it uses.

``--celery``: the shop delivers through Celery workers and does not make the immediate
attempt in the request (``DELIVERY = "celery"``, ``IMMEDIATE_ATTEMPT = False``): a change
costs the receivers' share and one task published to a Redis broker (``--broker``, a queue
of its own, deleted at the end). No worker runs during the timed rounds (it would share
the two cores with the rounds being timed); afterwards the relay delivers what was queued,
so the run also shows that nothing was left behind.

Not a test: nothing is asserted (tests/core/test_cart_change_budget.py guards the counts).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._support import delete_queue, django_project, emulator_process

SKU = "ESPRESSO-250"
#: The cart's other line: cheap, so the cart stays below the demo's free-item threshold
#: (a subtotal of 100.00 adds a free tote bag, itself a second cart change).
OTHER = "DECAF-250"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
#: Transaction control, not counted as queries (SQLite sends BEGIN, PostgreSQL does not).
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Counts:
    """What one pass of changes cost: statements and committed transactions."""

    changes: int = 0
    queries: int = 0
    commits: int = 0
    statements: list[str] = field(default_factory=list)

    def per_change(self) -> tuple[float, float]:
        return self.queries / self.changes, self.commits / self.changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--changes", type=int, default=20, help="cart changes per round")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--queries", action="store_true", help="print the added statements")
    parser.add_argument(
        "--profile", action="store_true", help="plus cProfile's top functions of 200 changes"
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="plus a hand-written integration as a second baseline (one PUT after commit)",
    )
    parser.add_argument(
        "--celery", action="store_true", help="deliver through Celery, no immediate attempt"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    if args.celery and not args.broker.startswith(("redis://127.0.0.1", "redis://localhost")):
        parser.error("the broker must be on this machine (127.0.0.1)")
    with emulator_process() as url, django_project(url, postgres=args.postgres):
        from django.conf import settings
        from django.test.utils import override_settings

        from example_project import settings as shop

        talon = {
            **settings.TALON,
            **{k: v for k, v in shop.TALON.items() if k not in ("BASE_URL", "API_KEY")},
        }
        if args.celery:
            talon.update(DELIVERY="celery", IMMEDIATE_ATTEMPT=False)
        with override_settings(
            ROOT_URLCONF="example_project.urls",
            TEMPLATES=shop.TEMPLATES,
            STATICFILES_DIRS=shop.STATICFILES_DIRS,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            TALON=talon,
        ):
            if args.celery:
                with celery_broker(args.broker):
                    run(url, args)
            else:
                run(url, args)


@contextmanager
def celery_broker(broker: str) -> Iterator[None]:
    """A current Celery app publishing to a queue of its own on ``broker`` (deleted after)."""
    import os

    from celery import Celery

    queue = f"django-talon-cart-change-{os.getpid()}"
    app = Celery("cart_change_benchmark", set_as_current=True)
    app.conf.update(
        broker_url=broker,
        task_default_queue=queue,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    app.set_current()
    try:
        yield
    finally:
        delete_queue(broker, queue)


@contextmanager
def receivers_disconnected() -> Iterator[None]:
    """The shop alone: django-talon's receivers (connected in ``apps.ready``) are off."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_in
    from django.db.models.signals import post_delete, post_save, pre_delete

    from django_talon import receivers
    from django_talon.models import CustomerSession

    user_model = get_user_model()
    post_save.disconnect(sender=user_model, dispatch_uid="django_talon:user_saved")
    pre_delete.disconnect(sender=user_model, dispatch_uid="django_talon:user_deleted")
    user_logged_in.disconnect(dispatch_uid="django_talon:login")
    post_save.disconnect(dispatch_uid="django_talon:model_saved")
    post_delete.disconnect(dispatch_uid="django_talon:model_deleted")
    for signal in (post_save, post_delete):
        signal.disconnect(sender=CustomerSession, dispatch_uid="django_talon:session_written")
    try:
        yield
    finally:
        receivers.connect()


@contextmanager
def bare_integration(url: str) -> Iterator[None]:
    """The least an integration that evaluates each change can do, hand-written: the shop
    with django-talon's receivers off, and one receiver that, once per transaction, after
    commit, reads the cart's lines (one query) and PUTs them as a customer session with
    ``requests`` (default ``Session``, keep-alive), decoding the answer with ``json``. It
    stores nothing (no mirror, so nothing to charge from; no outbox, so a failed call is a
    lost write) and handles no error: a floor, not an alternative."""
    import requests
    from django.db import connection, transaction
    from django.db.models.signals import post_save

    from benchmarks._support import API_KEY
    from example_project.cart.models import Cart, CartItem

    http = requests.Session()
    headers = {"Authorization": f"ApiKey-v1 {API_KEY}", "Content-Type": "application/json"}
    pending: set[int] = set()

    def send(cart_id: int) -> None:
        pending.discard(cart_id)
        items = [
            {
                "sku": line.product.sku,
                "quantity": line.quantity,
                "price": float(line.unit_price),
                "name": line.product.name,
            }
            for line in CartItem.objects.filter(cart_id=cart_id).select_related("product")
        ]
        body = {"customerSession": {"cartItems": items, "state": "open"}}
        answer = http.put(
            f"{url}/v2/customer_sessions/bare-{cart_id}",
            data=json.dumps(body),
            headers=headers,
            timeout=5,
        )
        answer.raise_for_status()
        json.loads(answer.content)

    def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        cart_id = instance.pk if sender is Cart else instance.cart_id
        if not connection.in_atomic_block:
            send(cart_id)
            return
        if cart_id in pending:
            return
        pending.add(cart_id)
        transaction.on_commit(lambda: send(cart_id))

    with receivers_disconnected():
        for model in (Cart, CartItem):
            post_save.connect(changed, sender=model, dispatch_uid=f"bare:{model.__name__}")
        try:
            yield
        finally:
            for model in (Cart, CartItem):
                post_save.disconnect(sender=model, dispatch_uid=f"bare:{model.__name__}")
            http.close()


def make_change(client: Any, index: int) -> None:
    """One cart change through the shop's views: even: add one; odd: set the quantity back."""
    if index % 2 == 0:
        response = client.post("/cart/add/", {"sku": SKU, "quantity": 1})
    else:
        response = client.post("/cart/update/", {"sku": SKU, "quantity": 1})
    if response.status_code != 302:
        raise RuntimeError(f"cart change answered {response.status_code}")


@contextmanager
def counting() -> Iterator[Counts]:
    """Count statements and committed transactions on the default connection."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = Counts()
    original_commit = connection.commit

    def commit() -> None:
        counts.commits += 1
        original_commit()

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: Any) -> Any:
        if connection.get_autocommit() and sql.lstrip().upper().startswith(WRITES):
            counts.commits += 1  # an autocommit write is a transaction of its own
        return execute(sql, params, many, ctx)

    connection.commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(wrapper), CaptureQueriesContext(connection) as captured:
            yield counts
    finally:
        del connection.commit  # back to the class's method
    counts.statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(CONTROL)
    ]
    counts.queries = len(counts.statements)


def timed_round(client: Any, changes: int, start: int) -> tuple[float, float]:
    """Milliseconds per change over ``changes`` changes: wall clock, and CPU time of this
    process (the emulator's work is in its own process; CPU moves less with the load of a
    shared machine than the wall clock does)."""
    began, cpu = time.perf_counter(), time.process_time()
    for index in range(start, start + changes):
        make_change(client, index)
    wall = (time.perf_counter() - began) * 1000 / changes
    return wall, (time.process_time() - cpu) * 1000 / changes


def counted(client: Any, changes: int, calls: Callable[[], int]) -> tuple[Counts, int]:
    """One counting pass: the counts and the API calls it made."""
    before = calls()
    with counting() as counts:
        for index in range(changes):
            make_change(client, index)
    counts.changes = changes
    return counts, calls() - before


def timed_rounds(
    client: Any, url: str, args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The timed rounds, every mode in turn (the order alternating): wall clock and CPU per
    change by mode, and the per-round ratios to the shop alone."""
    modes: list[str] = ["talon", "shop", *(["bare"] if args.bare else [])]

    def in_mode(mode: str) -> Any:
        if mode == "shop":
            return receivers_disconnected()
        if mode == "bare":
            return bare_integration(url)
        return contextlib.nullcontext()

    for _ in range(2):  # warm-up: imports, connections, caches, every mode
        for mode in modes:
            with in_mode(mode):
                timed_round(client, 4, 0)

    wall: dict[str, list[float]] = {"ratio": [], "bare_ratio": [], **{m: [] for m in modes}}
    cpu: dict[str, list[float]] = {"ratio": [], "bare_ratio": [], **{m: [] for m in modes}}
    for round_no in range(args.rounds):
        order = modes if round_no % 2 == 0 else modes[::-1]
        result: dict[str, tuple[float, float]] = {}
        for mode in order:
            with in_mode(mode):
                result[mode] = timed_round(client, args.changes, 0)
        for index, figures in ((0, wall), (1, cpu)):
            for mode in modes:
                figures[mode].append(result[mode][index])
            figures["ratio"].append(result["talon"][index] / result["shop"][index])
            if args.bare:
                figures["bare_ratio"].append(result["bare"][index] / result["shop"][index])

    return wall, cpu


def run(url: str, args: argparse.Namespace) -> None:
    from django.test import Client

    from django_talon.emulator import EmulatorControl
    from django_talon.models import OutboxMessage
    from example_project.demo.data import load_demo_data

    control = EmulatorControl(url)
    load_demo_data()
    client = Client()
    if not client.login(username="alice", password="alice-demo-pass"):
        raise RuntimeError("the demo customer could not sign in")
    client.post("/cart/add/", {"sku": OTHER, "quantity": 1})  # the cart and its session exist

    def calls() -> int:
        return len(control.requests("/v2/customer_sessions/"))

    wall, cpu = timed_rounds(client, url, args)

    with receivers_disconnected():
        alone, alone_calls = counted(client, args.changes, calls)
    with_talon, talon_calls = counted(client, args.changes, calls)
    queued = OutboxMessage.objects.filter(state="pending").count()
    if args.celery:  # what the workers would have delivered: the relay does it now
        from django_talon.outbox import relay

        while relay() and OutboxMessage.objects.filter(state="pending").exists():
            pass
    pending = OutboxMessage.objects.filter(state="pending").count()

    q_alone, c_alone = alone.per_change()
    q_talon, c_talon = with_talon.per_change()
    print(
        f"cart change through the example shop's views ({args.rounds} rounds x "
        f"{args.changes} changes, medians; database: {_vendor()})"
    )
    for label, figures in (("ms per change", wall), ("CPU ms per change", cpu)):
        ratios = figures["ratio"]
        print(
            f"  {label:<20} shop alone {statistics.median(figures['shop']):7.2f}   "
            f"with django-talon {statistics.median(figures['talon']):7.2f}   "
            f"ratio {statistics.median(ratios):.2f}x (per-round range "
            f"{min(ratios):.2f}-{max(ratios):.2f})"
        )
        if args.bare:
            bare = figures["bare_ratio"]
            print(
                f"  {'':<20} hand-written floor {statistics.median(figures['bare']):7.2f}   "
                f"ratio to the shop alone {statistics.median(bare):.2f}x (range "
                f"{min(bare):.2f}-{max(bare):.2f})"
            )
    print(
        f"  queries per change   shop alone {q_alone:7.1f}   with django-talon "
        f"{q_talon:7.1f}   added {q_talon - q_alone:.1f}"
    )
    print(
        f"  commits per change   shop alone {c_alone:7.1f}   with django-talon "
        f"{c_talon:7.1f}   added {c_talon - c_alone:.1f}"
    )
    print(
        f"  session updates per change: shop alone {alone_calls / args.changes:.1f}, "
        f"with django-talon {talon_calls / args.changes:.1f}; outbox rows left pending: "
        f"{pending}"
    )
    if args.celery:
        print(
            f"  delivery: handed to Celery (no immediate attempt); {queued} rows queued by the "
            f"run were delivered afterwards by the relay ({calls()} session updates in all)"
        )
    if args.profile:
        profile(client)
    if args.queries:
        print("\nstatements of one change with django-talon (the last of the counting pass):")
        per = len(with_talon.statements) // args.changes
        for sql in with_talon.statements[-per:]:
            print("   ", sql[:160])


def profile(client: Any) -> None:
    """cProfile over 200 changes with django-talon: where the added time goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(200):
        make_change(client, index)
    profiler.disable()
    print("\ncProfile of 200 changes with django-talon (top 40 by cumulative time):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    print("django-talon's own functions (by cumulative time):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats("django_talon", 60)


def _vendor() -> str:
    from django.db import connection

    return str(connection.vendor)


if __name__ == "__main__":
    main()
