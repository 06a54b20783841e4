"""{% load talon %}: partials render stored effects; no API call, bounded queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from django_talon.models import CouponReservation
from django_talon.promotions import remember_inventory
from django_talon.services import profile_for_user
from tests.surfaces.helpers import effect, make_session, request_for

pytestmark = pytest.mark.django_db

EFFECTS = [
    effect("setDiscount", 1, name="Welcome 10%", value=10.6),
    effect("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0, subPosition=0),
    effect("setDiscountPerItem", 4, name="Coffee#0", value=1.0, position=0, subPosition=1),
    effect("acceptCoupon", 1, value="WELCOME10"),
    effect("rejectCoupon", 3, value="VIP20", rejectionReason="CouponReservationRequired"),
    effect("addFreeItem", 2, sku="FREE-TOTE", name="Canvas tote bag"),
    effect("addLoyaltyPoints", 6, name="Coffee Club", programId=1, subLedgerId="", value=106,
           recipientIntegrationId="u1", transactionUUID="t"),
    effect("showNotification", 7, notificationType="Info", title="Tote",
           body="Spend 100 EUR, get a free tote bag"),
]  # fmt: skip


def render(source: str, request: Any, **ctx: Any) -> str:
    return Template("{% load talon %}" + source).render(Context({"request": request, **ctx}))


def test_cart_summary_shows_lines_discounts_and_totals() -> None:
    session = make_session(effects=EFFECTS, coupon_codes=["WELCOME10"])
    html = render("{% talon_cart_summary %}", request_for(session))
    assert "Welcome 10%" in html
    assert "-10.60 EUR" in html
    assert "-2.00 EUR" in html  # coffee line discount
    assert "15.00 EUR" in html  # coffee line after discount
    assert "106.00 EUR" in html  # subtotal
    assert "-12.60 EUR" in html  # total discount
    assert "93.40 EUR" in html  # total after discounts
    assert "Canvas tote bag" in html and "not in your cart yet" in html


def test_coupon_form_lists_codes_with_messages_and_forms() -> None:
    session = make_session(effects=EFFECTS, coupon_codes=["WELCOME10", "LATER"])
    html = render("{% talon_coupon_form %}", request_for(session))
    assert 'action="/talon/coupon/apply/"' in html
    assert 'action="/talon/coupon/remove/"' in html
    assert "talon-coupon-accepted" in html and "WELCOME10" in html
    assert "Coupon VIP20 is reserved for selected customers" in html
    assert "talon-coupon-pending" in html and "LATER" in html
    assert 'name="next" value="/cart/"' in html
    assert 'name="code" value="WELCOME10"' in html  # remove button for an applied code
    assert 'name="code" value="VIP20"' not in html  # a rejected code has nothing to remove


def test_notifications_loyalty_and_assignment_tags() -> None:
    session = make_session(effects=EFFECTS)
    request = request_for(session)
    html = render(
        "{% talon_notifications %}{% talon_loyalty %}"
        "{% talon_promotions as p %}[{{ p.total|talon_money:p.currency }}]"
        "{% talon_line p 0 as line %}<{{ line.discount }}>",
        request,
    )
    assert "Spend 100 EUR, get a free tote bag" in html
    assert "This order earns you 106 points." in html
    assert "[93.40 EUR]" in html
    assert "<2.00>" in html


def test_empty_cart_and_no_session_render_plainly() -> None:
    html = render("{% talon_cart_summary %}{% talon_coupon_form %}", request_for(None))
    assert "0.00 EUR" in html
    assert "talon-coupon-list" not in html


def test_stale_effects_are_not_shown() -> None:
    from datetime import timedelta

    from django.utils import timezone

    session = make_session(effects=EFFECTS)
    session.effects_received_at = timezone.now() - timedelta(days=3)
    session.save()
    html = render("{% talon_cart_summary %}", request_for(session))
    assert "Welcome 10%" not in html
    assert "being updated" in html
    assert "106.00 EUR" in html


def test_reserved_coupons_and_loyalty_balance_for_signed_in_user(
    django_user_model: Any,
) -> None:
    user = django_user_model.objects.create_user("ann", password="x")
    other = django_user_model.objects.create_user("bob", password="x")
    profile = profile_for_user(user)
    other_profile = profile_for_user(other)
    accepted = timezone.now()  # only reservations Talon.One accepted are shown
    CouponReservation.objects.create(profile=profile, coupon_code="VIP20", synced_at=accepted)
    CouponReservation.objects.create(profile=profile, coupon_code="QUEUED1")
    CouponReservation.objects.create(
        profile=other_profile, coupon_code="BOBONLY", synced_at=accepted
    )
    remember_inventory(
        profile.integration_id,
        {"loyalty": {"programs": {"1": {"id": 1, "title": "Coffee Club",
                                       "ledger": {"currentBalance": 42.5}}}}},
    )  # fmt: skip
    html = render("{% talon_reserved_coupons %}{% talon_loyalty %}", request_for(None, user))
    assert "VIP20" in html and "BOBONLY" not in html and "QUEUED1" not in html
    assert "Coffee Club: 42.50 points" in html


def test_templates_are_overridable_per_call() -> None:
    session = make_session(effects=EFFECTS)
    html = render(
        '{% talon_notifications template="django_talon/loyalty.html" %}', request_for(session)
    )
    assert "106 points" in html


@override_settings(LANGUAGE_CODE="en", USE_THOUSAND_SEPARATOR=True)
def test_money_filter_uses_minor_units() -> None:
    html = render("{{ a|talon_money:'JPY' }}|{{ b|talon_money }}|{{ none|talon_money }}", None,
                  a=Decimal("1234.5"), b="1234.5")  # fmt: skip
    assert html == "1,235 JPY|1,234.50 EUR|"


def test_rendering_everything_costs_bounded_queries(
    django_assert_max_num_queries: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("ann", password="x")
    profile = profile_for_user(user)
    session = make_session(effects=EFFECTS, profile=profile)
    request = request_for(session, user)
    # session (1) + reservations (1) + profile for the loyalty balance (1)
    with django_assert_max_num_queries(3):
        html = render(
            "{% talon_cart_summary %}{% talon_coupon_form %}{% talon_referral_form %}"
            "{% talon_reserved_coupons %}{% talon_loyalty %}{% talon_notifications %}"
            "{% talon_promotions as p %}{% talon_cart_summary p %}",
            request,
        )
    assert "93.40 EUR" in html
