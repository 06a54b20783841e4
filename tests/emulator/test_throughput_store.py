"""The store's fast paths (issue 13) give what the plain code gives.

- the price observation of a session update checks the SKU's last observation inline (and
  precomputes each campaign's audiences): the price history must be the one the plain
  observation (every price handed to ``PriceHistory.observe``) builds; an exact repeat of
  a session's cart, with nothing recorded since, skips the observation: the history must
  still be the plain one when other sessions, catalog syncs and carts that record on every
  update (one SKU at two prices) come in between;
- ``Session.to_api`` renders the items and adds up both item totals in one walk: the totals
  must be ``cart_item_total()`` and ``cart_item_additional_cost_total()``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from django_talon.emulator.app import EmulatorApp, request_from_target
from django_talon.emulator.models import Session
from django_talon.emulator.store import Store
from django_talon.emulator.util import money

CAMPAIGNS = {
    "application": {"id": 1, "currency": "EUR"},
    "audiences": [{"id": 1, "name": "VIP"}, {"id": 2, "name": "Staff"}],
    "campaigns": [
        {
            "id": 1,
            "name": "Coffee 1 off each",
            "conditions": [{"type": "containsCategory", "category": "coffee"}],
            "effects": [{"type": "setDiscountPerItem", "category": "coffee", "amount": 1}],
        },
        {
            "id": 2,
            "name": "VIP 10% per item",
            "conditions": [{"type": "audienceMember", "audienceId": 1}],
            "effects": [{"type": "setDiscountPerItem", "percent": 10}],
        },
        {
            "id": 3,
            "name": "Staff mugs",
            "conditions": [
                {"type": "audienceMember", "audienceId": 2},
                {"type": "audienceMember", "audienceId": 1},
            ],
            "effects": [{"type": "setDiscountPerItem", "sku": "MUG", "amount": 20}],
        },
    ],
}


def _plain_observation(store: Store, session: Session, now: datetime) -> None:
    """The observation as it was written before the fast path (the reference)."""
    discounts: dict[int, dict[int, float]] = {}
    for effect in session.effects:
        if effect.get("effectType") == "setDiscountPerItem":
            props = effect["props"]
            line = discounts.setdefault(int(props["position"]), {})
            cid = int(effect["campaignId"])
            line[cid] = line.get(cid, 0.0) + float(props["value"])
    for position, item in enumerate(session.cart_items):
        sku, quantity = item.get("sku"), int(item.get("quantity", 1)) or 1
        if not isinstance(sku, str) or not sku:
            continue
        found = discounts.get(position)
        if not found:
            price = float(item["price"])
            store.prices.observe(sku, max(price, 0.0), now, context_ids=[session.integration_id])
            continue
        unit = float(item["price"]) - sum(found.values()) / quantity
        audiences = frozenset(
            int(cond["audienceId"])
            for cid in found
            if cid in store.campaign_by_id
            for cond in store.campaign_by_id[cid].conditions
            if cond["type"] == "audienceMember"
        )
        store.prices.observe(
            sku,
            max(unit, 0.0),
            now,
            context_ids=[session.integration_id],
            campaigns=[(cid, value / quantity) for cid, value in sorted(found.items())],
            audiences=audiences or None,
        )


def _cart(n: int) -> list[dict[str, Any]]:
    items = [
        {"sku": "BEANS", "name": "Beans", "price": 7.35, "quantity": 3, "category": "coffee"},
        {"sku": "MUG", "name": "Mug", "price": 12.0, "quantity": 1, "category": "equipment"},
        {"sku": "DRIP", "name": "Drip", "price": 0.35 + n % 3, "quantity": 4, "category": "coffee"},
        {"sku": "GIFT", "name": "Gift", "price": 3, "quantity": 2},
    ]
    if n % 4 == 1:
        items[1]["price"] = 0.5  # the staff discount is more than the mug costs
    if n % 5 == 2:
        items.append({"sku": "FREE", "name": "Free", "price": 0, "quantity": 1})
    return items[: 2 + n % 4] if n % 7 else items


def _run(app: EmulatorApp) -> list[tuple[Any, ...]]:
    for profile, audiences in (("vip", [1]), ("staff", [2]), ("both", [1, 2])):
        app.store.update_profile_v2(profile, {"audiencesChanges": {"adds": audiences}}, {})
    headers = {"authorization": "ApiKey-v1 k", "content-type": "application/json"}
    for n in range(60):
        profile = ["vip", "staff", "both", "nobody", ""][n % 5]
        body = {"customerSession": {"profileId": profile, "cartItems": _cart(n)}}
        target = f"/v2/customer_sessions/s{n % 6}" + ("?dry=true" if n % 9 == 8 else "")
        request, raw_path = request_from_target(
            "PUT", target, dict(headers), json.dumps(body).encode()
        )
        assert app.answer(request, raw_path).status == 200
    return [
        (sku, o.price, o.context_ids, o.campaigns, o.audiences)
        for sku, history in sorted(app.store.prices.by_sku.items())
        for o in history
    ]


def test_the_price_history_is_the_plain_observations(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _run(EmulatorApp(api_key="k", campaigns=CAMPAIGNS))
    plain_app = EmulatorApp(api_key="k", campaigns=CAMPAIGNS)
    store = plain_app.store
    monkeypatch.setattr(
        store, "_observe_session_prices", lambda s, now: _plain_observation(store, s, now)
    )
    plain = _run(plain_app)
    assert fast == plain
    assert any(audiences == frozenset({1, 2}) for *_, audiences in fast)  # two audiences
    assert any(len(campaigns) == 2 for *_, campaigns, _ in fast)  # two campaigns on a line
    assert len(fast) > len({sku for sku, *_ in fast})  # prices changed along the way


def _run_repeats(app: EmulatorApp) -> list[tuple[Any, ...]]:
    """Sessions repeating their carts exactly, with recording updates in between."""
    app.store.update_profile_v2("vip", {"audiencesChanges": {"adds": [1]}}, {})
    headers = {"authorization": "ApiKey-v1 k", "content-type": "application/json"}
    beans = {"sku": "BEANS", "name": "Beans", "price": 7.35, "quantity": 3, "category": "coffee"}
    twice = [beans, {**beans, "price": 6.0}]  # one SKU at two prices: records every time
    steps: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("a", "", [beans]),
        ("a", "", [beans]),
        ("a", "", [beans]),  # a repeat that recorded nothing before: skipped
        ("b", "vip", [beans]),  # another session records a lower price for BEANS
        ("a", "", [beans]),  # must be observed again (the history changed since)
        ("a", "", [beans]),
        ("c", "", twice),
        ("c", "", twice),  # records again: never skipped
        ("a", "", [beans]),
        ("a", "", [{**beans, "price": 7.0}]),
        ("a", "", [beans]),
        ("catalog", "", []),  # a catalog sync sets another price for BEANS
        ("a", "", [beans]),  # observed again: records (the catalog's price came between)
        ("a", "", [beans]),  # records nothing
        ("a", "", [beans]),  # skipped
    ]
    for session_id, profile, items in steps:
        if session_id == "catalog":
            sync = {"actions": [{"type": "ADD", "payload": {"sku": "BEANS", "price": 9.5}}]}
            app.store.sync_catalog(1, sync)
            continue
        body = {"customerSession": {"profileId": profile, "cartItems": items}}
        request, raw_path = request_from_target(
            "PUT", f"/v2/customer_sessions/{session_id}", dict(headers), json.dumps(body).encode()
        )
        assert app.answer(request, raw_path).status == 200
    return [
        (sku, o.price, o.context_ids, o.campaigns, o.audiences)
        for sku, history in sorted(app.store.prices.by_sku.items())
        for o in history
    ]


def test_an_exact_repeat_skips_only_what_would_record_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast_app = EmulatorApp(api_key="k", campaigns=CAMPAIGNS)
    observe_items = fast_app.store._observe_items
    calls: list[str] = []
    monkeypatch.setattr(
        fast_app.store,
        "_observe_items",
        lambda s, d, now: (calls.append(s.integration_id), observe_items(s, d, now))[1],
    )
    fast = _run_repeats(fast_app)
    plain_app = EmulatorApp(api_key="k", campaigns=CAMPAIGNS)
    store = plain_app.store
    monkeypatch.setattr(
        store, "_observe_session_prices", lambda s, now: _plain_observation(store, s, now)
    )
    assert fast == _run_repeats(plain_app)
    # skipped: the third "a" and the last one (each after an observation that recorded
    # nothing, with nothing recorded since); "c" records on every update, so never
    assert calls == ["a", "a", "b", "a", "a", "c", "c", "a", "a", "a", "a", "a"]


@pytest.mark.parametrize("returned", [{}, {0: 1}])
def test_session_totals_are_the_plain_sums(returned: dict[int, int]) -> None:
    now = datetime(2026, 1, 1)
    session = Session(id=1, integration_id="s1", created=now, updated=now)
    session.cart_items = [
        {"sku": "A", "price": 0.1, "quantity": 3, "additionalCosts": {"wrap": {"price": 0.7}}},
        {"sku": "B", "price": 0.2, "quantity": 1},
        {"sku": "C", "price": 1e-3, "quantity": 7, "additionalCosts": {"x": {"price": 0.1}}},
    ]
    session.additional_costs = {"shipping": {"price": 4.99}, "fee": {"price": 0.01}}
    session.returned = dict(returned)
    rendered = session.to_api(1)
    assert rendered["cartItemTotal"] == session.cart_item_total()
    assert rendered["cartItemAdditionalCostTotal"] == session.cart_item_additional_cost_total()
    assert rendered["additionalCostTotal"] == session.additional_cost_total()
    assert rendered["total"] == money(
        session.cart_item_total()
        + session.additional_cost_total()
        + session.cart_item_additional_cost_total()
    )
    assert [i["position"] for i in rendered["cartItems"]] == [0, 1, 2]
    assert ("returnedQuantity" in rendered["cartItems"][0]) is bool(returned)
