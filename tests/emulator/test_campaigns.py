"""Campaign files: the shipped demo file, TOML, and clear errors for invalid campaigns."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from django_talon.emulator import DEMO_CAMPAIGNS, CampaignFileError, load_campaigns
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, FILTER, Raw


def test_demo_file_holds_the_seven_pinned_campaigns() -> None:
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
    ]
    loaded = load_campaigns(None)
    assert [c.id for c in loaded.campaigns] == [1, 2, 3, 4, 5, 6, 7]
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
