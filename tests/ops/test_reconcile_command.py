"""``manage.py talon_reconcile`` against the emulator: list, re-check, export, report."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_talon import services
from django_talon.models import Discrepancy, LedgerEntry
from tests.core.shop import GRINDER, SHOP_WIRING, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: Any) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def shop(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    settings.TALON = {**settings.TALON, **SHOP_WIRING}
    return talon_emulator


def order_with_welcome(shop: Any, percent_at_close: int | None = None) -> Order:
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    if percent_at_close is not None:
        welcome = shop.server.app.store.campaign_by_id[1]
        welcome.effects = [{**welcome.effects[0], "percent": percent_at_close}]
    order: Order = Order.objects.create(cart=cart, status="paid")
    return order


def test_list_report_and_filters(shop: Any) -> None:
    assert run("talon_reconcile", "list") == "No open discrepancies.\n"
    order_with_welcome(shop)  # reconciled
    changed = order_with_welcome(shop, percent_at_close=5)

    listing = run("talon_reconcile", "list")
    assert f"shopapp.order:{changed.pk} campaign_changed (open)" in listing
    assert "charged 8.90, booked 4.45 EUR" in listing
    rows = [json.loads(line) for line in run("talon_reconcile", "list", "--json").splitlines()]
    assert [r["reason"] for r in rows] == ["campaign_changed"]
    assert rows[0]["charged_by_campaign"] == {"1": "8.90"}
    assert run("talon_reconcile", "list", "--reason", "budget_exhausted").startswith("No open")
    assert "No resolved discrepancies." in run("talon_reconcile", "list", "--status", "resolved")
    with pytest.raises(CommandError, match="--reason must be one of"):
        run("talon_reconcile", "list", "--reason", "bogus")

    report = run("talon_reconcile", "report")
    assert "Closes: 2, reconciled: 1 (50.0%), with an open discrepancy: 1" in report
    assert "  campaign_changed: 1" in report


def test_recheck_by_id_and_all(shop: Any) -> None:
    order_with_welcome(shop, percent_at_close=5)
    discrepancy = Discrepancy.objects.get()
    with pytest.raises(CommandError, match="ids or pass --all"):
        run("talon_reconcile", "recheck")
    out = run("talon_reconcile", "recheck", str(discrepancy.pk))
    assert "Re-checked 1 discrepancy(ies): 0 resolved, 1 still open, 0 failed." in out

    # A booked entry that disagreed while Talon.One holds what was charged: resolved.
    order_with_welcome(shop)
    charged = LedgerEntry.objects.filter(kind="charged").latest("id")
    odd = LedgerEntry.objects.create(
        order_key=charged.order_key,
        session_id=charged.session_id,
        kind="booked",
        cart_items=charged.cart_items,
        discounts_by_campaign={"1": "0.01"},
    )
    services.reconcile_entry(odd)
    out = run("talon_reconcile", "recheck", "--all")
    assert "Re-checked 2 discrepancy(ies): 1 resolved, 1 still open, 0 failed." in out
    assert Discrepancy.objects.filter(status="resolved").count() == 1

    shop.control.add_fault(kind="error", status=503, path="/v2/customer_sessions/*")
    with pytest.raises(CommandError, match="1 re-check"):
        run("talon_reconcile", "recheck", "--all")


def test_export_json_and_csv(shop: Any, tmp_path: Path) -> None:
    changed = order_with_welcome(shop, percent_at_close=5)
    exported = json.loads(run("talon_reconcile", "export"))
    assert len(exported) == 1 and exported[0]["order_key"] == f"shopapp.order:{changed.pk}"
    assert exported[0]["booked_by_campaign"] == {"1": "4.45"}
    assert exported[0]["entry_kind"] == "booked"

    target = tmp_path / "discrepancies.csv"
    run("talon_reconcile", "export", "--format", "csv", "--output", str(target))
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert rows[0]["reason"] == "campaign_changed" and rows[0]["difference"] == "-4.45"
    assert json.loads(rows[0]["charged_by_campaign"]) == {"1": "8.90"}
    assert json.loads(run("talon_reconcile", "export", "--status", "resolved")) == []
