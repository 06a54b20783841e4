"""Catalogs and the best prior price in the emulator (issue 15): sync actions with versions
and all-or-nothing semantics, item attributes in campaign conditions, and the price history
kept from catalog syncs and session updates. Over HTTP, answers validated against the spec."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from django_talon.client import TalonBadRequest, TalonClient
from django_talon.emulator.store.prices import MAX_OBSERVATIONS, PriceHistory
from django_talon.testing.plugin import EmulatorHandle
from tests.emulator.conftest import COFFEE, Raw, types

SOON = datetime.now(timezone.utc) + timedelta(days=1)


def add(sku: str, price: float | None = None, **attributes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"sku": sku, "attributes": attributes}
    if price is not None:
        payload["price"] = price
    return {"type": "ADD", "payload": payload}


def items(emulator: EmulatorHandle, catalog_id: int = 1) -> dict[str, Any]:
    store = emulator.server.app.store
    return {
        sku: (item.price, item.attributes) for sku, item in store.catalogs[catalog_id].items.items()
    }


def test_sync_actions_and_versions(client: TalonClient, emulator: EmulatorHandle) -> None:
    first = client.sync_catalog(1, [add("A", 10, color="red"), add("B", 20, color="blue")])
    assert first.id == 1 and first.version == 2 and first.subscribed_applications_ids
    client.sync_catalog(1, [{"type": "PATCH", "payload": {"sku": "A", "attributes": {"size": 1}}}])
    assert items(emulator)["A"] == (10, {"color": "red", "size": 1})
    patched = client.sync_catalog(
        1,
        [
            {
                "type": "PATCH_MANY",
                "payload": {
                    "filters": [{"attr": "color", "op": "IN", "value": ["red", "blue"]}],
                    "price": 5,
                },
            }
        ],
        version=3,
    )
    assert patched.version == 4
    assert {sku: p for sku, (p, _) in items(emulator).items()} == {"A": 5, "B": 5}
    client.sync_catalog(
        1,
        [
            {
                "type": "ADD",
                "payload": {"sku": "A", "attributes": {"color": "green"}, "replaceIfExists": True},
            }
        ],
    )
    assert items(emulator)["A"] == (5, {"color": "green"})  # replaced, price kept
    client.sync_catalog(
        1,
        [
            {
                "type": "REMOVE_MANY",
                "payload": {"filters": [{"attr": "color", "op": "EQ", "value": "blue"}]},
            }
        ],
    )
    assert set(items(emulator)) == {"A"}
    client.sync_catalog(1, [{"type": "REMOVE", "payload": {"sku": "A"}}])
    assert items(emulator) == {}
    with pytest.raises(TalonBadRequest):  # stale version
        client.sync_catalog(1, [add("C")], version=2)


def test_a_failing_action_leaves_the_catalog_unchanged(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    before = client.sync_catalog(2, [add("A", 1)])
    with pytest.raises(TalonBadRequest):  # A exists, no replaceIfExists
        client.sync_catalog(2, [add("B", 2), add("A", 3)])
    assert set(items(emulator, 2)) == {"A"}
    with pytest.raises(TalonBadRequest):
        client.sync_catalog(2, [{"type": "PATCH", "payload": {"sku": "nope"}}])
    with pytest.raises(TalonBadRequest):
        client.sync_catalog(2, [{"type": "REMOVE", "payload": {"sku": "nope"}}])
    created = client.sync_catalog(
        2, [{"type": "PATCH", "payload": {"sku": "new", "createIfNotExists": True}}]
    )
    assert created.version == (before.version or 0) + 1
    unchanged = client.sync_catalog(
        2,
        [
            {
                "type": "REMOVE_MANY",
                "payload": {"filters": [{"attr": "color", "op": "EQ", "value": "none"}]},
            }
        ],
    )
    assert unchanged.version == created.version  # nothing matched: no new version


def test_numeric_filters(client: TalonClient, emulator: EmulatorHandle) -> None:
    client.sync_catalog(1, [add("A", 1, weight=100), add("B", 2, weight=500), add("C", 3)])
    client.sync_catalog(
        1,
        [
            {
                "type": "PATCH_MANY",
                "payload": {
                    "filters": [
                        {"attr": "weight", "op": "GE", "value": 100},
                        {"attr": "weight", "op": "LT", "value": 500},
                    ],
                    "attributes": {"light": True},
                },
            }
        ],
    )
    assert [sku for sku, (_, a) in items(emulator).items() if a.get("light")] == ["A"]


def test_catalog_attributes_drive_campaign_conditions(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(
        [
            {
                "id": 1,
                "name": "Fair trade 2 off",
                "conditions": [
                    {"type": "catalogAttributeEquals", "attribute": "fairTrade", "value": True}
                ],
                "effects": [{"type": "setDiscount", "amount": 2}],
            }
        ]
    )
    cart = {"cartItems": [COFFEE]}
    assert "setDiscount" not in types(client.update_customer_session_v2("s", cart))
    client.sync_catalog(1, [add(COFFEE["sku"], 8.5, fairTrade=True)])
    assert "setDiscount" in types(client.update_customer_session_v2("s", cart))
    client.sync_catalog(
        1,
        [{"type": "PATCH", "payload": {"sku": COFFEE["sku"], "attributes": {"fairTrade": False}}}],
    )
    assert "setDiscount" not in types(client.update_customer_session_v2("s", cart))


def test_sync_refuses_what_the_api_refuses(raw: Raw) -> None:
    sync = "/v1/catalogs/1/sync"
    bad: list[Any] = [
        {"actions": []},
        {"actions": [{"type": "UPSERT", "payload": {}}]},
        {"actions": [{"type": "ADD", "payload": {}}]},
        {"actions": [add("A"), {"type": "REMOVE", "payload": {"sku": "B"}}]},
        {"actions": [add("A"), add("A")]},
        {
            "actions": [
                {"type": "REMOVE_MANY", "payload": {"filters": [{"attr": "x", "op": "LIKE"}]}}
            ]
        },
        {"actions": [add("A")], "version": 0},
    ]
    for body in bad:
        assert raw("PUT", sync, json=body).status_code == 400, body
    assert raw("PUT", "/v1/catalogs/x/sync", json={"actions": [add("A")]}).status_code == 400


def test_best_prior_price_from_catalog_prices(client: TalonClient) -> None:
    client.sync_catalog(1, [add("A", 10), add("B", 7)])
    client.sync_catalog(1, [{"type": "PATCH", "payload": {"sku": "A", "price": 8}}])
    client.sync_catalog(1, [{"type": "PATCH", "payload": {"sku": "A", "price": 12}}])
    prices = client.best_prior_price(["A", "B", "UNKNOWN"], timeframe=30, timeframe_end_date=SOON)
    assert [(p.sku, p.price) for p in prices] == [("A", 8), ("B", 7)]
    assert prices[0].context_ids == ["catalog"] and prices[0].influencing_campaign_ids == []
    # "price": the window ends where the current price (12) started: 8 is still the best
    by_price = client.best_prior_price(
        ["A"], timeframe=30, timeframe_end_date=SOON, timeframe_end_date_type="price"
    )
    assert [p.price for p in by_price] == [8]
    past = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert client.best_prior_price(["A"], timeframe=30, timeframe_end_date=past) == []


def test_best_prior_price_from_discounted_sessions(
    client: TalonClient, emulator: EmulatorHandle
) -> None:
    emulator.load_campaigns(
        {
            "audiences": [{"id": 1, "name": "VIP"}],
            "campaigns": [
                {
                    "id": 4,
                    "name": "VIP coffee 1 off each",
                    "conditions": [{"type": "audienceMember", "audienceId": 1}],
                    "effects": [{"type": "setDiscountPerItem", "amount": 1, "category": "coffee"}],
                }
            ],
        }
    )
    client.sync_catalog(1, [add(COFFEE["sku"], 8.5)])
    client.update_customer_profile_v2("vip", audiences_changes={"adds": [1]})
    client.update_customer_session_v2("s1", {"profileId": "vip", "cartItems": [COFFEE]})
    client.update_customer_session_v2("s2", {"profileId": "other", "cartItems": [COFFEE]})
    client.update_customer_session_v2("s3", {"profileId": "vip", "cartItems": [COFFEE]}, dry=True)
    everyone = client.best_prior_price([COFFEE["sku"]], timeframe=30, timeframe_end_date=SOON)
    assert [p.price for p in everyone] == [8.5]  # the VIP price was not offered to everyone
    vip = client.best_prior_price(
        [COFFEE["sku"]], timeframe=30, timeframe_end_date=SOON, audience_id=1
    )
    assert [p.price for p in vip] == [7.5]
    assert vip[0].context_ids == ["s1"] and vip[0].influencing_campaign_ids == [4]
    assert vip[0].raw["metadata"]["influencingCampaignDetails"] == [
        {"campaignId": 4, "discountValue": 1.0}
    ]
    assert vip[0].raw["target"] == {"targetType": "AUDIENCE", "audienceID": 1}
    others = client.best_prior_price(
        [COFFEE["sku"]], timeframe=30, timeframe_end_date=SOON, audience_id=2
    )
    assert [p.price for p in others] == [8.5]
    history = emulator.server.app.store.prices.by_sku[COFFEE["sku"]]
    assert [o.price for o in history] == [8.5, 7.5, 8.5]


def test_best_prior_price_sale_window() -> None:
    history = PriceHistory()
    day = timedelta(days=1)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    history.observe("A", 10, start, context_ids=["catalog"])
    history.observe("A", 9, start + day, context_ids=["s1"], campaigns=[(1, 1.0)])
    history.observe("A", 7, start + 20 * day, context_ids=["s2"], campaigns=[(1, 3.0)])
    end = start + 21 * day
    strict = history.best("A", end, timedelta(days=30), "strict")
    sale = history.best("A", end, timedelta(days=30), "sale")
    assert strict is not None and strict.price == 7
    assert sale is not None and sale.price == 10  # the sale began on day 1: before it, 10
    short = history.best("A", end, timedelta(days=5), "strict")
    assert short is not None and short.price == 7


def test_the_history_keeps_constant_memory() -> None:
    history = PriceHistory()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for n in range(MAX_OBSERVATIONS + 50):
        history.observe("A", float(n % 2), start + timedelta(minutes=n), context_ids=["c"])
    assert len(history.by_sku["A"]) == MAX_OBSERVATIONS
    history.observe("A", history.by_sku["A"][-1].price, start, context_ids=["c"])
    assert len(history.by_sku["A"]) == MAX_OBSERVATIONS  # a repeated price is not recorded


def test_best_prior_price_refuses_bad_requests(raw: Raw) -> None:
    good = {
        "skus": ["A"],
        "timeframe": "30",
        "timeframeEndDate": "2026-01-01T00:00:00Z",
        "timeframeEndDateType": "strict",
    }
    assert raw("POST", "/v1/best_prior_price", json=good).status_code == 200
    for change in (
        {"skus": []},
        {"timeframe": "thirty"},
        {"timeframeEndDate": "soon"},
        {"timeframeEndDateType": "later"},
        {"target": {"targetType": "STORE"}},
    ):
        assert raw("POST", "/v1/best_prior_price", json={**good, **change}).status_code == 400
