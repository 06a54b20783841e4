"""Array query filters in both forms, a call log that keeps every value, and numbers too
large for a float.

- The achievement reads take their filters comma-separated (the spec's ``explode: false``,
  which the client now sends) and, as before, with the key repeated.
- The call log's ``query`` keeps one value per name; ``query_lists`` keeps them all (the
  loyalty reads' exploded filters repeat the key).
- A 401-digit integer price made ``float()`` raise ``OverflowError``: a 500. It is a 400
  "must be a number", as for any value the API cannot hold.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon.client import TalonClient
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import Raw

TWO_ACHIEVEMENTS: dict[str, Any] = {
    "achievements": [
        {"id": 1, "name": "Coffee", "title": "Coffee", "campaignId": 5, "target": 3},
        {"id": 2, "name": "Tea", "title": "Tea", "campaignId": 6, "target": 2},
        {"id": 3, "name": "Cake", "title": "Cake", "campaignId": 7, "target": 1},
    ],
    "campaigns": [
        {"id": 5, "name": "coffee", "effects": []},
        {"id": 6, "name": "tea", "effects": []},
        {"id": 7, "name": "cake", "effects": []},
    ],
}


@pytest.fixture
def ada(emulator: EmulatorHandle, client: TalonClient) -> TalonClient:
    emulator.load_campaigns(TWO_ACHIEVEMENTS)
    client.update_customer_profile_v2("ada", {})
    return client


def _names(raw: Raw, query: str) -> list[str]:
    answer = raw("GET", f"/v1/customer_profiles/ada/achievements?{query}")
    assert answer.status_code == 200, answer.text
    return [row["name"] for row in answer.json()["data"]]


@pytest.mark.parametrize(
    "query",
    [
        "campaignIds=5,6",
        "campaignIds=5%2C6",
        "campaignIds=5&campaignIds=6",
        "achievementIds=1,2",
        "achievementIds=1&achievementIds=2",
        "campaignIds=5,6,7&achievementIds=2,1",
    ],
)
def test_achievement_filters_in_either_form(ada: TalonClient, raw: Raw, query: str) -> None:
    assert sorted(_names(raw, query)) == ["Coffee", "Tea"]


def test_the_clients_comma_form_filters(ada: TalonClient, emulator: EmulatorHandle) -> None:
    emulator.server.app.clear_calls()
    page = ada.get_customer_achievements("ada", campaign_ids=[6, 7], achievement_status=["active"])
    assert sorted(a.name for a in page.data) == ["Cake", "Tea"]
    (call,) = emulator.server.app.call_log("/v1/customer_profiles/ada/achievements")
    assert call["query"] == {"campaignIds": "6,7", "achievementStatus": "active"}


def test_the_call_log_keeps_every_value_of_a_repeated_key(
    ada: TalonClient, raw: Raw, emulator: EmulatorHandle
) -> None:
    emulator.server.app.clear_calls()
    _names(raw, "campaignIds=5&campaignIds=6&pageSize=10")
    (call,) = emulator.server.app.call_log()
    assert call["query_lists"] == {"campaignIds": ["5", "6"], "pageSize": ["10"]}
    assert call["query"]["pageSize"] == "10"
    (over_http,) = emulator.control.requests()
    assert over_http["query_lists"] == call["query_lists"]


def test_an_integer_too_large_for_a_float_is_a_400(raw: Raw) -> None:
    price = "9" * 401
    data = (
        '{"customerSession": {"profileId": "p", "cartItems": '
        f'[{{"sku": "A", "price": {price}, "quantity": 1}}]}}}}'
    ).encode()
    answer = raw(
        "PUT", "/v2/customer_sessions/s1", data=data, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["source"]["pointer"] == "/customerSession/cartItems/0/price"
