"""Bulk memberships: audience memberships and one coupon's reservations, in batches.

Apart from :mod:`django_talon.services.bulk_sync` (profiles: checkpoints, fingerprints, the
mirror) because these are set operations with no resumable state: repeating one is
harmless, so a failed run is simply run again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_talon.services.bulk_sync import MAX_BATCH_SIZE


# -- audiences ----------------------------------------------------------------------------------
def sync_audiences(
    audience_id: int,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    batch_size: int = MAX_BATCH_SIZE,
    client: Any = None,
) -> int:
    """Add profiles to / remove them from one audience (``POST /v2/customer_audiences``).

    ``add``/``remove`` are integration ids; actions go out in batches of ≤ 1000 (the API's
    limit), adds first. Repeating a call is harmless (membership is a set). Returns the
    number of API calls made. Each batch goes through :func:`~django_talon.resilience.guarded`
    (the breaker sees its outcome); a failure raises the ``django_talon.exceptions`` error.
    """
    from django_talon import resilience

    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}")
    actions = [
        {"action": "add", "profileIntegrationId": str(i), "audienceId": int(audience_id)}
        for i in add
    ] + [
        {"action": "delete", "profileIntegrationId": str(i), "audienceId": int(audience_id)}
        for i in remove
    ]
    calls = 0
    for start in range(0, len(actions), batch_size):
        with resilience.guarded("update audience memberships") as configured:
            (client or configured).update_customer_profile_audiences(
                actions[start : start + batch_size]
            )
        calls += 1
    return calls


# -- coupon reservations ------------------------------------------------------------------------
@dataclass
class ReservationSyncResult:
    """How the local mirror of one coupon's reservations changed."""

    code: str
    remote: int = 0
    added: int = 0
    removed: int = 0
    unknown_profiles: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_reservations(
    code: str, *, client: Any = None, application: str | None = None
) -> ReservationSyncResult:
    """Make the local ``CouponReservation`` rows of ``code`` match Talon.One.

    Reservations are also made outside the shop (Campaign Manager, imports), so Talon.One is
    the truth: ``GET /v1/coupon_reservations/customerprofiles/{code}`` is read, missing local
    rows are created (for profiles the shop knows), and local rows Talon.One no longer has
    are deleted, except rows still waiting for the outbox (``synced_at`` empty), which
    Talon.One simply has not seen yet. Running it twice changes nothing the second time.

    ``application`` names the Application the coupon is one of (the default one when not
    given): it is asked, and only the local rows of its customers are compared (another
    Application's customers' reservations of the same code are left alone).
    """
    from django_talon import resilience
    from django_talon.models import CouponReservation, CustomerProfile
    from django_talon.services.routing import resolved_application

    code = code.strip()
    app = resilience.application_name(application)

    def ours(profile: CustomerProfile) -> bool:
        return resolved_application(profile.application) == app

    with resilience.guarded("read a coupon's reservations", application=app) as configured:
        page = (client or configured).get_reserved_customers(code)
    remote_ids = {p.integration_id for p in page.data if p.integration_id}
    result = ReservationSyncResult(code=code, remote=len(remote_ids))
    now = timezone.now()
    with transaction.atomic():
        local = {
            r.profile.integration_id: r
            for r in CouponReservation.objects.filter(coupon_code=code).select_related("profile")
            if ours(r.profile)
        }
        missing = remote_ids - set(local)
        profiles = [
            p
            for p in CustomerProfile.objects.filter(
                integration_id__in=missing, erased_at__isnull=True
            )
            if ours(p)
        ]
        result.unknown_profiles = len(missing) - len(profiles)
        CouponReservation.objects.bulk_create(
            [CouponReservation(profile=p, coupon_code=code, synced_at=now) for p in profiles],
            ignore_conflicts=True,
        )
        result.added = len(profiles)
        stale = [
            r.pk for iid, r in local.items() if iid not in remote_ids and r.synced_at is not None
        ]
        if stale:
            CouponReservation.objects.filter(pk__in=stale).delete()
        result.removed = len(stale)
        CouponReservation.objects.filter(
            coupon_code=code, profile__integration_id__in=remote_ids, synced_at__isnull=True
        ).update(synced_at=now)
    return result
