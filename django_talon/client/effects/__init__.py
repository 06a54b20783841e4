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

Where things live (everything is importable from this package, as before it was one module):

- :mod:`.convert`: the tolerant converters (``to_decimal``, ``to_int``, ...), shared with
  the response models;
- :mod:`.base`: :class:`Effect`, :class:`UnknownEffect`, the registry (:data:`EFFECT_TYPES`,
  :data:`V1_EFFECT_ARGS`) and the ``register`` decorator that fills it;
- one module per kind of effect: :mod:`.discounts`, :mod:`.codes` (coupons and referrals),
  :mod:`.loyalty`, :mod:`.messages` (free items, notifications, webhooks, attributes,
  custom and error effects), :mod:`.engagement` (giveaways, audiences, achievements);
- :mod:`.decode`: :func:`decode_effect`, :func:`decode_effects`, the v1 array conversions.

A new effect type goes into the module of its kind with ``@register("effectType")``; importing
this package imports every kind module, so the registry is complete before anything decodes.
"""

from __future__ import annotations

from .base import EFFECT_TYPES, V1_EFFECT_ARGS, Effect, UnknownEffect
from .codes import (
    AcceptCoupon,
    AcceptReferral,
    CouponCreated,
    RedeemReferral,
    ReferralCreated,
    RejectCoupon,
    RejectReferral,
    ReserveCoupon,
    RollbackCoupon,
    RollbackReferral,
)
from .convert import to_bool as to_bool
from .convert import to_decimal as to_decimal
from .convert import to_dict as to_dict
from .convert import to_int as to_int
from .convert import to_list as to_list
from .convert import to_str as to_str
from .decode import decode_effect, decode_effects, decode_v1_effect, encode_v1_effect
from .decode import v1_effect_to_v2 as v1_effect_to_v2
from .discounts import (
    RollbackDiscount,
    SetDiscount,
    SetDiscountPerAdditionalCost,
    SetDiscountPerAdditionalCostPerItem,
    SetDiscountPerItem,
)
from .engagement import (
    AddToAudience,
    AwardGiveaway,
    IncreaseAchievementProgress,
    RemoveFromAudience,
    RollbackIncreasedAchievementProgress,
    WillAwardGiveaway,
)
from .loyalty import (
    AddLoyaltyPoints,
    ChangeLoyaltyTierLevel,
    DeductLoyaltyPoints,
    ExtendLoyaltyPointsExpiryDate,
    RollbackAddedLoyaltyPoints,
    RollbackDeductedLoyaltyPoints,
    SetLoyaltyPointsExpiryDate,
)
from .messages import (
    AddFreeItem,
    CustomEffect,
    ErrorEffect,
    ShowBundleMetadata,
    ShowNotification,
    TriggerWebhook,
    UpdateAttribute,
)

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
