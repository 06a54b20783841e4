"""Effect decoding: every documented type, unknown ones, odd values, v1 positional arrays."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import effects as fx
from django_talon.client.effects import (
    EFFECT_TYPES,
    V1_EFFECT_ARGS,
    Effect,
    UnknownEffect,
    decode_effect,
    decode_effects,
    decode_v1_effect,
    encode_v1_effect,
)
from tests.resources import require_spec

# effectType -> (props as Talon.One sends them, expected typed fields). Every type listed in
# spec/TALON_API.md section 4.
CASES: dict[str, tuple[type[Effect], dict[str, Any], dict[str, Any]]] = {
    "setDiscount": (
        fx.SetDiscount,
        {"name": "Welcome 10%", "value": 2.45, "scope": "sessionTotal", "desiredValue": 3},
        {
            "name": "Welcome 10%",
            "value": Decimal("2.45"),
            "scope": "sessionTotal",
            "desired_value": Decimal(3),
        },
    ),
    "setDiscountPerItem": (
        fx.SetDiscountPerItem,
        {
            "name": "Coffee#0",
            "value": 1.0,
            "position": 0,
            "subPosition": 1,
            "totalDiscount": 2.0,
            "bundleIndex": 1,
            "excludedFromPriceHistory": True,
        },
        {
            "name": "Coffee#0",
            "value": Decimal("1.0"),
            "position": 0,
            "sub_position": 1,
            "total_discount": Decimal("2.0"),
            "bundle_index": 1,
            "excluded_from_price_history": True,
        },
    ),
    "setDiscountPerAdditionalCost": (
        fx.SetDiscountPerAdditionalCost,
        {"name": "Ship", "additionalCostId": 3, "additionalCost": "shipping", "value": 4.99},
        {"additional_cost_id": 3, "additional_cost": "shipping", "value": Decimal("4.99")},
    ),
    "setDiscountPerAdditionalCostPerItem": (
        fx.SetDiscountPerAdditionalCostPerItem,
        {
            "name": "Wrap",
            "additionalCostId": 4,
            "additionalCost": "wrap",
            "value": 1,
            "position": 2,
        },
        {"additional_cost": "wrap", "value": Decimal(1), "position": 2, "sub_position": None},
    ),
    "acceptCoupon": (fx.AcceptCoupon, {"value": "WELCOME10"}, {"value": "WELCOME10"}),
    "rejectCoupon": (
        fx.RejectCoupon,
        {"value": "NOPE", "rejectionReason": "CouponNotFound", "conditionIndex": 0, "details": "x"},
        {
            "value": "NOPE",
            "rejection_reason": "CouponNotFound",
            "condition_index": 0,
            "details": "x",
        },
    ),
    "couponCreated": (
        fx.CouponCreated,
        {"value": "NEW-123", "profileId": "customer-7"},
        {"value": "NEW-123", "profile_id": "customer-7"},
    ),
    "reserveCoupon": (
        fx.ReserveCoupon,
        {"couponValue": "VIP20", "profileIntegrationId": "c7", "isNewReservation": True},
        {"coupon_value": "VIP20", "profile_integration_id": "c7", "is_new_reservation": True},
    ),
    "acceptReferral": (fx.AcceptReferral, {"value": "REF-1"}, {"value": "REF-1"}),
    "rejectReferral": (
        fx.RejectReferral,
        {"value": "REF-1", "rejectionReason": "ReferralExpired", "campaignExclusionReason": "x"},
        {"value": "REF-1", "rejection_reason": "ReferralExpired", "campaign_exclusion_reason": "x"},
    ),
    "referralCreated": (fx.ReferralCreated, {"value": "REF-2"}, {"value": "REF-2"}),
    "redeemReferral": (fx.RedeemReferral, {"id": 9, "value": "REF-3"}, {"id": 9, "value": "REF-3"}),
    "addLoyaltyPoints": (
        fx.AddLoyaltyPoints,
        {
            "name": "Coffee Club",
            "programId": 1,
            "subLedgerId": "",
            "value": 24.5,
            "recipientIntegrationId": "c7",
            "transactionUUID": "u-1",
            "startDate": "2026-01-01T00:00:00Z",
            "awaitsActivation": False,
            "validityDuration": "30D",
        },
        {
            "name": "Coffee Club",
            "program_id": 1,
            "sub_ledger_id": "",
            "value": Decimal("24.5"),
            "recipient_integration_id": "c7",
            "transaction_uuid": "u-1",
            "start_date": "2026-01-01T00:00:00Z",
            "awaits_activation": False,
            "validity_duration": "30D",
        },
    ),
    "deductLoyaltyPoints": (
        fx.DeductLoyaltyPoints,
        {
            "ruleTitle": "Spend",
            "programId": 1,
            "subLedgerId": "",
            "value": 10,
            "transactionUUID": "u-2",
            "name": "Spend 10",
            "cardIdentifier": "card-1",
        },
        {
            "rule_title": "Spend",
            "value": Decimal(10),
            "transaction_uuid": "u-2",
            "name": "Spend 10",
            "card_identifier": "card-1",
        },
    ),
    "rollbackAddedLoyaltyPoints": (
        fx.RollbackAddedLoyaltyPoints,
        {
            "programId": 1,
            "subLedgerId": "",
            "value": 24.5,
            "recipientIntegrationId": "c7",
            "transactionUUID": "u-3",
            "cartItemPosition": 0,
        },
        {"program_id": 1, "value": Decimal("24.5"), "cart_item_position": 0},
    ),
    "rollbackDeductedLoyaltyPoints": (
        fx.RollbackDeductedLoyaltyPoints,
        {
            "programId": 1,
            "subLedgerId": "s",
            "value": 10,
            "recipientIntegrationId": "c7",
            "transactionUUID": "u-4",
            "expiryDate": "2027-01-01T00:00:00Z",
        },
        {"sub_ledger_id": "s", "value": Decimal(10), "expiry_date": "2027-01-01T00:00:00Z"},
    ),
    "changeLoyaltyTierLevel": (
        fx.ChangeLoyaltyTierLevel,
        {
            "ruleTitle": "Tier",
            "programId": 1,
            "subLedgerId": "",
            "previousTierName": "Bronze",
            "newTierName": "Silver",
        },
        {"previous_tier_name": "Bronze", "new_tier_name": "Silver"},
    ),
    "setLoyaltyPointsExpiryDate": (
        fx.SetLoyaltyPointsExpiryDate,
        {
            "programId": 1,
            "subLedgerId": "",
            "newExpiryDate": "2027-01-01T00:00:00Z",
            "affectedTransactions": [{"id": 1}],
        },
        {"new_expiry_date": "2027-01-01T00:00:00Z", "affected_transactions": [{"id": 1}]},
    ),
    "extendLoyaltyPointsExpiryDate": (
        fx.ExtendLoyaltyPointsExpiryDate,
        {
            "programId": 1,
            "subLedgerId": "",
            "extensionDuration": "12h",
            "previousExpirationDate": "2026-06-01T00:00:00Z",
        },
        {"extension_duration": "12h", "previous_expiration_date": "2026-06-01T00:00:00Z"},
    ),
    "addFreeItem": (
        fx.AddFreeItem,
        {"sku": "FREE-TOTE", "name": "Canvas tote bag", "desiredQuantity": 1},
        {"sku": "FREE-TOTE", "name": "Canvas tote bag", "desired_quantity": 1},
    ),
    "showNotification": (
        fx.ShowNotification,
        {
            "notificationType": "Info",
            "title": "Free tote",
            "body": "Spend 100 EUR, get a free tote bag",
        },
        {
            "notification_type": "Info",
            "title": "Free tote",
            "body": "Spend 100 EUR, get a free tote bag",
        },
    ),
    "triggerWebhook": (
        fx.TriggerWebhook,
        {"webhookId": 3, "webhookName": "crm"},
        {"webhook_id": 3, "webhook_name": "crm"},
    ),
    "updateAttribute": (
        fx.UpdateAttribute,
        {"path": "Session.Tier", "value": {"gold": True}},
        {"path": "Session.Tier", "value": {"gold": True}},
    ),
    "awardGiveaway": (
        fx.AwardGiveaway,
        {
            "poolId": 2,
            "poolName": "Cinema",
            "recipientIntegrationId": "c7",
            "giveawayId": 44,
            "code": "GV-1",
        },
        {"pool_id": 2, "pool_name": "Cinema", "giveaway_id": 44, "code": "GV-1"},
    ),
    "willAwardGiveaway": (
        fx.WillAwardGiveaway,
        {"poolId": 2, "poolName": "Cinema", "recipientIntegrationId": "c7"},
        {"pool_id": 2, "recipient_integration_id": "c7"},
    ),
    "addToAudience": (
        fx.AddToAudience,
        {"audienceId": 5, "audienceName": "VIP", "profileIntegrationId": "c7", "profileId": 70},
        {
            "audience_id": 5,
            "audience_name": "VIP",
            "profile_integration_id": "c7",
            "profile_id": 70,
        },
    ),
    "removeFromAudience": (
        fx.RemoveFromAudience,
        {"audienceId": 5},
        {"audience_id": 5, "audience_name": None},
    ),
    "increaseAchievementProgress": (
        fx.IncreaseAchievementProgress,
        {
            "achievementId": 1,
            "achievementName": "Ten coffees",
            "progressTrackerId": 8,
            "delta": 1,
            "value": 3,
            "target": 10,
            "isJustCompleted": False,
        },
        {
            "achievement_id": 1,
            "delta": Decimal(1),
            "value": Decimal(3),
            "target": Decimal(10),
            "is_just_completed": False,
            "progress_tracker_id": 8,
        },
    ),
    "rollbackIncreasedAchievementProgress": (
        fx.RollbackIncreasedAchievementProgress,
        {
            "achievementId": 1,
            "achievementName": "Ten coffees",
            "progressTrackerId": 8,
            "decreaseProgressBy": 1,
            "currentProgress": 2,
            "target": 10,
        },
        {"decrease_progress_by": Decimal(1), "current_progress": Decimal(2)},
    ),
    "rollbackCoupon": (fx.RollbackCoupon, {"value": "WELCOME10"}, {"value": "WELCOME10"}),
    "rollbackReferral": (fx.RollbackReferral, {"value": "REF-1"}, {"value": "REF-1"}),
    "rollbackDiscount": (
        fx.RollbackDiscount,
        {"name": "Welcome 10%", "value": 2.45, "cartItemPosition": 0, "scope": "price"},
        {
            "name": "Welcome 10%",
            "value": Decimal("2.45"),
            "cart_item_position": 0,
            "scope": "price",
        },
    ),
    "showBundleMetadata": (
        fx.ShowBundleMetadata,
        {"description": "Bundle", "bundleAttributes": ["a"], "itemsIndices": [0, 1]},
        {"description": "Bundle", "bundle_attributes": ["a"], "items_indices": [0, 1]},
    ),
    "customEffect": (
        fx.CustomEffect,
        {"effectId": 12, "name": "gift_wrap", "payload": {"color": "red"}, "cartItemPosition": 1},
        {
            "effect_id": 12,
            "name": "gift_wrap",
            "payload": {"color": "red"},
            "cart_item_position": 1,
        },
    ),
    "error": (fx.ErrorEffect, {"message": "rule failed"}, {"message": "rule failed"}),
}


def _wire(effect_type: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaignId": 1,
        "rulesetId": 11,
        "ruleIndex": 2,
        "ruleName": "The rule",
        "effectType": effect_type,
        "triggeredByCoupon": 99,
        "conditionIndex": 0,  # a NEW-only common field: ignored, kept in raw
        "props": props,
    }


def test_every_documented_type_is_registered() -> None:
    assert set(CASES) == set(EFFECT_TYPES)


def test_registry_matches_the_spec_digest_table() -> None:
    """CASES is checked against the client's own registry above; this ties the registry to the
    effect table of spec/TALON_API.md section 4 (a type added there fails here)."""
    digest = require_spec() / "TALON_API.md"
    if not digest.is_file():
        pytest.skip(f"{digest} not found")
    section = digest.read_text(encoding="utf-8").split("\n## 4.", 1)[1].split("\n## ", 1)[0]
    documented = {
        name.split("(")[0].strip()  # "redeemReferral (deprecated → acceptReferral)"
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| effectType")
        for name in line.split("|")[1].split("/")
    }
    assert documented == set(EFFECT_TYPES)


@pytest.mark.parametrize("effect_type", sorted(CASES))
def test_each_effect_type_decodes_to_its_class(effect_type: str) -> None:
    cls, props, expected = CASES[effect_type]
    wire = _wire(effect_type, props)
    effect = decode_effect(wire)
    assert type(effect) is cls and effect.known
    assert effect.effect_type == effect_type
    assert (effect.campaign_id, effect.ruleset_id, effect.rule_index) == (1, 11, 2)
    assert effect.rule_name == "The rule" and effect.triggered_by_coupon == 99
    assert effect.props == props and effect.raw == wire
    for attribute, value in expected.items():
        assert getattr(effect, attribute) == value, attribute
        if isinstance(value, Decimal):
            assert isinstance(getattr(effect, attribute), Decimal)


def test_money_keeps_its_decimal_digits() -> None:
    effect = decode_effect(_wire("setDiscount", {"name": "x", "value": 0.1 + 0.2}))
    assert isinstance(effect, fx.SetDiscount)
    assert effect.value == Decimal(str(0.1 + 0.2))
    assert decode_effect(_wire("setDiscount", {"name": "x", "value": "2.50"})).value == Decimal(
        "2.50"
    )  # type: ignore[attr-defined]


def test_unknown_effect_type_passes_through() -> None:
    wire = _wire("teleportCart", {"destination": "moon", "speed": 3})
    effect = decode_effect(wire)
    assert isinstance(effect, UnknownEffect) and not effect.known
    assert effect.effect_type == "teleportCart"
    assert effect.props == {"destination": "moon", "speed": 3}
    assert effect.raw == wire and effect.campaign_id == 1


def test_unknown_props_and_enum_values_pass_through() -> None:
    effect = decode_effect(
        _wire("rejectCoupon", {"value": "X", "rejectionReason": "BrandNewReason", "future": [1]})
    )
    assert isinstance(effect, fx.RejectCoupon)
    assert effect.rejection_reason == "BrandNewReason"
    assert effect.props["future"] == [1]
    note = decode_effect(
        _wire("showNotification", {"notificationType": "Hologram", "title": "t", "body": "b"})
    )
    assert isinstance(note, fx.ShowNotification) and note.notification_type == "Hologram"


@pytest.mark.parametrize(
    "props",
    [{}, {"name": None, "value": "lots"}, {"name": 3, "value": True}, {"value": float("inf")}],
)
def test_malformed_props_fall_back_to_defaults(props: dict[str, Any]) -> None:
    effect = decode_effect(_wire("setDiscount", props))
    assert isinstance(effect, fx.SetDiscount)
    assert effect.value == Decimal(0)
    assert effect.props == props


@pytest.mark.parametrize(
    "obj",
    [
        None,
        3,
        "setDiscount",
        {},
        {"effectType": 5},
        {"effectType": "setDiscount", "props": [1]},
        {"effectType": "addFreeItem", "campaignId": "x", "ruleIndex": 1.5},
    ],
)
def test_garbage_never_raises(obj: Any) -> None:
    effect = decode_effect(obj)
    assert isinstance(effect, Effect)


def test_decode_effects_handles_lists_and_none() -> None:
    assert decode_effects(None) == []
    assert decode_effects({"effectType": "x"}) == []
    decoded = decode_effects(
        [_wire("acceptCoupon", {"value": "A"}), [1, 2, 0, ["acceptCoupon", "B"]]]
    )
    assert [type(e) for e in decoded] == [fx.AcceptCoupon, fx.AcceptCoupon]
    assert [e.value for e in decoded] == ["A", "B"]  # type: ignore[attr-defined]


# --- v1 positional arrays ---------------------------------------------------------------------


def test_v1_set_discount() -> None:
    effect = decode_v1_effect([3, 14, 0, ["setDiscount", "10% off", 2.45]])
    assert isinstance(effect, fx.SetDiscount)
    assert (effect.campaign_id, effect.ruleset_id, effect.rule_index) == (3, 14, 0)
    assert effect.name == "10% off" and effect.value == Decimal("2.45")
    assert effect.props == {"name": "10% off", "value": 2.45}
    assert effect.raw["v1Effect"] == [3, 14, 0, ["setDiscount", "10% off", 2.45]]


def test_v1_coupon_and_loyalty() -> None:
    reject = decode_v1_effect([1, 2, 0, ["rejectCoupon", "NOPE", "CouponNotFound"]])
    assert isinstance(reject, fx.RejectCoupon)
    assert (reject.value, reject.rejection_reason) == ("NOPE", "CouponNotFound")
    points = decode_v1_effect(
        [6, 1, 0, ["addLoyaltyPoints", "Coffee Club", 1, "", 24, "customer-7", "uuid-1"]]
    )
    assert isinstance(points, fx.AddLoyaltyPoints)
    assert points.program_id == 1 and points.value == Decimal(24)
    assert points.recipient_integration_id == "customer-7" and points.transaction_uuid == "uuid-1"
    free = decode_v1_effect([2, 1, 0, ["addFreeItem", "FREE-TOTE", "Canvas tote bag"]])
    assert (
        isinstance(free, fx.AddFreeItem)
        and free.sku == "FREE-TOTE"
        and free.desired_quantity is None
    )


def test_v1_unknown_and_malformed_arrays() -> None:
    unknown = decode_v1_effect([1, 2, 0, ["teleportCart", "moon", 3]])
    assert isinstance(unknown, UnknownEffect) and unknown.props == {"args": ["moon", 3]}
    extra = decode_v1_effect([1, 2, 0, ["acceptCoupon", "A", "surprise"]])
    assert isinstance(extra, fx.AcceptCoupon) and extra.props["extraArgs"] == ["surprise"]
    for bad in ([], [1], [1, 2, 0], [1, 2, 0, "acceptCoupon"], "nope", None, [1, 2, 0, []]):
        assert isinstance(decode_v1_effect(bad), Effect)


@pytest.mark.parametrize("effect_type", sorted(CASES))
def test_v1_encode_decode_round_trip(effect_type: str) -> None:
    cls, props, expected = CASES[effect_type]
    positional = {k: v for k, v in props.items() if k in V1_EFFECT_ARGS[effect_type]}
    array = encode_v1_effect(_wire(effect_type, positional))
    assert array[:3] == [1, 11, 2] and array[3][0] == effect_type
    effect = decode_v1_effect(array)
    assert type(effect) is cls
    for attribute, value in expected.items():
        prop = next(p for a, p, _, _ in cls.PROP_FIELDS if a == attribute)
        if prop in positional:
            assert getattr(effect, attribute) == value, attribute


def test_decoded_v2_effect_raw_decodes_again_identically() -> None:
    """Django stores ``effect.raw`` and decodes it again on read."""
    for effect_type, (_, props, _) in CASES.items():
        first = decode_effect(_wire(effect_type, props))
        assert decode_effect(first.raw) == first
    v1 = decode_v1_effect([1, 2, 0, ["setDiscount", "x", 1.5]])
    assert decode_effect(v1.raw) == v1
