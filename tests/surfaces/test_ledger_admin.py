"""Admin pages of the order ledger: the discrepancy list with its filters, the side-by-side
detail page, the re-check action and who may see or run what."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client

from django_talon import services
from django_talon.models import Discrepancy, LedgerEntry
from tests.shopapp.models import Order
from tests.surfaces.conftest import GRINDER, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN = "/admin/django_talon/"


def staff_client(django_user_model: Any, name: str, *codenames: str) -> Client:
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_talon", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def discrepancy(shop: Any) -> Discrepancy:
    """WELCOME10 quoted at 10%, the campaign changed to 5% before the close."""
    cart = make_cart(items=[GRINDER])
    services.apply_coupon(cart, "WELCOME10")
    welcome = shop.server.app.store.campaign_by_id[1]
    welcome.effects = [{**welcome.effects[0], "percent": 5}]
    Order.objects.create(cart=cart, status="paid")
    found: Discrepancy = Discrepancy.objects.get()
    return found


def test_list_filters_and_side_by_side_detail(
    discrepancy: Discrepancy, django_user_model: Any
) -> None:
    viewer = staff_client(django_user_model, "support", "view_discrepancy", "view_ledgerentry")
    page = viewer.get(ADMIN + "discrepancy/")
    assert page.status_code == 200
    assert discrepancy.order_key in page.content.decode()
    filtered = viewer.get(ADMIN + "discrepancy/?reason__exact=campaign_changed")
    assert discrepancy.order_key in filtered.content.decode()
    other = viewer.get(ADMIN + "discrepancy/?reason__exact=budget_exhausted")
    assert discrepancy.order_key not in other.content.decode()
    assert viewer.get(ADMIN + "discrepancy/?status__exact=open").status_code == 200

    detail = viewer.get(ADMIN + f"discrepancy/{discrepancy.pk}/change/").content.decode()
    # One row per campaign: charged 8.90, booked 4.45, difference -4.45; then the totals.
    assert "<td>1</td><td>8.90</td><td>4.45</td><td>-4.45</td>" in detail
    assert "charged (quote)" in detail and "booked (effects)" in detail
    assert "campaign 1: charged 8.90, booked 4.45" in detail
    charged = LedgerEntry.objects.get(kind="charged")
    assert f"{ADMIN}ledgerentry/{charged.pk}/change/" in detail
    entry = viewer.get(ADMIN + f"ledgerentry/{charged.pk}/change/")
    assert entry.status_code == 200 and "WELCOME10" in entry.content.decode()
    ledger = viewer.get(ADMIN + "ledgerentry/?kind__exact=booked").content.decode()
    assert discrepancy.order_key in ledger


def test_ledger_is_read_only_even_for_superusers(
    discrepancy: Discrepancy, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    entry = LedgerEntry.objects.get(kind="charged")
    assert client.get(ADMIN + "ledgerentry/add/").status_code == 403
    assert client.get(ADMIN + f"ledgerentry/{entry.pk}/delete/").status_code == 403
    assert client.post(ADMIN + f"ledgerentry/{entry.pk}/change/", {"note": "x"}).status_code == 403
    assert client.get(ADMIN + f"discrepancy/{discrepancy.pk}/delete/").status_code == 403
    entry.refresh_from_db()
    assert entry.note == ""


def test_staff_without_the_permission_see_nothing(
    discrepancy: Discrepancy, django_user_model: Any
) -> None:
    nobody = staff_client(django_user_model, "staff")
    assert nobody.get(ADMIN + "discrepancy/").status_code == 403
    assert nobody.get(ADMIN + f"discrepancy/{discrepancy.pk}/change/").status_code == 403
    assert nobody.get(ADMIN + "ledgerentry/").status_code == 403
    customer = django_user_model.objects.create_user("cust", password="pw")
    client = Client()
    client.force_login(customer)
    assert client.get(ADMIN + "discrepancy/").status_code == 302  # to the login page


def test_recheck_action_needs_the_change_permission(
    shop: Any, discrepancy: Discrepancy, django_user_model: Any
) -> None:
    viewer = staff_client(django_user_model, "support", "view_discrepancy")
    shop.control.clear_requests()
    post = {"action": "recheck", ACTION_CHECKBOX_NAME: [discrepancy.pk]}
    assert viewer.get(ADMIN + "discrepancy/").context["action_form"] is None  # not offered
    assert viewer.post(ADMIN + "discrepancy/", post).status_code == 200  # not run either
    assert shop.control.requests("/v2/customer_sessions/") == []

    operator = staff_client(django_user_model, "operator", "view_discrepancy", "change_discrepancy")
    answer = operator.post(ADMIN + "discrepancy/", post, follow=True)
    assert answer.status_code == 200
    assert "0 discrepancies resolved by the re-check" in answer.content.decode()
    gets = [r for r in shop.control.requests("/v2/customer_sessions/") if r["method"] == "GET"]
    assert len(gets) == 1
    discrepancy.refresh_from_db()
    assert discrepancy.checked_at is not None and discrepancy.status == "open"


def test_ledger_amounts_show_in_the_entrys_currency(
    discrepancy: Discrepancy, django_user_model: Any
) -> None:
    """The list and the entry page showed the stored columns as they are: 80.1000 for an
    80.10 EUR order (a KWD entry would need its three decimals, a JPY one none)."""
    viewer = staff_client(django_user_model, "support", "view_ledgerentry")
    charged = LedgerEntry.objects.get(kind="charged")
    listing = viewer.get(ADMIN + "ledgerentry/").content.decode()
    detail = viewer.get(ADMIN + f"ledgerentry/{charged.pk}/change/").content.decode()
    assert "80.10" in listing and "80.1000" not in listing
    assert "89.00" in detail and "89.0000" not in detail and "8.90" in detail
    LedgerEntry.objects.filter(pk=charged.pk).update(currency="KWD", total="80.1234")
    assert "80.123" in viewer.get(ADMIN + "ledgerentry/").content.decode()


def test_the_discrepancy_list_shows_amounts_in_their_currency(
    discrepancy: Discrepancy, django_user_model: Any
) -> None:
    """The discrepancy list showed its stored columns with 4 decimals ("-4.4500")."""
    viewer = staff_client(django_user_model, "support", "view_discrepancy")
    listing = viewer.get(ADMIN + "discrepancy/").content.decode()
    difference = f"{discrepancy.difference:.2f}"
    assert difference in listing and f"{discrepancy.difference:.4f}" not in listing
    Discrepancy.objects.filter(pk=discrepancy.pk).update(currency="KWD", difference="-4.4567")
    assert "-4.457" in viewer.get(ADMIN + "discrepancy/").content.decode()
