"""With a key Talon.One refuses (a real 401 from the emulator), the key appears in no stored
error, no admin page and no log line. (test_admin's check alone cannot fail: there the key
never reaches any stored data.)"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from django_talon import services
from django_talon.models import CustomerProfile, CustomerSession, OutboxMessage
from tests.surfaces.conftest import ESPRESSO, make_cart

pytestmark = pytest.mark.django_db(transaction=True)

WRONG_KEY = "wrong-key-7f3a9c"


def test_refused_key_is_never_shown(
    shop: Any, settings: Any, caplog: Any, django_user_model: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.TALON = {**settings.TALON, "API_KEY": WRONG_KEY}
    user = django_user_model.objects.create_user("ann", password="pw")
    services.apply_coupon(make_cart(user, [ESPRESSO]), "WELCOME10")

    errors = [
        *OutboxMessage.objects.values_list("last_error", flat=True),
        *CustomerSession.objects.values_list("last_error", flat=True),
        *CustomerProfile.objects.values_list("last_error", flat=True),
    ]
    assert any("401" in e for e in errors), errors  # the refusal really happened
    assert not any(WRONG_KEY in e for e in errors)
    assert WRONG_KEY not in caplog.text

    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", "r@x.test", "pw"))
    session = CustomerSession.objects.get()
    message = OutboxMessage.objects.filter(key__startswith="session:").first()
    assert message is not None
    for page in (
        "/admin/django_talon/outboxmessage/",
        f"/admin/django_talon/outboxmessage/{message.pk}/change/",
        f"/admin/django_talon/customersession/{session.pk}/change/",
        "/admin/django_talon/customerprofile/",
    ):
        response = admin.get(page)
        assert response.status_code == 200, page
        assert b"401" in response.content or page.endswith("profile/"), page
        assert WRONG_KEY.encode() not in response.content, page
