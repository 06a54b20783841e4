"""Discrepancies in a 3-decimal currency (KWD) keep their minor unit in ``talon_reconcile
list`` and on the admin's "charged and booked" table: a 0.005 gap must not show as 0.00."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from django_talon.models import Discrepancy, LedgerEntry

pytestmark = pytest.mark.django_db


def kwd_discrepancy(charged: str = "10.125", booked: str = "10.130") -> Discrepancy:
    """A discrepancy as reconciliation records it, without a shop round trip."""
    entry = LedgerEntry.objects.create(session_id="s-kwd", kind="charged", currency="KWD")
    booked_entry = LedgerEntry.objects.create(session_id="s-kwd", kind="booked", currency="KWD")
    found: Discrepancy = Discrepancy.objects.create(
        session_id="s-kwd",
        order_key="shopapp.order:7",
        charged_entry=entry,
        entry=booked_entry,
        reason="campaign_changed",
        currency="KWD",
        charged_discount=Decimal(charged),
        booked_discount=Decimal(booked),
        difference=Decimal(booked) - Decimal(charged),
        charged_by_campaign={"1": charged},
        booked_by_campaign={"1": booked},
    )
    return found


def test_list_prints_the_currencys_three_decimals() -> None:
    kwd_discrepancy()
    out = StringIO()
    call_command("talon_reconcile", "list", stdout=out)
    assert "charged 10.125, booked 10.130 KWD" in out.getvalue()


def admin_page(django_user_model: Any, discrepancy: Discrepancy) -> str:
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    response = client.get(f"/admin/django_talon/discrepancy/{discrepancy.pk}/change/")
    assert response.status_code == 200
    return str(response.content.decode())


def test_admin_table_shows_the_half_fils_gap(django_user_model: Any) -> None:
    page = admin_page(django_user_model, kwd_discrepancy())
    assert "<td>1</td><td>10.125</td><td>10.130</td><td>0.005</td>" in page
    assert "<td>total</td><td>10.125</td><td>10.130</td><td>0.005</td>" in page


def test_admin_table_is_localized(settings: Any, django_user_model: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    settings.USE_THOUSAND_SEPARATOR = True
    discrepancy = kwd_discrepancy(charged="1234.125", booked="1234.130")
    with translation.override("de"):
        page = admin_page(django_user_model, discrepancy)
    assert "<td>1.234,125</td><td>1.234,130</td><td>0,005</td>" in page


def test_admin_table_survives_a_malformed_stored_amount(django_user_model: Any) -> None:
    discrepancy = kwd_discrepancy()
    Discrepancy.objects.filter(pk=discrepancy.pk).update(booked_by_campaign={"1": "n/a"})
    discrepancy.refresh_from_db()
    page = admin_page(django_user_model, discrepancy)
    assert "<td>1</td><td>10.125</td><td>0.000</td><td>-10.125</td>" in page
