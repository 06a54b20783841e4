"""The booked side of the ledger is what Talon.One booked: its amounts as sent, rounded once.

Talon.One may send amounts with more decimals than the currency has (``0.1485`` off each of
1,000 units). The quote rounds each effect (0.15 x 1,000 = 150.00 charged); Talon.One books
148.50. The booked side used to be built by the same per-effect rounding as the charged side,
so the ledger said booked = charged and the 1.50 never showed. Now a difference of a minor
unit or more is a discrepancy, one below it is none, and amounts in whole cents reconcile as
before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.models import Discrepancy, LedgerEntry
from django_talon.services.ledger import BOOKED, CANCELLED, CHARGED, booked_amounts
from django_talon.services.reconciliation import book_answer
from tests.core.conftest import make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

SESSION = "rounding-session"
PENNY = {"sku": "PENNY", "name": "Penny", "price": 0.99, "quantity": 1000, "position": 0}


def per_unit(value: float, units: int, campaign: int = 2) -> list[dict[str, Any]]:
    """``setDiscountPerItem`` of ``value`` on each unit of line 0 (Talon.One flattens them)."""
    return [
        {
            "campaignId": campaign,
            "rulesetId": 1,
            "ruleIndex": 0,
            "ruleName": "15% off each penny",
            "effectType": "setDiscountPerItem",
            "props": {
                "name": f"15% off each penny#0.{i}",
                "value": value,
                "position": 0,
                "subPosition": i,
            },
        }
        for i in range(units)
    ]


def rollbacks(value: float, units: int, campaign: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "campaignId": campaign,
            "rulesetId": 1,
            "ruleIndex": 0,
            "ruleName": "15% off each penny",
            "effectType": "rollbackDiscount",
            "props": {
                "name": f"15% off each penny#0.{i}",
                "value": value,
                "cartItemPosition": 0,
                "cartItemSubPosition": i,
            },
        }
        for i in range(units)
    ]


def charged(amounts: dict[str, str], items: list[dict[str, Any]]) -> LedgerEntry:
    """The charged entry as the quote records it (each effect rounded to the cent)."""
    entry: LedgerEntry = LedgerEntry.objects.create(
        order_key="shopapp.order:1",
        session_id=SESSION,
        kind=CHARGED,
        currency="EUR",
        quote_status="confirmed",
        discounts_by_campaign=amounts,
        cart_items=items,
    )
    return entry


def test_sub_unit_amounts_booked_for_less_are_a_discrepancy_with_the_reason_in_the_note(
    shop_settings: Any,
) -> None:
    charged({"2": "150.00"}, [PENNY])  # 1,000 x round(0.1485) = 1,000 x 0.15
    booked = book_answer(BOOKED, SESSION, per_unit(0.1485, 1000), sent={"cartItems": [PENNY]})

    assert booked.discounts_by_campaign == {"2": "148.50"}
    assert booked.discount_total == Decimal("148.50")
    assert booked.total == Decimal("990.00") - Decimal("148.50")
    assert "sub-unit amounts" in booked.note
    assert "campaign 2: 148.5000 sent, 148.50 booked, 150.00 with each effect rounded" in (
        booked.note
    )
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.entry == booked
    assert (discrepancy.charged_discount, discrepancy.booked_discount) == (150, Decimal("148.5"))
    assert discrepancy.difference == Decimal("-1.50")
    assert discrepancy.charged_by_campaign == {"2": "150.00"}
    assert discrepancy.booked_by_campaign == {"2": "148.50"}
    # named as what it is (it read "campaign changed", sending the operator to the
    # Campaign Manager for a campaign nobody edited)
    assert discrepancy.reason == "sub_unit_rounding"
    assert "the quote rounded each effect" in discrepancy.detail


def test_rolling_back_the_sub_unit_amounts_takes_back_what_was_booked(
    shop_settings: Any,
) -> None:
    """Rollbacks are summed as sent too: 1,000 x 0.1485 takes back the 148.50 booked (each
    rounded it was 150.00, and the cancel looked like it took back more than was booked)."""
    charged({"2": "148.50"}, [PENNY])  # a shop that charged Talon.One's figure
    book_answer(BOOKED, SESSION, per_unit(0.1485, 1000), sent={"cartItems": [PENNY]})
    assert not Discrepancy.objects.exists()

    cancelled = book_answer(CANCELLED, SESSION, rollbacks(0.1485, 1000))

    assert cancelled.discounts_by_campaign == {"2": "148.50"}
    assert not Discrepancy.objects.exists(), "nothing stays booked, nothing overdrawn"


def test_a_difference_below_one_minor_unit_is_no_discrepancy(shop_settings: Any) -> None:
    one = {**PENNY, "quantity": 1}
    charged({"2": "0.15"}, [one])
    booked = book_answer(BOOKED, SESSION, per_unit(0.1485, 1), sent={"cartItems": [one]})

    assert booked.discounts_by_campaign == {"2": "0.15"}
    assert booked.note == ""
    assert not Discrepancy.objects.exists()


def test_amounts_in_whole_cents_reconcile_as_before(shop_settings: Any) -> None:
    items = [{**PENNY, "quantity": 3, "price": 8.5}]
    cart_discount = {
        "campaignId": 1,
        "rulesetId": 1,
        "ruleIndex": 0,
        "ruleName": "10% off",
        "effectType": "setDiscount",
        "props": {"name": "10% off", "value": 2.3},
    }
    charged({"1": "2.30", "2": "3.75"}, items)
    booked = book_answer(
        BOOKED, SESSION, [cart_discount, *per_unit(1.25, 3)], sent={"cartItems": items}
    )

    assert booked.discounts_by_campaign == {"1": "2.30", "2": "3.75"}
    assert booked.discount_total == Decimal("6.05")
    assert booked.note == ""
    assert not Discrepancy.objects.exists()


def test_booked_amounts_leave_out_what_the_summary_sets_aside(shop_settings: Any) -> None:
    """An unusable amount (NaN, negative) or a discount without a value is not booked money
    in the summary, so it is not in the booked amounts either."""
    effects = [
        *per_unit(0.1485, 10),
        {"campaignId": 3, "effectType": "setDiscount", "props": {"name": "x", "value": -5}},
        {"campaignId": 4, "effectType": "setDiscount", "props": {"name": "no value"}},
        {"campaignId": 5, "effectType": "setDiscount", "props": {"name": "y", "value": 0.005}},
        {"campaignId": 5, "effectType": "setDiscount", "props": {"name": "z", "value": 0.005}},
    ]
    assert booked_amounts(effects, [PENNY], "EUR") == {
        "2": Decimal("1.49"),  # 1.485 rounded once (each rounded: 1.50)
        "5": Decimal("0.01"),  # 0.010 (each rounded: 0.02)
    }


# -- end to end: the emulator booking sub-unit amounts ----------------------------------------
PENNY_CAMPAIGNS = {
    "application": {"id": 1, "name": "Sub-unit shop", "currency": "EUR"},
    "campaigns": [
        {
            "id": 2,
            "name": "Penny 15 pct",
            "conditions": [{"type": "containsSku", "sku": "PENNY"}],
            "effects": [{"type": "setDiscountPerItem", "percent": 15, "sku": "PENNY"}],
        }
    ],
}


@pytest.fixture
def sub_unit_emulator(shop: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator with the penny campaign, sending amounts with 4 decimals (as Talon.One
    may: the rule engine computes in the Application's currency without rounding it)."""
    import django_talon.emulator.engine.effects as effects

    monkeypatch.setattr(effects, "round_cents", lambda v: round(v, 4))
    monkeypatch.setattr(effects, "money", lambda v: 0.0 if round(v, 4) == 0 else round(v, 4))
    shop.control.load_campaigns(PENNY_CAMPAIGNS)
    return shop


def test_an_order_whose_close_books_sub_unit_amounts_has_its_difference_recorded(
    sub_unit_emulator: Any,
) -> None:
    cart = make_cart(items=[("PENNY", "Penny", "0.99", 1000, "misc")])
    order = Order.objects.create(cart=cart, status="paid")

    charged_entry, booked = LedgerEntry.objects.order_by("id")
    assert (charged_entry.kind, booked.kind) == ("charged", "booked")
    assert charged_entry.discounts_by_campaign == {"2": "150.00"}  # what the shop charged
    assert booked.discounts_by_campaign == {"2": "148.50"}  # what Talon.One booked
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.order_key == f"shopapp.order:{order.pk}"
    assert discrepancy.difference == Decimal("-1.50")
    assert discrepancy.reason == "sub_unit_rounding"
    assert "sub-unit amounts" in booked.note

    order.status = "cancelled"
    order.save()
    cancelled = LedgerEntry.objects.get(kind="cancelled")
    assert cancelled.discounts_by_campaign == {"2": "148.50"}
    assert Discrepancy.objects.count() == 1, "the cancel takes back exactly what was booked"


def test_a_recheck_keeps_a_sub_unit_difference_open(
    shop_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-check reads the session again and sums its amounts as the close did: rounding
    each effect there made booked = charged and resolved the 1.50 Talon.One never booked."""
    from types import SimpleNamespace

    from django_talon import resilience, services

    charged({"2": "150.00"}, [PENNY])
    book_answer(BOOKED, SESSION, per_unit(0.1485, 1000), sent={"cartItems": [PENNY]})
    discrepancy = Discrepancy.objects.get()
    reads: list[str] = []

    def get_customer_session(session_id: str) -> Any:
        reads.append(session_id)
        return SimpleNamespace(raw={"effects": per_unit(0.1485, 1000)})

    client = SimpleNamespace(get_customer_session=get_customer_session)
    monkeypatch.setattr(resilience, "get_client", lambda **kw: client)

    assert services.recheck_discrepancy(discrepancy) is False
    assert reads == [SESSION]
    discrepancy.refresh_from_db()
    assert discrepancy.status == "open" and discrepancy.checked_at is not None
