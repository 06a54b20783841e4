"""Typed answers keep every field the official spec defines, not only ``.raw``.

Before, ``IntegrationStateV2`` dropped ``awardedGiveaways``, ``referral``, ``achievements``,
``previousReturns`` (and more), sessions dropped ``additionalCosts``, ``identifiers``,
``created``..., coupons ``created``, ``reservation``, ``reservationCounter``..., referrals
``created`` and profiles ``accountId``, ``sandbox``, ``loyaltyMemberships``: they survived only
in ``.raw``. The table test reads the property names from the spec documents themselves, so a
field added to a model's schema later fails here until it gets a typed attribute (or is listed
in ``SKIPPED`` with a reason). The emulator test talks HTTP to a real emulator.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import (
    Coupon,
    CustomerProfile,
    CustomerSession,
    IntegrationStateV2,
    Referral,
    TalonClient,
)
from django_talon.emulator import EmulatorServer
from tests import openapi_contract as contract
from tests.resources import require_spec

#: (document, schema, model) pairs: every schema decoded by that model.
SCHEMAS: list[tuple[str, str, type[Any]]] = [
    (contract.NEW, "IntegrationStateV2", IntegrationStateV2),
    (contract.NEW, "CustomerProfileIntegrationResponseV2", IntegrationStateV2),
    (contract.NEW, "CustomerSessionV2", CustomerSession),
    (contract.V2_4, "CustomerSession", CustomerSession),
    (contract.NEW, "Coupon", Coupon),
    (contract.NEW, "InventoryCoupon", Coupon),
    (contract.NEW, "IntegrationCoupon", Coupon),
    (contract.V2_0, "Coupon", Coupon),
    (contract.NEW, "Referral", Referral),
    (contract.NEW, "InventoryReferral", Referral),
    (contract.NEW, "CustomerProfile", CustomerProfile),
    (contract.V2_4, "CustomerProfile", CustomerProfile),
]

#: Spec property -> attribute, where the attribute is not the property in snake_case.
ALIASES: dict[tuple[type[Any], str], str] = {
    (CustomerSession, "coupon"): "coupon_codes",  # v1 single code, read into the v2 list
    (CustomerSession, "referral"): "referral_code",  # v1 name of referralCode
    (IntegrationStateV2, "return"): "return_",  # a Python keyword
}

#: (model, spec property) -> why it has no typed attribute. Empty: every property is typed.
SKIPPED: dict[tuple[type[Any], str], str] = {}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _properties(doc: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str]:
    """The property names of a schema, through ``$ref`` and ``allOf`` as the spec nests them."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _properties(doc, doc["components"]["schemas"][name])
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _properties(doc, part)
    return names


def _spec_properties(spec: str, schema: str) -> set[str]:
    require_spec()
    doc = contract.load_document(spec)
    return _properties(doc, doc["components"]["schemas"][schema])


@pytest.mark.parametrize(
    ("spec", "schema", "model"), SCHEMAS, ids=[f"{s}:{n}" for s, n, _ in SCHEMAS]
)
def test_every_spec_property_has_a_typed_attribute(
    spec: str, schema: str, model: type[Any]
) -> None:
    names = {f.name for f in dataclasses.fields(model)}
    properties = _spec_properties(spec, schema)
    assert properties, f"{schema} has no properties in {spec}: the spec walk is broken"
    missing = sorted(
        prop
        for prop in properties
        if (model, prop) not in SKIPPED and ALIASES.get((model, prop), _snake(prop)) not in names
    )
    assert missing == [], f"{model.__name__} has no typed attribute for {schema}.{missing}"


def test_skips_and_aliases_name_real_spec_properties() -> None:
    """A stale entry (the property was renamed or removed) must not hide a gap."""
    known = {(model, p) for spec, name, model in SCHEMAS for p in _spec_properties(spec, name)}
    assert set(SKIPPED) - known == set()
    assert set(ALIASES) - known == set()


# --- tolerant decoding of the new fields -----------------------------------------------------

ODD_VALUES: list[Any] = [None, "x", "12", 1.5, 7, True, [], [1, "a", None], {}, {"a": "b"}]


def _allowed(hint: Any) -> tuple[type, ...]:
    """The runtime classes a field's annotation admits (``int | None`` -> int, NoneType)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return tuple(t for arg in typing.get_args(hint) for t in _allowed(arg))
    origin = typing.get_origin(hint)
    if origin is not None:
        return (origin,)
    return (type(None),) if hint is type(None) else (hint,)


NEUTRAL = (None, "", [], {})


@pytest.mark.parametrize(
    "model", [IntegrationStateV2, CustomerSession, Coupon, Referral, CustomerProfile]
)
def test_missing_or_malformed_fields_decode_to_neutral_values(model: type[Any]) -> None:
    hints = typing.get_type_hints(model)
    empty = model.from_json({})
    for f in dataclasses.fields(model):
        if f.name != "raw":
            assert getattr(empty, f.name) in NEUTRAL, f.name
    properties = {
        prop for spec, schema, m in SCHEMAS if m is model for prop in _spec_properties(spec, schema)
    }
    for odd in ODD_VALUES:
        decoded = model.from_json(dict.fromkeys(properties, odd))
        for f in dataclasses.fields(model):
            value = getattr(decoded, f.name)
            assert isinstance(value, _allowed(hints[f.name])), (f.name, odd, value)


def test_typed_containers_keep_only_well_typed_items() -> None:
    session = CustomerSession.from_json(
        {
            "evaluableCampaignIds": [1, "2", 2.5, True, None],
            "identifiers": ["d1", 3, None],
            "loyaltyCards": ["c1", {}],
            "additionalCosts": {"shipping": {"price": 5}, "wrap": 1, "bad": None},
            "discounts": {"W": 2.45, "odd": "x", "n": None, "s": "1.10"},
        }
    )
    assert session.evaluable_campaign_ids == [1, 2]
    assert session.identifiers == ["d1"] and session.loyalty_cards == ["c1"]
    assert session.additional_costs == {"shipping": {"price": 5}}
    assert session.discounts == {"W": Decimal("2.45"), "s": Decimal("1.10")}
    achievement = {"achievementId": 1, "name": "Lover", "progress": {"status": "completed"}}
    state = IntegrationStateV2.from_json(
        {
            "achievements": [achievement, "x"],
            "campaignEligibility": [{"campaignId": 6}],
            "advancedEvent": {"id": 9, "type": "ev"},
            "referral": "REF-1",
        }
    )
    assert state.achievements == [achievement]
    assert state.campaign_eligibility == [{"campaignId": 6}]
    assert state.advanced_event == {"id": 9, "type": "ev"} and state.referral is None


# --- over HTTP against the emulator -----------------------------------------------------------

CAMPAIGNS: dict[str, Any] = {
    "application": {"id": 1, "name": "fields", "currency": "EUR"},
    "loyaltyPrograms": [{"id": 1, "name": "club", "title": "Club", "expiryDuration": "365D"}],
    "giveawayPools": [{"id": 3, "name": "Gifts", "codes": ["GIFT-1", "GIFT-2", "GIFT-3"]}],
    "achievements": [
        {"id": 1, "name": "Lover", "title": "Lover", "description": "d", "campaignId": 6,
         "target": 1}
    ],
    "campaigns": [
        {"id": 1, "name": "C1", "trigger": "coupon",
         "coupons": [{"value": "WELCOME10", "usageLimit": 0}],
         "effects": [{"type": "setDiscount", "name": "W", "percent": 10}]},
        {"id": 3, "name": "C3", "trigger": "coupon",
         "coupons": [{"value": "VIP20", "usageLimit": 0, "isReservationMandatory": True}],
         "effects": [{"type": "setDiscount", "name": "V", "percent": 20}]},
        {"id": 5, "name": "C5", "trigger": "referral",
         "effects": [{"type": "setDiscount", "name": "R", "amount": 5.0}]},
        {"id": 6, "name": "C6",
         "effects": [{"type": "addLoyaltyPoints", "name": "P", "programId": 1,
                      "pointsPerAmount": 1},
                     {"type": "increaseAchievementProgress", "achievementId": 1},
                     {"type": "createReferral", "referralCampaignId": 5},
                     {"type": "awardGiveaway", "poolId": 3}]},
    ],
}  # fmt: skip

CONTENT = ["customerSession", "customerProfile", "awardedGiveaways", "referral", "coupons",
           "achievements", "previousReturns"]  # fmt: skip


def test_emulator_answers_decode_with_the_spec_fields_typed() -> None:
    with EmulatorServer(api_key="k", campaigns=CAMPAIGNS, port=0) as server:
        client = TalonClient(server.url, api_key="k")
        ref = client.create_referral(5, "p0")
        assert ref.created and ref.created == ref.raw["created"]
        session = {
            "profileId": "p1",
            "referralCode": ref.code,
            "cartItems": [{"sku": "ESP", "price": Decimal("8.5"), "quantity": 2}],
            "additionalCosts": {"shipping": {"price": Decimal("5")}},
            "identifiers": ["dev-1"],
        }
        client.update_customer_session_v2("s1", session)
        closed = client.update_customer_session_v2(
            "s1", {"state": "closed"}, response_content=CONTENT
        )
        returned = client.return_cart_items(
            "s1", [{"position": 0, "quantity": 1}], response_content=CONTENT
        )
        coupon = client.create_coupon_reservation("VIP20", ["p1"])
        v1 = client.update_customer_session_v1(
            "s8", {"profileId": "p1", "coupon": "WELCOME10", "identifiers": ["d"],
                   "cartItems": [{"name": "E", "sku": "ESP", "price": 8.5, "quantity": 1}]},
        )  # fmt: skip

    assert closed.awarded_giveaways == closed.raw["awardedGiveaways"] != []
    assert closed.awarded_giveaways[0]["code"] == "GIFT-1"
    assert closed.achievements == closed.raw["achievements"]  # the emulator sends []
    assert isinstance(closed.referral, Referral) and closed.referral.code == ref.code
    assert closed.previous_returns == closed.raw.get("previousReturns", [])
    assert returned.return_ == returned.raw["return"] and returned.return_
    assert returned.previous_returns == returned.raw.get("previousReturns", [])

    cs = closed.customer_session
    assert cs is not None
    assert cs.id == cs.raw["id"] and cs.application_id == 1
    assert cs.created == cs.raw["created"] and cs.updated == cs.raw["updated"]
    assert cs.additional_costs == {"shipping": cs.raw["additionalCosts"]["shipping"]}
    assert cs.identifiers == ["dev-1"] and cs.first_session is cs.raw["firstSession"]
    assert cs.loyalty_cards == cs.raw["loyaltyCards"]
    assert cs.additional_cost_total == Decimal(str(cs.raw["additionalCostTotal"]))
    assert cs.cart_item_additional_cost_total == Decimal(str(cs.raw["cartItemAdditionalCostTotal"]))

    profile = closed.customer_profile
    assert profile is not None
    assert profile.account_id == profile.raw["accountId"] is not None
    assert profile.sandbox is profile.raw["sandbox"]
    assert profile.loyalty_memberships == profile.raw.get("loyaltyMemberships", [])
    assert closed.created_referrals and closed.created_referrals[0].created

    assert coupon.created == coupon.raw["created"] and coupon.created
    assert coupon.reservation is coupon.raw["reservation"]
    assert coupon.reservation_counter == Decimal(str(coupon.raw["reservationCounter"]))

    s1 = v1.session
    assert s1 is not None
    assert s1.created == s1.raw["created"] and s1.application_id == 1
    assert s1.identifiers == ["d"] and s1.first_session is s1.raw["firstSession"]
    assert s1.discounts == {k: Decimal(str(v)) for k, v in s1.raw["discounts"].items()}
