"""Erasure purges what docs/gdpr.md lists for the customer's *sessions* too (their
attributes, referral codes and the stored effects that repeat them), and voids their queued
writes, against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import services
from django_talon.models import CustomerSession, OutboxMessage, Referral
from tests.core.conftest import ESPRESSO, make_cart

pytestmark = pytest.mark.django_db(transaction=True)


def test_erasure_clears_session_attributes_and_referral_codes(
    shop: Any, django_user_model: Any
) -> None:
    advocate = django_user_model.objects.create_user("adv", "adv@example.com", "pw")
    referral = services.create_referral(advocate, 5)
    user = django_user_model.objects.create_user("gone", "gone@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    session = services.apply_referral(cart, referral.code)
    assert session.referral_code == referral.code  # accepted, so there is something to erase
    CustomerSession.objects.filter(pk=session.pk).update(attributes={"email": "gone@x.test"})
    services.erase_customer(user, requested_by="test")

    session.refresh_from_db()
    assert session.attributes == {} and session.referral_code == ""
    # The stored effects repeated the code (acceptReferral): they go too.
    assert session.effects == [] and referral.code not in str(session.effects)
    assert not OutboxMessage.objects.filter(state="pending").exists()  # erasure confirmed
    assert Referral.objects.filter(pk=referral.pk).exists()  # the advocate's, not erased
    deletes = shop.control.requests(f"/v1/customer_data/user-{user.pk}")
    assert [r["method"] for r in deletes] == ["DELETE"]
