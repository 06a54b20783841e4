"""Typed effects: what the Rule Engine asks the shop to do, decoded by ``effectType``.

Talon.One documents ``effectType`` as a free string and ``props`` as untyped, and it keeps
adding both effect types and enum values (rejection reasons, notification types). So
decoding is *open*: an unknown effect type becomes :class:`UnknownEffect`, unknown props stay
in ``props``, unknown enum values are kept as plain strings, and a malformed value becomes
the field's neutral default (``""``, ``Decimal(0)``, ``None``) while the original stays in
``props`` and ``raw``. Nothing here raises on server data.

Money and points are ``Decimal`` (converted through ``str`` so ``2.45`` stays ``2.45``);
dates are kept as the RFC 3339 strings the API sent. Django stores ``effect.raw`` (plain
JSON) and decodes again on read with :func:`decode_effects`.

The v1 API sends effects as positional arrays ``[campaignId, rulesetId, ruleIndex,
[effectName, arg1, arg2, ...]]``; :func:`decode_v1_effect` maps the args onto the same props,
in the order listed by :data:`V1_EFFECT_ARGS` (the declaration order of each class's fields),
and :func:`encode_v1_effect` is its inverse (used by the emulator).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

__all__ = [
    "EFFECT_TYPES",
    "V1_EFFECT_ARGS",
    "AcceptCoupon",
    "AcceptReferral",
    "AddFreeItem",
    "AddLoyaltyPoints",
    "AddToAudience",
    "AwardGiveaway",
    "ChangeLoyaltyTierLevel",
    "CouponCreated",
    "CustomEffect",
    "DeductLoyaltyPoints",
    "Effect",
    "ErrorEffect",
    "ExtendLoyaltyPointsExpiryDate",
    "IncreaseAchievementProgress",
    "RedeemReferral",
    "ReferralCreated",
    "RejectCoupon",
    "RejectReferral",
    "RemoveFromAudience",
    "ReserveCoupon",
    "RollbackAddedLoyaltyPoints",
    "RollbackCoupon",
    "RollbackDeductedLoyaltyPoints",
    "RollbackDiscount",
    "RollbackIncreasedAchievementProgress",
    "RollbackReferral",
    "SetDiscount",
    "SetDiscountPerAdditionalCost",
    "SetDiscountPerAdditionalCostPerItem",
    "SetDiscountPerItem",
    "SetLoyaltyPointsExpiryDate",
    "ShowBundleMetadata",
    "ShowNotification",
    "TriggerWebhook",
    "UnknownEffect",
    "UpdateAttribute",
    "WillAwardGiveaway",
    "decode_effect",
    "decode_effects",
    "decode_v1_effect",
    "encode_v1_effect",
]


# --- tolerant converters: never raise, return None when the value does not fit ------------


def to_decimal(value: Any) -> Decimal | None:
    """``Decimal`` from a JSON number or numeric string; ``None`` if it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (int, float, str)):
        try:
            result = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return result if result.is_finite() else None
    return None


def to_int(value: Any) -> int | None:
    """``int`` from an integral JSON number or digit string; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_str(value: Any) -> str | None:
    """``str`` for strings (numbers are stringified); ``None`` for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return None


def to_bool(value: Any) -> bool | None:
    """``bool`` for JSON booleans; ``None`` otherwise."""
    return value if isinstance(value, bool) else None


def to_list(value: Any) -> list[Any] | None:
    """The list itself, or ``None`` when it is not a list."""
    return list(value) if isinstance(value, list) else None


def to_dict(value: Any) -> dict[str, Any] | None:
    """The dict itself, or ``None`` when it is not an object."""
    return dict(value) if isinstance(value, dict) else None


def _identity(value: Any) -> Any:
    return value


# Annotation string -> (converter, default when missing/malformed). Required props get a
# neutral non-None default so callers need no None checks; optional ones default to None.
_CONVERTERS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "str": (to_str, ""),
    "str | None": (to_str, None),
    "Decimal": (to_decimal, Decimal(0)),
    "Decimal | None": (to_decimal, None),
    "int": (to_int, 0),
    "int | None": (to_int, None),
    "bool": (to_bool, False),
    "bool | None": (to_bool, None),
    "Any": (_identity, None),
    "list[Any]": (to_list, None),
    "list[Any] | None": (to_list, None),
    "dict[str, Any]": (to_dict, None),
    "dict[str, Any] | None": (to_dict, None),
}

_BASE_FIELDS = frozenset(
    (
        "effect_type",
        "campaign_id",
        "ruleset_id",
        "rule_index",
        "rule_name",
        "triggered_by_coupon",
        "props",
        "raw",
    )
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _prop(default: Any = None, *, name: str | None = None) -> Any:
    """A typed prop field; ``name`` overrides the camelCase prop name derived from it."""
    metadata = {"prop": name} if name else {}
    if isinstance(default, (list, dict)):
        raise TypeError("use None as default for container props")
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, kw_only=True)
class Effect:
    """Common part of every effect (``EffectEntity``) plus the untouched ``props`` and ``raw``.

    Subclasses add typed fields read from ``props``; ``props`` always keeps every prop as
    sent, including the ones no field knows yet.
    """

    effect_type: str = ""
    campaign_id: int | None = None
    ruleset_id: int | None = None
    rule_index: int | None = None
    rule_name: str = ""
    triggered_by_coupon: int | None = None
    props: dict[str, Any] = field(default_factory=dict, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    EFFECT_TYPE: ClassVar[str] = ""
    # (attribute, prop name, converter, default) filled in by _register().
    PROP_FIELDS: ClassVar[tuple[tuple[str, str, Callable[[Any], Any], Any], ...]] = ()

    @property
    def known(self) -> bool:
        """False for :class:`UnknownEffect` (a type this version cannot interpret)."""
        return True


EFFECT_TYPES: dict[str, type[Effect]] = {}
#: effectType -> prop names in v1 positional-argument order.
V1_EFFECT_ARGS: dict[str, tuple[str, ...]] = {}


def _register(effect_type: str) -> Callable[[type[Effect]], type[Effect]]:
    def decorate(cls: type[Effect]) -> type[Effect]:
        fields = []
        for f in dataclasses.fields(cls):
            if f.name in _BASE_FIELDS:
                continue
            annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "Any")
            converter, default = _CONVERTERS[annotation]
            prop_name = f.metadata.get("prop") or _camel(f.name)
            fields.append((f.name, prop_name, converter, default))
        cls.EFFECT_TYPE = effect_type
        cls.PROP_FIELDS = tuple(fields)
        EFFECT_TYPES[effect_type] = cls
        V1_EFFECT_ARGS[effect_type] = tuple(prop for _, prop, _, _ in fields)
        return cls

    return decorate


# --- discounts ----------------------------------------------------------------------------


@_register("setDiscount")
@dataclass(frozen=True, kw_only=True)
class SetDiscount(Effect):
    """Take ``value`` off the cart (``scope``: cartItems / additionalCosts / sessionTotal)."""

    name: str = ""
    value: Decimal = Decimal(0)
    scope: str | None = None
    desired_value: Decimal | None = None


@_register("setDiscountPerItem")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerItem(Effect):
    """Take ``value`` off cart item ``position`` (unit ``sub_position`` when flattened)."""

    name: str = ""
    value: Decimal = Decimal(0)
    position: int = 0
    sub_position: int | None = None
    desired_value: Decimal | None = None
    scope: str | None = None
    total_discount: Decimal | None = None
    desired_total_discount: Decimal | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None
    targeted_item_position: int | None = None
    targeted_item_sub_position: int | None = None
    excluded_from_price_history: bool | None = None


@dataclass(frozen=True, kw_only=True)
class _AdditionalCostDiscount(Effect):
    """A discount of ``value`` on additional cost ``additional_cost`` (e.g. shipping)."""

    name: str = ""
    additional_cost_id: int = 0
    additional_cost: str = ""
    value: Decimal = Decimal(0)


@_register("setDiscountPerAdditionalCost")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerAdditionalCost(_AdditionalCostDiscount):
    """Discount on a session-level additional cost (e.g. shipping)."""

    desired_value: Decimal | None = None


@_register("setDiscountPerAdditionalCostPerItem")
@dataclass(frozen=True, kw_only=True)
class SetDiscountPerAdditionalCostPerItem(_AdditionalCostDiscount):
    """Discount on an additional cost of one cart item."""

    position: int = 0
    sub_position: int | None = None
    desired_value: Decimal | None = None


@_register("rollbackDiscount")
@dataclass(frozen=True, kw_only=True)
class RollbackDiscount(Effect):
    """A discount given by a now cancelled/returned/reopened session is taken back."""

    name: str = ""
    value: Decimal = Decimal(0)
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    additional_cost_id: int | None = None
    additional_cost: str | None = None
    scope: str | None = None


# --- coupons and referrals ---------------------------------------------------------------
# Coupon and referral codes travel in the same ``value`` prop and are rejected with the same
# props (Talon.One's rejectCoupon/rejectReferral share one props schema), so the fields are
# declared once here. The bases are not registered: each effect type stays its own class.


@dataclass(frozen=True, kw_only=True)
class _CodeEffect(Effect):
    """An effect about one coupon or referral code, sent as the ``value`` prop."""

    value: str = ""


@dataclass(frozen=True, kw_only=True)
class _CodeRejection(_CodeEffect):
    """A rejected code: why (open set, kept verbatim) and which condition/effect refused it."""

    rejection_reason: str = ""
    condition_index: int | None = None
    effect_index: int | None = None
    details: str | None = None
    campaign_exclusion_reason: str | None = None


@_register("acceptCoupon")
@dataclass(frozen=True, kw_only=True)
class AcceptCoupon(_CodeEffect):
    """Coupon ``value`` is valid for this session."""


@_register("rejectCoupon")
@dataclass(frozen=True, kw_only=True)
class RejectCoupon(_CodeRejection):
    """Coupon ``value`` was rejected; ``rejection_reason`` is an open set (kept verbatim)."""


@_register("couponCreated")
@dataclass(frozen=True, kw_only=True)
class CouponCreated(_CodeEffect):
    """A coupon was generated for profile ``profile_id`` (full object in createdCoupons)."""

    profile_id: str = ""


@_register("reserveCoupon")
@dataclass(frozen=True, kw_only=True)
class ReserveCoupon(Effect):
    """A rule reserved ``coupon_value`` for ``profile_integration_id``."""

    coupon_value: str = ""
    profile_integration_id: str = ""
    is_new_reservation: bool = False


@_register("rollbackCoupon")
@dataclass(frozen=True, kw_only=True)
class RollbackCoupon(_CodeEffect):
    """The redemption of coupon ``value`` was rolled back."""


@_register("acceptReferral")
@dataclass(frozen=True, kw_only=True)
class AcceptReferral(_CodeEffect):
    """Referral code ``value`` is valid for this session."""


@_register("rejectReferral")
@dataclass(frozen=True, kw_only=True)
class RejectReferral(_CodeRejection):
    """Referral code ``value`` was rejected; ``rejection_reason`` is an open set."""


@_register("referralCreated")
@dataclass(frozen=True, kw_only=True)
class ReferralCreated(_CodeEffect):
    """A referral code was generated (full object in createdReferrals)."""


@_register("redeemReferral")
@dataclass(frozen=True, kw_only=True)
class RedeemReferral(Effect):
    """Deprecated predecessor of acceptReferral."""

    id: int = 0
    value: str = ""


@_register("rollbackReferral")
@dataclass(frozen=True, kw_only=True)
class RollbackReferral(_CodeEffect):
    """The redemption of referral code ``value`` was rolled back."""


# --- loyalty ------------------------------------------------------------------------------
# Effects that start with the ledger they touch share these bases; field order is the v1
# argument order, so a base is only used where its fields really come first.


@dataclass(frozen=True, kw_only=True)
class _LoyaltyLedgerEffect(Effect):
    """An effect on one loyalty (sub)ledger."""

    program_id: int = 0
    sub_ledger_id: str = ""


@dataclass(frozen=True, kw_only=True)
class _LoyaltyPointsRollback(_LoyaltyLedgerEffect):
    """Points of a rolled-back session's transaction are reverted for the recipient."""

    value: Decimal = Decimal(0)
    recipient_integration_id: str = ""
    transaction_uuid: str = _prop("", name="transactionUUID")


@_register("addLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class AddLoyaltyPoints(Effect):
    """``value`` points go to ``recipient_integration_id`` in program ``program_id``."""

    name: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    value: Decimal = Decimal(0)
    recipient_integration_id: str = ""
    transaction_uuid: str = _prop("", name="transactionUUID")
    start_date: str | None = None
    expiry_date: str | None = None
    desired_value: Decimal | None = None
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    card_identifier: str | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None
    awaits_activation: bool | None = None
    validity_duration: str | None = None


@_register("deductLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class DeductLoyaltyPoints(Effect):
    """``value`` points are spent from program ``program_id``."""

    rule_title: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    value: Decimal = Decimal(0)
    transaction_uuid: str = _prop("", name="transactionUUID")
    name: str | None = None
    card_identifier: str | None = None


@_register("rollbackAddedLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class RollbackAddedLoyaltyPoints(_LoyaltyPointsRollback):
    """Points added by a rolled-back session are removed again."""

    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    card_identifier: str | None = None


@_register("rollbackDeductedLoyaltyPoints")
@dataclass(frozen=True, kw_only=True)
class RollbackDeductedLoyaltyPoints(_LoyaltyPointsRollback):
    """Points spent by a rolled-back session are given back."""

    start_date: str | None = None
    expiry_date: str | None = None
    card_identifier: str | None = None


@_register("changeLoyaltyTierLevel")
@dataclass(frozen=True, kw_only=True)
class ChangeLoyaltyTierLevel(Effect):
    """The customer moved to tier ``new_tier_name``."""

    rule_title: str = ""
    program_id: int = 0
    sub_ledger_id: str = ""
    new_tier_name: str = ""
    previous_tier_name: str | None = None
    expiry_date: str | None = None


@_register("setLoyaltyPointsExpiryDate")
@dataclass(frozen=True, kw_only=True)
class SetLoyaltyPointsExpiryDate(_LoyaltyLedgerEffect):
    """Points of some transactions now expire at ``new_expiry_date``."""

    new_expiry_date: str = ""
    affected_transactions: list[Any] | None = None


@_register("extendLoyaltyPointsExpiryDate")
@dataclass(frozen=True, kw_only=True)
class ExtendLoyaltyPointsExpiryDate(_LoyaltyLedgerEffect):
    """Points expiry extended by ``extension_duration`` (e.g. ``12h``)."""

    extension_duration: str = ""
    previous_expiration_date: str | None = None
    affected_transactions: list[Any] | None = None


# --- items, messages, integrations ---------------------------------------------------------


@_register("addFreeItem")
@dataclass(frozen=True, kw_only=True)
class AddFreeItem(Effect):
    """Add ``sku`` to the cart for free (``desired_quantity`` units, default 1)."""

    sku: str = ""
    name: str = ""
    desired_quantity: int | None = None


@_register("showNotification")
@dataclass(frozen=True, kw_only=True)
class ShowNotification(Effect):
    """Show a message; ``notification_type`` is Info/Offer/Error/Misc (open set)."""

    notification_type: str = ""
    title: str = ""
    body: str = ""


@_register("triggerWebhook")
@dataclass(frozen=True, kw_only=True)
class TriggerWebhook(Effect):
    """Talon.One called a webhook (informational, no action needed)."""

    webhook_id: int = 0
    webhook_name: str = ""


@_register("updateAttribute")
@dataclass(frozen=True, kw_only=True)
class UpdateAttribute(Effect):
    """Attribute at ``path`` was set to ``value`` (any JSON)."""

    path: str = ""
    value: Any = None


@_register("showBundleMetadata")
@dataclass(frozen=True, kw_only=True)
class ShowBundleMetadata(Effect):
    """Deprecated: which cart items form a bundle."""

    description: str = ""
    bundle_attributes: list[Any] | None = None
    items_indices: list[Any] | None = None


@_register("customEffect")
@dataclass(frozen=True, kw_only=True)
class CustomEffect(Effect):
    """A custom effect defined in Campaign Manager; ``payload`` is its JSON."""

    name: str = ""
    payload: dict[str, Any] | None = None
    effect_id: int | None = None
    custom_type: str | None = _prop(None, name="type")
    cart_item_position: int | None = None
    cart_item_sub_position: int | None = None
    bundle_index: int | None = None
    bundle_name: str | None = None


@_register("error")
@dataclass(frozen=True, kw_only=True)
class ErrorEffect(Effect):
    """Informational: something in the rules failed (``message``)."""

    message: str = ""


# --- giveaways, audiences, achievements ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _GiveawayEffect(Effect):
    """A giveaway from pool ``pool_id`` for the recipient (now or when the session closes)."""

    pool_id: int = 0
    pool_name: str = ""
    recipient_integration_id: str = ""


@_register("awardGiveaway")
@dataclass(frozen=True, kw_only=True)
class AwardGiveaway(_GiveawayEffect):
    """Giveaway code ``code`` from pool ``pool_id`` goes to the recipient."""

    giveaway_id: int = 0
    code: str = ""


@_register("willAwardGiveaway")
@dataclass(frozen=True, kw_only=True)
class WillAwardGiveaway(_GiveawayEffect):
    """A giveaway will be awarded when the session closes."""


@dataclass(frozen=True, kw_only=True)
class _AudienceMembershipEffect(Effect):
    """A profile's membership of an audience changed (same props for joining and leaving)."""

    audience_id: int | None = None
    audience_name: str | None = None
    profile_integration_id: str | None = None
    profile_id: int | None = None


@_register("addToAudience")
@dataclass(frozen=True, kw_only=True)
class AddToAudience(_AudienceMembershipEffect):
    """The profile joined an audience."""


@_register("removeFromAudience")
@dataclass(frozen=True, kw_only=True)
class RemoveFromAudience(_AudienceMembershipEffect):
    """The profile left an audience."""


@_register("increaseAchievementProgress")
@dataclass(frozen=True, kw_only=True)
class IncreaseAchievementProgress(Effect):
    """Achievement progress went up by ``delta`` to ``value`` of ``target``."""

    achievement_id: int = 0
    achievement_name: str = ""
    progress_tracker_id: int | None = None
    delta: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    target: Decimal = Decimal(0)
    is_just_completed: bool = False


@_register("rollbackIncreasedAchievementProgress")
@dataclass(frozen=True, kw_only=True)
class RollbackIncreasedAchievementProgress(Effect):
    """Achievement progress of a rolled-back session is taken back."""

    achievement_id: int = 0
    achievement_name: str = ""
    progress_tracker_id: int = 0
    decrease_progress_by: Decimal = Decimal(0)
    current_progress: Decimal = Decimal(0)
    target: Decimal = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class UnknownEffect(Effect):
    """An effect type this version does not know: everything is in ``props`` and ``raw``."""

    @property
    def known(self) -> bool:
        return False


# --- decoding -----------------------------------------------------------------------------


def decode_effect(obj: Any) -> Effect:
    """Decode one effect: a v2 effect object, or a v1 positional array. Never raises."""
    if isinstance(obj, list):
        return decode_v1_effect(obj)
    if not isinstance(obj, Mapping):
        return UnknownEffect(effect_type="", raw={"value": obj})
    raw = dict(obj)
    effect_type = to_str(raw.get("effectType")) or ""
    props_value = raw.get("props")
    props = dict(props_value) if isinstance(props_value, Mapping) else {}
    cls = EFFECT_TYPES.get(effect_type, UnknownEffect)
    kwargs: dict[str, Any] = {}
    for attribute, prop_name, converter, default in cls.PROP_FIELDS:
        value = converter(props.get(prop_name))
        kwargs[attribute] = default if value is None else value
    return cls(
        effect_type=effect_type,
        campaign_id=to_int(raw.get("campaignId")),
        ruleset_id=to_int(raw.get("rulesetId")),
        rule_index=to_int(raw.get("ruleIndex")),
        rule_name=to_str(raw.get("ruleName")) or "",
        triggered_by_coupon=to_int(raw.get("triggeredByCoupon")),
        props=props,
        raw=raw,
        **kwargs,
    )


def decode_effects(items: Iterable[Any] | None) -> list[Effect]:
    """Decode a list of effects (v2 objects or v1 arrays); ``None`` gives ``[]``."""
    if items is None or isinstance(items, (str, bytes, Mapping)):
        return []
    return [decode_effect(item) for item in items]


def v1_effect_to_v2(array: Any) -> dict[str, Any]:
    """Turn ``[campaignId, rulesetId, ruleIndex, [effectName, args...]]`` into a v2 effect dict.

    Args are named with :data:`V1_EFFECT_ARGS`; extra args go to ``props["extraArgs"]``,
    args of an unknown effect to ``props["args"]``. The original array is kept under
    ``"v1Effect"`` so nothing is lost.
    """
    items = list(array) if isinstance(array, (list, tuple)) else []
    head = items[:3] + [None] * (3 - len(items[:3]))
    call = items[3] if len(items) > 3 and isinstance(items[3], (list, tuple)) else []
    name = to_str(call[0]) if call else None
    args = list(call[1:])
    props: dict[str, Any] = {}
    names = V1_EFFECT_ARGS.get(name or "")
    if names is None:
        if args:
            props["args"] = args
    else:
        for prop_name, value in zip(names, args, strict=False):
            props[prop_name] = value
        if len(args) > len(names):
            props["extraArgs"] = args[len(names) :]
    return {
        "campaignId": head[0],
        "rulesetId": head[1],
        "ruleIndex": head[2],
        "ruleName": "",
        "effectType": name or "",
        "props": props,
        "v1Effect": items,
    }


def decode_v1_effect(array: Any) -> Effect:
    """Decode a v1 positional effect array into the same classes as v2 effects."""
    return decode_effect(v1_effect_to_v2(array))


def encode_v1_effect(effect: Mapping[str, Any]) -> list[Any]:
    """The v1 positional form of a v2 effect dict (inverse of :func:`decode_v1_effect`).

    Args follow :data:`V1_EFFECT_ARGS`; trailing absent props are dropped. An unknown
    effect type sends ``props["args"]`` (or nothing).
    """
    effect_type = str(effect.get("effectType") or "")
    props = effect.get("props") if isinstance(effect.get("props"), Mapping) else {}
    assert isinstance(props, Mapping)
    names = V1_EFFECT_ARGS.get(effect_type)
    if names is None:
        args = list(props.get("args") or [])
    else:
        args = [props.get(name) for name in names]
        while args and args[-1] is None:
            args.pop()
    return [
        effect.get("campaignId"),
        effect.get("rulesetId"),
        effect.get("ruleIndex"),
        [effect_type, *args],
    ]
