"""No lost coupon under concurrency (issue 10): several real processes change the lines of one
cart and apply (and remove) codes of its session at the same time, on PostgreSQL, delivering
to the emulator over HTTP. Every code a call returned for is in the mirror and in Talon.One,
no removed code comes back, and every line has its last quantity: 0 of N lost.

Before the session row was locked, 4 such processes lost about 12 of 40 codes: each change
read the session, appended in Python and saved every field from its own copy.

The writers are ``python -m tests.core.concurrent_writer`` subprocesses
(tests/core/concurrency_settings.py) on the database pytest-django created for this run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from django.db import connection

from django_talon import outbox
from django_talon.models import CustomerSession, OutboxMessage
from django_talon.services.handlers import session_key
from tests.core.shop import make_cart
from tests.resources import REPO_ROOT, require_postgres

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

WRITERS = 4
CODES_PER_WRITER = 10
SESSIONS_PATH = "/v2/customer_sessions/"


def campaigns(codes: list[str]) -> dict[str, Any]:
    """One coupon campaign per code, so every code is accepted in the same session."""
    return {
        "application": {"id": 1, "name": "concurrency", "currency": "EUR"},
        "campaigns": [
            {
                "id": index,
                "name": f"Code {code}",
                "trigger": "coupon",
                "coupons": [{"value": code, "usageLimit": 0}],
                "effects": [{"type": "setDiscount", "name": f"Code {code}", "percent": 1}],
            }
            for index, code in enumerate(codes, start=1)
        ],
    }


def writer_env(emulator: Any) -> dict[str, str]:
    settings_dict = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.core.concurrency_settings",
        "TALON_TEST_DB": "postgres",
        "TALON_TEST_PG_NAME": str(settings_dict["NAME"]),
        "TALON_TEST_PG_HOST": str(settings_dict.get("HOST") or "127.0.0.1"),
        "TALON_TEST_PG_PORT": str(settings_dict.get("PORT") or "5432"),
        "TALON_TEST_PG_USER": str(settings_dict.get("USER") or "postgres"),
        "TALON_TEST_BASE_URL": str(emulator.url),
        "TALON_TEST_API_KEY": str(emulator.api_key),
    }


def run_writers(cart: Any, skus: list[str], codes: list[list[str]], emulator: Any) -> list[Any]:
    start = time.time() + 3.0  # every writer has set Django up by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.core.concurrent_writer", str(cart.pk), sku, str(start)]
            + mine,
            cwd=REPO_ROOT,
            env=writer_env(emulator),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for sku, mine in zip(skus, codes, strict=True)
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=150)
        text = out.decode(errors="replace")
        assert proc.returncode == 0, text
        assert "Traceback" not in text, text  # a receiver's failure is only logged
        results.append(json.loads(text.strip().splitlines()[-1]))
    return results


def drained_session(cart: Any) -> CustomerSession:
    session: CustomerSession = CustomerSession.objects.get(cart_key__endswith=f":{cart.pk}")
    # A delivery that found the key busy left its row to the holder; drain what is left.
    outbox.deliver_key(session_key(session.integration_id), force=True)
    assert not OutboxMessage.objects.exclude(state="done").exists()
    session.refresh_from_db()
    return session


def assert_nothing_lost(shop: Any, cart: Any, expected: set[str], results: list[Any]) -> None:
    """The mirror and Talon.One hold exactly ``expected`` and every line's last quantity."""
    session = drained_session(cart)
    lost_in_mirror = expected - set(session.coupon_codes)
    assert lost_in_mirror == set(), f"{len(lost_in_mirror)} of {len(expected)} lost"
    assert set(session.coupon_codes) == expected, "a removed code came back"
    final = {r["sku"]: r["quantity"] for r in results}
    assert {i["sku"]: i["quantity"] for i in session.cart_items} == final
    assert session.pushed_fingerprint == session.fingerprint

    remote = shop.control.state()["sessions"][session.integration_id]
    lost_in_talon = expected - set(remote["couponCodes"])
    assert lost_in_talon == set(), f"{len(lost_in_talon)} of {len(expected)} lost in Talon.One"
    assert set(remote["couponCodes"]) == expected
    assert {i["sku"]: i["quantity"] for i in remote["cartItems"]} == final
    accepted = {e["props"]["value"] for e in session.effects if e["effectType"] == "acceptCoupon"}
    assert accepted == expected
    calls = [r for r in shop.control.requests() if r["path"].startswith(SESSIONS_PATH)]
    assert [c for c in calls if c["status"] != 200] == []


def writer_codes() -> list[list[str]]:
    return [
        [f"W{writer}-C{index:02d}" for index in range(CODES_PER_WRITER)]
        for writer in range(WRITERS)
    ]


def concurrent_cart(shop: Any, every_code: list[str]) -> tuple[Any, list[str]]:
    shop.control.load_campaigns(campaigns(every_code))
    # Each request waits a little in Talon.One, so writes of the processes interleave.
    shop.control.add_fault(kind="latency", seconds=0.02, path=f"{SESSIONS_PATH}*")
    skus = [f"SKU-{writer}" for writer in range(WRITERS)]
    return make_cart(items=[(sku, sku, "10.00", 1, "coffee") for sku in skus]), skus


def test_codes_and_cart_changes_from_several_processes_are_never_lost(shop: Any) -> None:
    require_postgres()
    assert connection.vendor == "postgresql"
    codes = writer_codes()
    every_code = [code for mine in codes for code in mine]
    cart, skus = concurrent_cart(shop, every_code)

    results = run_writers(cart, skus, codes, shop)
    assert sorted(c for r in results for c in r["applied"]) == sorted(every_code)
    assert_nothing_lost(shop, cart, set(every_code), results)


def test_removals_from_several_processes_are_never_undone(shop: Any) -> None:
    require_postgres()
    codes = writer_codes()
    every_code = [code for mine in codes for code in mine]
    cart, skus = concurrent_cart(shop, every_code)
    # Each writer applies its codes and removes every second one right after applying it.
    plans = [
        [step for index, code in enumerate(mine) for step in [code] + [f"-{code}"] * (index % 2)]
        for mine in codes
    ]
    results = run_writers(cart, skus, plans, shop)
    removed = {c for r in results for c in r["removed"]}
    assert len(removed) == WRITERS * CODES_PER_WRITER // 2
    assert_nothing_lost(shop, cart, set(every_code) - removed, results)
