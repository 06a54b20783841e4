"""Campaign files: the shipped demo file, TOML, clear errors for invalid campaigns, and each
condition type both met and missed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from django_talon.client import TalonClient
from django_talon.emulator import DEMO_CAMPAIGNS, CampaignFileError, load_campaigns
from django_talon.emulator.rules import CONDITION_TYPES
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, FILTER, GRINDER, Raw


def test_demo_file_holds_the_pinned_campaigns() -> None:
    data = json.loads(DEMO_CAMPAIGNS.read_text())
    assert data["application"]["currency"] == "EUR"
    assert [(c["id"], c["name"]) for c in data["campaigns"]] == [
        (1, "Welcome 10%"),
        (2, "Free tote over 100"),
        (3, "VIP 20%"),
        (4, "Coffee 1 off each"),
        (5, "Refer a friend"),
        (6, "Coffee Club points"),
        (7, "Free shipping notice"),
        (8, "Free shipping over 50"),
        (9, "Pay with points"),
    ]
    loaded = load_campaigns(None)
    assert [c.id for c in loaded.campaigns] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert [s.value for s in loaded.coupons[1]] == ["WELCOME10"]
    assert loaded.coupons[3][0].reservation_mandatory is True


def test_vip_coupon_needs_a_reservation(emulator: EmulatorHandle, raw: Raw) -> None:
    body = {
        "customerSession": {
            "profileId": "v",
            "cartItems": [COFFEE, FILTER],
            "couponCodes": ["VIP20"],
        }
    }
    first = raw("PUT", "/v2/customer_sessions/s", json=body).json()
    assert {"value": "VIP20", "rejectionReason": "CouponReservationRequired"} in [
        e["props"] for e in first["effects"]
    ]
    raw("POST", "/v1/coupon_reservations/VIP20", json={"integrationIDs": ["v"]})
    second = raw("PUT", "/v2/customer_sessions/s", json=body).json()
    discounts = [e["props"] for e in second["effects"] if e["effectType"] == "setDiscount"]
    assert discounts == [{"name": "VIP 20%", "value": 8.2}]


def test_toml_campaign_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[application]\nid = 7\ncurrency = "USD"\n\n[[campaigns]]\nid = 1\nname = "Toml"\n'
        'trigger = "coupon"\ncoupons = ["TOML1"]\n[[campaigns.effects]]\ntype = "setDiscount"\n'
        "amount = 2\n"
    )
    if sys.version_info < (3, 11):  # no tomllib: a clear error instead
        with pytest.raises(CampaignFileError, match="Python 3.11"):
            load_campaigns(path)
        return
    loaded = load_campaigns(path)
    assert loaded.application_id == 7 and loaded.currency == "USD"
    assert loaded.coupons[1][0].value == "TOML1"


def test_toml_without_tomllib_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.10 (no ``tomllib``, simulated): the refusal was wrapped in a second
    "campaign file ... is not valid: ..." that called a valid file invalid."""
    path = tmp_path / "c.toml"
    path.write_text('[[campaigns]]\nid = 1\nname = "Toml"\n')
    monkeypatch.setitem(sys.modules, "tomllib", None)  # import tomllib: ModuleNotFoundError
    with pytest.raises(CampaignFileError) as refused:
        load_campaigns(path)
    message = str(refused.value)
    assert message.startswith(f"campaign file {path}: "), message
    assert message.count(str(path)) == 1, message
    assert message.count("TOML campaign files need Python 3.11+") == 1, message
    assert "not valid" not in message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"campaigns": {}}, "campaigns must be a list"),
        ([{"id": 1}], "campaigns[0].name is required"),
        ([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}], "positive and unique"),
        ([{"id": 1, "name": "a", "trigger": "magic"}], "trigger"),
        ([{"id": 1, "name": "a", "conditions": [{"type": "moonPhase"}]}], "conditions[0].type"),
        ([{"id": 1, "name": "a", "effects": [{"type": "setDiscount"}]}], "exactly one of percent"),
        ([{"id": 1, "name": "a", "coupons": ["ABCD"]}], "trigger is not 'coupon'"),
        ([{"id": 1, "name": "a", "trigger": "coupon", "coupons": ["ABC"]}], "4..100"),
        (
            [{"id": 1, "name": "a", "trigger": "coupon", "coupons": ["ABCD", "abcd"]}],
            "declared twice",
        ),
        ([{"id": 1, "name": "a", "startTime": "tomorrow"}], "startTime"),
    ],
)
def test_invalid_campaigns_fail_at_load_time(data: Any, message: str) -> None:
    with pytest.raises(
        CampaignFileError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")
    ):
        load_campaigns(data)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CampaignFileError, match="cannot read"):
        load_campaigns(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(CampaignFileError, match="not valid"):
        load_campaigns(broken)


def test_campaign_window_and_disabled_state(emulator: EmulatorHandle, raw: Raw) -> None:
    emulator.load_campaigns(
        [
            {
                "id": 1,
                "name": "Later",
                "startTime": "2999-01-01T00:00:00Z",
                "effects": [{"type": "showNotification", "body": "later"}],
            },
            {
                "id": 2,
                "name": "Over",
                "endTime": "2000-01-01T00:00:00Z",
                "effects": [{"type": "showNotification", "body": "over"}],
            },
            {
                "id": 3,
                "name": "Off",
                "state": "disabled",
                "effects": [{"type": "showNotification", "body": "off"}],
            },
            {
                "id": 4,
                "name": "On",
                "conditions": [
                    {"type": "itemQuantityAtLeast", "category": "coffee", "quantity": 2},
                    {"type": "containsSku", "sku": "ESPRESSO-250"},
                    {"type": "sessionAttributeEquals", "attribute": "ch", "value": "web"},
                    {"type": "firstSession"},
                    {"type": "profileRequired"},
                ],
                "effects": [{"type": "showNotification", "body": "on"}],
            },
        ]
    )
    body = {
        "customerSession": {"profileId": "p", "cartItems": [COFFEE], "attributes": {"ch": "web"}}
    }
    answer = raw("PUT", "/v2/customer_sessions/s", json=body).json()
    assert [e["props"]["body"] for e in answer["effects"]] == ["on"]
    body["customerSession"]["attributes"] = {"ch": "app"}
    answer = raw("PUT", "/v2/customer_sessions/s", json=body).json()
    assert answer["effects"] == []


def _known_profiles(client: TalonClient) -> None:
    """``gold`` (tier gold, in audience 1) and ``old`` (has had a session) for the conditions."""
    client.update_customer_profile_v2("gold", {"tier": "gold"}, audiences_changes={"adds": [1]})
    client.update_customer_profile_v2("plain", {"tier": "basic"})
    client.update_customer_session_v2("old-0", {"profileId": "old", "cartItems": [COFFEE]})
    client.sync_catalog(
        1, [{"type": "ADD", "payload": {"sku": FILTER["sku"], "attributes": {"fair": True}}}]
    )


ONE_COFFEE = {**COFFEE, "quantity": 1}
# condition -> (a session that meets it, one that does not); each condition alone in a campaign
CONDITION_CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "subtotalAtLeast": (
        {"amount": 17},
        {"cartItems": [COFFEE]},
        {"cartItems": [ONE_COFFEE]},
    ),
    "subtotalBelow": ({"amount": 20}, {"cartItems": [COFFEE]}, {"cartItems": [GRINDER]}),
    "containsSku": ({"sku": "ESPRESSO-250"}, {"cartItems": [COFFEE]}, {"cartItems": [GRINDER]}),
    "containsCategory": (
        {"category": "coffee"},
        {"cartItems": [GRINDER, FILTER]},
        {"cartItems": [GRINDER]},
    ),
    "itemQuantityAtLeast": (
        {"sku": "ESPRESSO-250", "quantity": 2},
        {"cartItems": [COFFEE]},
        {"cartItems": [ONE_COFFEE, FILTER]},
    ),
    "profileAttributeEquals": (
        {"attribute": "tier", "value": "gold"},
        {"profileId": "gold", "cartItems": [COFFEE]},
        {"profileId": "plain", "cartItems": [COFFEE]},
    ),
    "sessionAttributeEquals": (
        {"attribute": "ch", "value": "web"},
        {"cartItems": [COFFEE], "attributes": {"ch": "web"}},
        {"cartItems": [COFFEE], "attributes": {"ch": "app"}},
    ),
    "audienceMember": (
        {"audienceId": 1},
        {"profileId": "gold", "cartItems": [COFFEE]},
        {"profileId": "plain", "cartItems": [COFFEE]},
    ),
    "firstSession": (
        {},
        {"profileId": "newcomer", "cartItems": [COFFEE]},
        {"profileId": "old", "cartItems": [COFFEE]},
    ),
    "profileRequired": (
        {},
        {"profileId": "plain", "cartItems": [COFFEE]},
        {"cartItems": [COFFEE]},
    ),
    "catalogAttributeEquals": (
        {"attribute": "fair", "value": True},
        {"cartItems": [COFFEE, FILTER]},
        {"cartItems": [COFFEE]},
    ),
}
#: conditions on what only a custom event has (tests/emulator/test_ops_events.py)
EVENT_ONLY_CONDITIONS = {"eventAttributeEquals"}


def test_every_condition_type_has_a_case() -> None:
    assert sorted(CONDITION_CASES) == sorted(set(CONDITION_TYPES) - EVENT_ONLY_CONDITIONS)


@pytest.mark.parametrize("ctype", sorted(CONDITION_CASES))
def test_each_condition_type_decides(
    emulator: EmulatorHandle, client: TalonClient, ctype: str
) -> None:
    options, meets, misses = CONDITION_CASES[ctype]
    emulator.load_campaigns(
        {
            "audiences": [{"id": 1, "name": "Gold"}],
            "campaigns": [
                {
                    "id": 1,
                    "name": "Only if",
                    "conditions": [{"type": ctype, **options}],
                    "effects": [{"type": "showNotification", "body": "yes"}],
                }
            ],
        }
    )
    _known_profiles(client)
    hit = client.update_customer_session_v2("meets", meets)
    assert [e.effect_type for e in hit.effects] == ["showNotification"]
    assert client.update_customer_session_v2("misses", misses).effects == []


def test_first_session_condition_can_ask_for_returning_customers(
    emulator: EmulatorHandle, client: TalonClient
) -> None:
    emulator.load_campaigns(
        [
            {
                "id": 1,
                "name": "Welcome back",
                "conditions": [{"type": "firstSession", "value": False}],
                "effects": [{"type": "showNotification", "body": "back"}],
            }
        ]
    )
    first = client.update_customer_session_v2("a1", {"profileId": "ann", "cartItems": [COFFEE]})
    assert first.effects == []
    again = client.update_customer_session_v2("a2", {"profileId": "ann", "cartItems": [COFFEE]})
    assert [e.effect_type for e in again.effects] == ["showNotification"]
