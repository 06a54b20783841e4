"""Codes a rule gave a customer become the customer's codes in the local mirror.

Talon.One answers a session or profile update with effects that hand out codes:
``couponCreated`` (a coupon generated for a profile), ``referralCreated`` (a referral code
for the session's customer, the advocate) and ``reserveCoupon`` (an existing coupon
reserved for a profile), and with the full objects in ``createdCoupons`` /
``createdReferrals``. Decoded and dropped, the customer never saw them; here they become
rows: a created or reserved coupon is a ``CouponReservation`` of the profile (so "My
coupons" and the REST ``me/coupons`` endpoint list it), a created referral a ``Referral`` of
its advocate (``me/referrals``). Talon.One already holds them, so the rows are written as
delivered (``synced_at`` set) and no outbox row is queued.

Called by the outbox handlers inside the delivery transaction, so the rows commit with the
answer that created them. Profiles the shop does not know locally (a code created for a
customer who never signed in here) are skipped: there is nobody to show them to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from django_talon.client.effects import CouponCreated, Effect, ReferralCreated, ReserveCoupon
from django_talon.models import CouponReservation, CustomerProfile, CustomerSession, Referral
from django_talon.moments import parse_for_shop

logger = logging.getLogger("django_talon.services")

__all__ = ["store_created_codes"]


def _profiles(ids: Iterable[str]) -> dict[str, CustomerProfile]:
    """The live (not erased) local profiles among ``ids``, by integration id (one query)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = CustomerProfile.objects.filter(integration_id__in=wanted, erased_at__isnull=True)
    return {p.integration_id: p for p in rows}


def _coupons_for(
    session: CustomerSession, effects: Iterable[Effect], created: Iterable[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(profile integration id, code) of every coupon handed out by this answer."""
    default = session.profile_integration_id
    pairs: list[tuple[str, str]] = []
    for effect in effects:
        if isinstance(effect, CouponCreated) and effect.value:
            pairs.append((effect.profile_id or default, effect.value))
        elif isinstance(effect, ReserveCoupon) and effect.coupon_value:
            pairs.append((effect.profile_integration_id or default, effect.coupon_value))
    for coupon in created:
        code = coupon.get("value")
        if isinstance(code, str) and code:
            pairs.append((str(coupon.get("recipientIntegrationId") or default), code))
    return list(dict.fromkeys(pairs))


def _store_coupons(pairs: list[tuple[str, str]]) -> int:
    profiles = _profiles(p for p, _ in pairs)
    now = timezone.now()
    stored = 0
    for integration_id, code in pairs:
        profile = profiles.get(integration_id)
        if profile is None:
            logger.info("coupon %s handed to unknown profile %r: not stored", code, integration_id)
            continue
        _row, created = CouponReservation.objects.get_or_create(
            profile=profile, coupon_code=code, defaults={"synced_at": now}
        )
        stored += int(created)
    return stored


def _date(value: Any) -> Any:
    """A date of Talon.One's answer for a ``Referral`` column, in the shop's convention:
    SQLite and MySQL refuse an aware value under ``USE_TZ = False`` (the whole handler of the
    session's answer failed), and an impossible date is None, not a crash."""
    return parse_for_shop(value)


def _store_referrals(
    session: CustomerSession, effects: Iterable[Effect], created: Iterable[Mapping[str, Any]]
) -> int:
    """``Referral`` rows: the full objects of ``createdReferrals`` first, then codes only
    the ``referralCreated`` effect named (advocate: the session's customer)."""
    objects: dict[str, dict[str, Any]] = {}
    for referral in created:
        code = referral.get("code")
        if isinstance(code, str) and code:
            objects[code] = dict(referral)
    for effect in effects:
        if isinstance(effect, ReferralCreated) and effect.value:
            objects.setdefault(
                effect.value, {"code": effect.value, "campaignId": effect.campaign_id}
            )
    default = session.profile_integration_id
    profiles = _profiles(
        str(o.get("advocateProfileIntegrationId") or default) for o in objects.values()
    )
    stored = 0
    for code, raw in objects.items():
        advocate = profiles.get(str(raw.get("advocateProfileIntegrationId") or default))
        if advocate is None:
            logger.info("referral %s created for an unknown advocate: not stored", code)
            continue
        _row, created_row = Referral.objects.get_or_create(
            code=code,
            defaults={
                "advocate": advocate,
                "campaign_id": int(raw.get("campaignId") or 0),
                "talon_id": raw.get("id") if isinstance(raw.get("id"), int) else None,
                "friend_integration_id": str(raw.get("friendProfileIntegrationId") or ""),
                "start_date": _date(raw.get("startDate")),
                "expiry_date": _date(raw.get("expiryDate")),
                "usage_limit": raw.get("usageLimit")
                if isinstance(raw.get("usageLimit"), int)
                else None,
                "raw": raw,
            },
        )
        stored += int(created_row)
    return stored


def _objects(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def store_created_codes(
    session: CustomerSession, effects: Iterable[Effect], raw_answer: Mapping[str, Any]
) -> int:
    """Store the codes an answer handed out; returns how many rows were new. An answer that
    hands out nothing costs no query (the session's profile is not even read)."""
    effects = [e for e in effects if isinstance(e, CouponCreated | ReferralCreated | ReserveCoupon)]
    if not (effects or raw_answer.get("createdCoupons") or raw_answer.get("createdReferrals")):
        return 0
    coupons = _coupons_for(session, effects, _objects(raw_answer.get("createdCoupons")))
    stored = _store_coupons(coupons) if coupons else 0
    return stored + _store_referrals(session, effects, _objects(raw_answer.get("createdReferrals")))
