"""Human, translatable messages for coupon and referral rejection reasons.

Talon.One answers a rejected code with a machine reason (``rejectCoupon.rejectionReason``,
``rejectReferral.rejectionReason``). Shoppers must never see those identifiers, so every
reason documented by Talon.One has one message here, plus a generic fallback because the
API documents the reasons as *strings, not enums*: a reason added tomorrow must still
produce a polite sentence instead of an error.

Messages are ``gettext_lazy`` strings so that they follow the active language at render
time. Shops customise them in two ways (see docs/messages.md):

* translate or reword them through their own ``locale/`` catalog (the msgids are below), or
* ``TALON = {"REJECTION_MESSAGES": {"CouponExpired": "Too late!", ...}}`` in settings; the
  keys are reasons (coupon and referral reasons share the mapping), ``"coupon:<Reason>"`` /
  ``"referral:<Reason>"`` target one kind only, and ``"*"`` replaces the generic fallback.
  Values may use ``%(code)s`` for the code the shopper typed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

CodeKind = Literal["coupon", "referral"]

#: One message per ``rejectCoupon`` reason documented by Talon.One.
COUPON_REJECTION_MESSAGES: dict[str, Promise] = {
    "CampaignLimitReached": _(
        "The promotion behind coupon %(code)s has reached its limit and is no longer available."
    ),
    "CouponExpired": _("Coupon %(code)s has expired."),
    "CouponLimitReached": _("Coupon %(code)s has already been used the maximum number of times."),
    "CouponNotFound": _("Coupon %(code)s does not exist. Please check the code and try again."),
    "CouponPartOfNotRunningCampaign": _(
        "Coupon %(code)s belongs to a promotion that is not active."
    ),
    "CouponRecipientDoesNotMatch": _("Coupon %(code)s is personal and belongs to someone else."),
    "CouponRejectedByCondition": _(
        "Your cart does not meet the conditions of coupon %(code)s yet."
    ),
    "CouponStartDateInFuture": _("Coupon %(code)s is not valid yet."),
    "EffectCouldNotBeApplied": _("Coupon %(code)s could not be applied to your cart."),
    "ProfileLimitReached": _("You have already used coupon %(code)s as often as allowed."),
    "CouponPartOfNotTriggeredCampaign": _("Coupon %(code)s does not apply to your cart right now."),
    "CouponReservationRequired": _(
        "Coupon %(code)s is reserved for selected customers and is not available to you."
    ),
    "ProfileRequired": _("Please sign in to use coupon %(code)s."),
}

#: One message per ``rejectReferral`` reason documented by Talon.One.
REFERRAL_REJECTION_MESSAGES: dict[str, Promise] = {
    "AdvocateNotFound": _("The customer who shared referral code %(code)s no longer exists."),
    "CampaignLimitReached": _("The referral programme behind code %(code)s has reached its limit."),
    "EffectCouldNotBeApplied": _("Referral code %(code)s could not be applied to your cart."),
    "ProfileLimitReached": _("You have already used referral code %(code)s as often as allowed."),
    "ReferralCustomerAlreadyReferred": _("You have already been referred by another customer."),
    "ReferralExpired": _("Referral code %(code)s has expired."),
    "ReferralLimitReached": _("Referral code %(code)s has already been used too many times."),
    "ReferralNotFound": _(
        "Referral code %(code)s does not exist. Please check the code and try again."
    ),
    "ReferralPartOfNotRunningCampaign": _(
        "Referral code %(code)s belongs to a programme that is not active."
    ),
    "ReferralRecipientDoesNotMatch": _("Referral code %(code)s was issued for someone else."),
    "ReferralRecipientIdSameAsAdvocate": _("You cannot use your own referral code."),
    "ReferralRejectedByCondition": _(
        "Your cart does not meet the conditions of referral code %(code)s yet."
    ),
    "ReferralStartDateInFuture": _("Referral code %(code)s is not valid yet."),
    "ReferralPartOfNotTriggeredCampaign": _(
        "Referral code %(code)s does not apply to your cart right now."
    ),
}

#: Used for reasons Talon.One adds after this release (the API treats reasons as open).
GENERIC_COUPON_MESSAGE: Promise = _("Coupon %(code)s could not be applied.")
GENERIC_REFERRAL_MESSAGE: Promise = _("Referral code %(code)s could not be applied.")

_BUILTIN: dict[CodeKind, tuple[dict[str, Promise], Promise]] = {
    "coupon": (COUPON_REJECTION_MESSAGES, GENERIC_COUPON_MESSAGE),
    "referral": (REFERRAL_REJECTION_MESSAGES, GENERIC_REFERRAL_MESSAGE),
}


def _overrides() -> Mapping[str, Any]:
    """Read ``TALON["REJECTION_MESSAGES"]`` at call time so override_settings works in tests."""
    from django_talon.conf import talon_settings

    overrides = talon_settings.REJECTION_MESSAGES or {}
    if not isinstance(overrides, Mapping):
        logger.warning(
            "TALON['REJECTION_MESSAGES'] must be a mapping; ignoring %r", type(overrides)
        )
        return {}
    return overrides


def message_template(kind: CodeKind, reason: str | None) -> str | Promise:
    """Return the (untranslated, lazy) template for ``reason``; never raises.

    Lookup order: ``"<kind>:<reason>"`` override, ``"<reason>"`` override, built-in message,
    ``"<kind>:*"`` / ``"*"`` override, built-in generic message.
    """
    builtin, generic = _BUILTIN[kind]
    overrides = _overrides()
    reason = reason or ""
    for key in (f"{kind}:{reason}", reason):
        if reason and key in overrides:
            return overrides[key]  # type: ignore[no-any-return]
    if reason in builtin:
        return builtin[reason]
    if reason:
        logger.info("No message for %s rejection reason %r; using the generic one", kind, reason)
    for key in (f"{kind}:*", "*"):
        if key in overrides:
            return overrides[key]  # type: ignore[no-any-return]
    return generic


def rejection_message(kind: CodeKind, reason: str | None, code: str = "") -> str:
    """The shopper-facing sentence for a rejected ``code``, in the active language.

    Translation happens here (not at import) so one process serves every language. A
    broken override (bad ``%`` placeholder) falls back to the unformatted text instead of
    breaking the cart page.
    """
    raw = message_template(kind, reason)
    # Built-ins are lazy (translated by str()); plain override strings go through gettext so
    # a shop can still translate its own wording in its catalog.
    template = str(raw) if isinstance(raw, Promise) else gettext(str(raw))
    try:
        return template % {"code": code}
    except (KeyError, ValueError, TypeError) as exc:
        logger.warning("Rejection message %r could not be formatted: %s", template, exc)
        return template


def coupon_rejection_message(reason: str | None, code: str = "") -> str:
    """Shortcut for :func:`rejection_message` with ``kind="coupon"``."""
    return rejection_message("coupon", reason, code)


def referral_rejection_message(reason: str | None, code: str = "") -> str:
    """Shortcut for :func:`rejection_message` with ``kind="referral"``."""
    return rejection_message("referral", reason, code)
