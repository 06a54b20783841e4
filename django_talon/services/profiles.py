"""Users -> Talon.One customer profiles, coupon reservations and referrals (data flows 3, 6)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_talon import outbox
from django_talon.adapters import get_adapter
from django_talon.models import CouponReservation, CustomerProfile, DataDeletionRequest, Referral
from django_talon.services.handlers import (
    COUPON_RELEASE,
    COUPON_RESERVE,
    PROFILE_UPDATE,
    coupon_key,
    profile_key,
)

logger = logging.getLogger("django_talon.services")

#: Talon.One accepts at most this many integration ids per reservation call.
RESERVATION_BATCH = 1000


def profile_for_user(user: Any, *, create: bool = True) -> CustomerProfile:
    """The user's :class:`CustomerProfile` (created with the adapter's integration id).

    Uses ``user.talon_profile`` when already loaded; otherwise one query (+ one insert).
    An erased customer (GDPR) gets the tombstone of their integration id back, unlinked
    (``erased_at`` set, ``user`` None): erasure is final, the profile is never linked to a
    user again and nothing is sent for it (``sync_profile``, reservations and the delivery
    of session writes all check ``erased_at``). A kept user who should shop with promotions
    again needs a new integration id from the adapter.
    """
    try:
        profile = user.talon_profile
    except CustomerProfile.DoesNotExist:
        profile = None
    if profile is not None:
        found: CustomerProfile = profile
        return found
    if not create:
        raise CustomerProfile.DoesNotExist(f"user {user.pk} has no Talon.One profile yet")
    integration_id = get_adapter().integration_id(user)
    try:
        with transaction.atomic():
            profile = (
                CustomerProfile.objects.select_for_update()
                .filter(integration_id=integration_id)
                .first()
            )
            if profile is None:
                profile = _new_profile(user, integration_id)
            elif profile.erased_at is None and profile.user_id != user.pk:
                profile.user = user
                profile.save(update_fields=["user", "updated_at"])
    except IntegrityError:
        profile = CustomerProfile.objects.get(integration_id=integration_id)
    result: CustomerProfile = profile
    return result


def _new_profile(user: Any, integration_id: str) -> CustomerProfile:
    """A first profile for the id, or a tombstone when the id was erased without one (an
    erasure by integration id, before this change: the audit row is the only trace)."""
    if DataDeletionRequest.objects.filter(integration_id=integration_id).exists():
        erased: CustomerProfile = CustomerProfile.objects.create(
            integration_id=integration_id, erased_at=timezone.now()
        )
        return erased
    created: CustomerProfile = CustomerProfile.objects.create(
        integration_id=integration_id, user=user
    )
    return created


def sync_profile(user: Any, *, force: bool = False) -> CustomerProfile:
    """Queue the user's profile attributes for Talon.One (coalesced, delivered asynchronously).

    Unchanged attributes -> no outbox row. ``force=True`` queues anyway *and* forgets that
    this payload was delivered before (``pushed_fingerprint``), because delivery skips a
    payload Talon.One already has: a forced sync is for a Talon.One that lost it (a fresh
    emulator, a restored or switched Application), so it must really be sent again.
    """
    profile = profile_for_user(user)
    if profile.erased_at is not None:  # erased: nothing of theirs is stored or sent again
        return profile
    attributes = get_adapter().profile_attributes(user)
    payload = {"integration_id": profile.integration_id, "attributes": attributes}
    fp = outbox.fingerprint(payload)
    if fp == profile.fingerprint and not force:
        return profile
    with transaction.atomic(savepoint=False):
        changes: dict[str, Any] = {"attributes": attributes, "fingerprint": fp}
        if force:
            changes["pushed_fingerprint"] = ""
        # Conditional, not ``save()``: ``user.talon_profile`` may be a copy loaded before an
        # erasure, whose attributes must not come back (the row says ``erased_at``).
        stored = CustomerProfile.objects.filter(pk=profile.pk, erased_at__isnull=True).update(
            **changes, updated_at=timezone.now()
        )
        if not stored:
            profile.refresh_from_db()
            return profile
        for name, value in changes.items():
            setattr(profile, name, value)
        outbox.enqueue(
            PROFILE_UPDATE,
            profile_key(profile.integration_id),
            payload,
            fingerprint_value=fp,
        )
    return profile


def _profiles(customers: Iterable[Any]) -> list[CustomerProfile]:
    """The customers' profiles, leaving out erased ones (nothing is reserved for them)."""
    result = []
    for customer in customers:
        if isinstance(customer, CustomerProfile):
            profile = customer
        else:
            profile = profile_for_user(customer)
        if profile.erased_at is None:
            result.append(profile)
    return result


def reserve_coupon(code: str, customers: Iterable[Any]) -> list[CouponReservation]:
    """Reserve ``code`` for users or profiles: local rows now, the API call via the outbox."""
    code = code.strip()
    profiles = _profiles(customers)
    reservations: list[CouponReservation] = []
    with transaction.atomic(savepoint=False):
        for profile in profiles:
            reservation, _ = CouponReservation.objects.get_or_create(
                profile=profile, coupon_code=code
            )
            reservations.append(reservation)
        ids = [p.integration_id for p in profiles]
        for start in range(0, len(ids), RESERVATION_BATCH):
            outbox.enqueue(
                COUPON_RESERVE,
                coupon_key(code),
                {"code": code, "integration_ids": ids[start : start + RESERVATION_BATCH]},
            )
    return reservations


def release_coupon(code: str, customers: Iterable[Any]) -> int:
    """Remove reservations of ``code``: local rows now, the API call via the outbox."""
    code = code.strip()
    profiles = _profiles(customers)
    with transaction.atomic(savepoint=False):
        deleted, _ = CouponReservation.objects.filter(
            coupon_code=code, profile__in=profiles
        ).delete()
        ids = [p.integration_id for p in profiles]
        for start in range(0, len(ids), RESERVATION_BATCH):
            outbox.enqueue(
                COUPON_RELEASE,
                coupon_key(code),
                {"code": code, "integration_ids": ids[start : start + RESERVATION_BATCH]},
            )
    return int(deleted)


def reserved_coupons(user: Any) -> list[str]:
    """Coupon codes reserved for a user (from the local mirror, no API call)."""
    return list(
        CouponReservation.objects.filter(profile__user=user)
        .order_by("created_at")
        .values_list("coupon_code", flat=True)
    )


def create_referral(
    user: Any,
    campaign_id: int,
    *,
    friend: Any | None = None,
    start_date: datetime | None = None,
    expiry_date: datetime | None = None,
    usage_limit: int | None = None,
    attributes: dict[str, Any] | None = None,
) -> Referral:
    """Create a referral code for ``user`` now (synchronous: the code comes from Talon.One).

    Delivers the user's pending profile writes first so the advocate exists in Talon.One.
    Raises :class:`~django_talon.exceptions.TalonUnavailableError` (kill switch, circuit
    open, Talon.One unreachable) or :class:`~django_talon.exceptions.TalonRequestFailedError`
    (an error answer, with its ``status``; also an answer without a new code, ``status``
    201), never the client's own errors. An erased advocate or friend (GDPR) is refused
    before anything is sent: a ``TalonRequestFailedError`` with ``permanent`` set.
    """
    from django_talon import resilience
    from django_talon.exceptions import TalonRequestFailedError

    profile = sync_profile(user)
    friends = _profiles([friend]) if friend is not None else []
    if profile.erased_at is not None or (friend is not None and not friends):
        raise TalonRequestFailedError(
            "create a referral: the customer was erased (GDPR); nothing is sent for them",
            permanent=True,
        )
    friend_id = friends[0].integration_id if friends else None
    with resilience.guarded("create a referral") as client:
        outbox.deliver_key(profile_key(profile.integration_id), force=True)
        made = client.create_referral(
            campaign_id,
            profile.integration_id,
            friend_profile_integration_id=friend_id,
            start_date=start_date,
            expiry_date=expiry_date,
            usage_limit=usage_limit,
            attributes=attributes,
        )
    code = made.code if isinstance(made.code, str) else ""
    if not code or Referral.objects.filter(code=code).exists():
        # Talon.One's answer, not the caller, is wrong: an empty or already known code would
        # be stored as a referral nobody can use (and the code column is unique).
        logger.error("createReferral answered without a new code: %r", made.raw)
        raise TalonRequestFailedError(
            "create a referral: Talon.One answered createReferral without a new referral code",
            status=201,
        )
    referral: Referral = Referral.objects.create(
        advocate=profile,
        campaign_id=campaign_id,
        code=code,
        talon_id=made.id,
        friend_integration_id=friend_id or "",
        start_date=start_date,
        expiry_date=expiry_date,
        usage_limit=usage_limit,
        raw=made.raw,
    )
    return referral
