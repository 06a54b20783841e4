"""A customer inventory answer of the wrong shape never turns into a 500.

Served by a real local HTTP server (the emulator only answers well-formed inventories):
the REST endpoint, the service and the loyalty tag keep the well-formed parts and drop the
rest.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from django_talon.services import customer_inventory, profile_for_user
from tests.client.support import JSONHandler, serve_http

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_PROGRAM = {"id": 1, "title": "Coffee Club", "ledger": {"currentBalance": 42.5}}
BROKEN = [
    {"coupons": 5, "referrals": True, "loyalty": 3},
    {"coupons": {"value": "X"}, "referrals": "abc", "loyalty": {"programs": 7}},
    {"loyalty": {"programs": {"1": GOOD_PROGRAM, "2": {"ledger": 5}, "3": "x"}}},
    {"loyalty": {"programs": {"1": GOOD_PROGRAM, "2": {"ledger": [1]}}}},
]


def serving(body: dict[str, Any]) -> type[JSONHandler]:
    class Handler(JSONHandler):
        def do_GET(self) -> None:
            self.send_json(200, body)

    return Handler


@pytest.mark.parametrize("body", BROKEN, ids=[json.dumps(b)[:40] for b in BROKEN])
def test_wrong_shapes_are_dropped_not_a_500(
    settings: Any, django_user_model: Any, body: dict[str, Any]
) -> None:
    settings.TALON = {**settings.TALON, "SYNC_PROFILES_ON_SAVE": False}
    user = django_user_model.objects.create_user("ann", password="pw")
    profile_for_user(user)
    client = Client()
    client.force_login(user)
    with serve_http(serving(body)) as url:
        settings.TALON = {**settings.TALON, "BASE_URL": url, "API_KEY": "k"}
        response = client.get("/api/talon/me/inventory/")
        inventory = customer_inventory(user)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["coupons"] == [] and data["referrals"] == []
    assert inventory.coupons == [] and inventory.referrals == []
    balances = {b.program_id: str(b.current) for b in inventory.loyalty_balances}
    if "programs" in str(body) and isinstance(body["loyalty"]["programs"], dict):
        # The well-formed programme keeps its balance; one with a broken ledger shows 0
        # (as one without a ledger does); a programme that is not an object is skipped.
        assert balances == {1: "42.5", 2: "0"}
    else:
        assert balances == {}
