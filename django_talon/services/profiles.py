"""Users -> Talon.One customer profiles, coupon reservations and referrals (data flows 3, 6)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_talon import outbox
from django_talon.adapters import get_adapter
from django_talon.models import CouponReservation, CustomerProfile, DataDeletionRequest, Referral
from django_talon.moments import for_shop, for_talon, parse_for_shop
from django_talon.promotions.codes import clean_code
from django_talon.services.handlers import (
    COUPON_RELEASE,
    COUPON_RESERVE,
    PROFILE_UPDATE,
    coupon_key,
    profile_key,
)
from django_talon.services.outcomes import SENT, Delivery, deliver_now
from django_talon.services.routing import checked_application, resolved_application

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
        integration_id=integration_id,
        user=user,
        application=checked_application(
            get_adapter().application_for_user(user), "application_for_user"
        ),
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
            application=profile.application,
        )
        _enqueue_in_other_applications(profile, payload)
    return profile


def _enqueue_in_other_applications(profile: CustomerProfile, payload: dict[str, Any]) -> None:
    """Several Applications: the profile also goes to each other Application the customer
    has sessions in (its own key there, so the Applications' rows never coalesce). Their
    fingerprint differs per Application, so delivery's "already sent" check compares a row
    with what that Application's row sent. One query, only with ``TALON["APPLICATIONS"]``.
    """
    from django_talon.conf import talon_settings

    config = talon_settings.config
    if not config.APPLICATIONS:
        return
    own = config.application(profile.application).name
    names = set(profile.sessions.values_list("application", flat=True).distinct())
    # "default" (rows from before APPLICATIONS) is the default Application; a name no longer
    # configured gets nothing (its sessions cannot be delivered either).
    known = {
        config.application(n).name for n in names if n in config.applications or n == "default"
    }
    for application in sorted(known - {own}):
        outbox.enqueue(
            PROFILE_UPDATE,
            f"{profile_key(profile.integration_id)}@{application}",
            payload,
            fingerprint_value=outbox.fingerprint({**payload, "application": application}),
            application=application,
        )


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


def _spelled(code: str) -> str:
    """``code`` as the local reservations already spell it (codes match case-insensitively,
    like Talon.One: ``vip20`` releases ``VIP20``), else as given."""
    code = clean_code(code)
    stored: str | None = (
        CouponReservation.objects.filter(coupon_code__iexact=code)
        .values_list("coupon_code", flat=True)
        .first()
    )
    return stored or code


def _write_reservations(
    code: str, profiles: list[CustomerProfile], *, synced: bool = False
) -> list[CouponReservation]:
    """The local rows of ``code`` for ``profiles`` (existing ones in any case are kept).

    Four queries per batch of :data:`RESERVATION_BATCH` customers, however many there are
    (a lookup and an insert per customer made "select all" on 2,000 profiles 4,000 queries
    and 9 s in one admin request): the customers who have a row in any case, one
    ``bulk_create`` of the others (``ignore_conflicts``: a row a concurrent request just
    wrote is kept), one update of ``synced_at`` and the rows read back with their ids.
    """
    now = timezone.now() if synced else None
    rows: list[CouponReservation] = []
    for start in range(0, len(profiles), RESERVATION_BATCH):
        batch = profiles[start : start + RESERVATION_BATCH]
        mine = CouponReservation.objects.filter(coupon_code__iexact=code, profile__in=batch)
        have = set(mine.values_list("profile_id", flat=True))
        CouponReservation.objects.bulk_create(
            [
                CouponReservation(profile=p, coupon_code=code, synced_at=now)
                for p in batch
                if p.pk not in have
            ],
            ignore_conflicts=True,
        )
        if synced:
            mine.filter(synced_at__isnull=True).update(synced_at=now)
        found = {row.profile_id: row for row in mine}
        for p in batch:
            if p.pk in found:
                found[p.pk].profile = p  # the caller's object: no query per row for it
                rows.append(found[p.pk])
    return rows


def _by_application(profiles: Iterable[CustomerProfile]) -> dict[str, list[CustomerProfile]]:
    """The profiles grouped by the Application each is written through, in order: a coupon
    is one Application's (its campaign's), so each group's call goes to its own."""
    groups: dict[str, list[CustomerProfile]] = {}
    for profile in profiles:
        groups.setdefault(resolved_application(profile.application), []).append(profile)
    return groups


def _enqueue_reservations(
    kind: str, code: str, profiles: Iterable[CustomerProfile], *, deliver: bool = True
) -> list[int]:
    """One outbox row per batch of :data:`RESERVATION_BATCH` customers of one Application
    (sent through that Application); returns the rows' ids."""
    queued: list[int] = []
    for application, group in _by_application(profiles).items():
        ids = [p.integration_id for p in group]
        for start in range(0, len(ids), RESERVATION_BATCH):
            queued.append(
                outbox.enqueue(
                    kind,
                    coupon_key(code),
                    {"code": code, "integration_ids": ids[start : start + RESERVATION_BATCH]},
                    deliver=deliver,
                    application=application,
                ).pk
            )
    return queued


def reserve_coupon(code: str, customers: Iterable[Any]) -> list[CouponReservation]:
    """Reserve ``code`` for users or profiles: local rows now, the API call via the outbox.

    Nothing checks the code first (for imports and scripts that know their codes); staff
    surfaces use :func:`reserve_coupon_checked`. The rows show as the customers' codes only
    once Talon.One accepted them (``synced_at``): a reservation Talon.One refuses is never
    shown (:func:`reserved_coupons`).
    """
    code = _spelled(code)
    profiles = _profiles(customers)
    with transaction.atomic(savepoint=False):
        reservations = _write_reservations(code, profiles)
        _enqueue_reservations(COUPON_RESERVE, code, profiles)
    return reservations


class ReservationRefused(ValueError):  # noqa: N818  (a refusal, like Django's PermissionDenied)
    """Talon.One refused to reserve the code: ``reason`` is ``"unknown"`` (no such coupon),
    ``"expired"``, ``"used_up"`` or ``"refused"`` (another 400); ``message`` is the
    translated sentence for staff. Nothing is left reserved."""

    MESSAGES: ClassVar[dict[str, Any]] = {
        "unknown": _("Talon.One has no coupon %(code)s."),
        "expired": _("Coupon %(code)s has expired in Talon.One."),
        "used_up": _("Coupon %(code)s has reached its usage limit in Talon.One."),
        "refused": _("Talon.One refused to reserve coupon %(code)s."),
        "several_applications": _(
            "Coupon %(code)s belongs to one Talon.One Application, and these customers are "
            "in several: reserve it for each Application's customers separately."
        ),
    }

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        self.message = str(self.MESSAGES[reason] % {"code": code})
        super().__init__(self.message)


def _unusable(coupon: Any) -> str:
    """Why Talon.One's answer about a coupon says it cannot be redeemed ("" if it can).

    Never raises: it runs after Talon.One accepted the reservation. The expiry is read in
    the shop's convention (an aware date against the naive ``timezone.now()`` of a
    ``USE_TZ = False`` shop was a ``TypeError`` that left the reservation unmirrored)."""
    expiry = parse_for_shop(coupon.expiry_date)
    if expiry is not None and expiry <= timezone.now():
        return "expired"
    if coupon.usage_limit and (coupon.usage_counter or 0) >= coupon.usage_limit:
        return "used_up"
    return ""


def reserve_coupon_checked(code: str, customers: Iterable[Any]) -> list[CouponReservation]:
    """Staff reservations (the admin action, ``POST staff/reservations/``): Talon.One checks
    the code before anything is accepted.

    The first batch (up to 1000 customers) is reserved synchronously: Talon.One answers an
    unknown code with 404 (raised as :class:`ReservationRefused`, nothing written), and its
    answer, the coupon, says whether it expired or is used up (then the new reservations are
    deleted again and :class:`ReservationRefused` is raised). The local rows carry the
    spelling Talon.One answered with (``vip20`` typed, ``VIP20`` stored) and show as the
    customers' codes at once; further batches follow through the outbox. Raises
    :class:`~django_talon.exceptions.TalonUnavailableError` when Talon.One cannot be asked
    (nothing is reserved then: a code that was never checked is not accepted). When the
    local rows cannot be written after Talon.One accepted, the new reservations are
    released there again before the error is raised (and logged if that fails too).
    """
    from django_talon import resilience
    from django_talon.exceptions import TalonRequestFailedError

    code = _spelled(code)
    profiles = _profiles(customers)
    if not profiles:
        return []
    applications = _by_application(profiles)
    if len(applications) > 1:
        raise ReservationRefused(code, "several_applications")
    (application,) = applications
    first = [p.integration_id for p in profiles[:RESERVATION_BATCH]]
    already = set(
        CouponReservation.objects.filter(
            coupon_code__iexact=code, profile__in=profiles[:RESERVATION_BATCH]
        ).values_list("profile__integration_id", flat=True)
    )
    new = [i for i in first if i not in already]
    outbox.deliver_key(coupon_key(code), force=True)  # earlier writes of the code go first
    try:
        with resilience.guarded("reserve a coupon", application=application) as client:
            coupon = client.create_coupon_reservation(code, first)
            unusable = _unusable(coupon)
            if unusable and new:
                client.delete_coupon_reservation(code, new)
    except TalonRequestFailedError as exc:
        if exc.status == 404:
            raise ReservationRefused(code, "unknown") from exc
        if exc.status == 400:
            raise ReservationRefused(code, "refused") from exc
        raise
    if unusable:
        raise ReservationRefused(coupon.value or code, unusable)
    code = coupon.value or code
    try:
        # A savepoint: a failed write leaves the caller's transaction usable for the undo.
        with transaction.atomic():
            reservations = _write_reservations(code, profiles[:RESERVATION_BATCH], synced=True)
            rest = profiles[RESERVATION_BATCH:]
            reservations += _write_reservations(code, rest)
            _enqueue_reservations(COUPON_RESERVE, code, rest)
    except Exception as exc:
        _undo_reservation(code, new, exc, application)
        raise
    return reservations


def _undo_reservation(
    code: str, integration_ids: list[str], cause: BaseException, application: str
) -> None:
    """Talon.One holds the reservation but the local rows could not be written: release the
    customers it did not hold before, so that Talon.One and the mirror agree again (nothing
    reserved, as the error the caller sees says). When even that fails, an error log names
    the code and the customers: never a reservation Talon.One holds and nobody knows of."""
    from django_talon import resilience

    logger.error(
        "coupon %s: Talon.One accepted the reservation but the local rows failed (%r); "
        "releasing it again for %d customer(s)",
        code,
        cause,
        len(integration_ids),
    )
    if not integration_ids:
        return
    try:
        with resilience.guarded("release a coupon reservation", application=application) as client:
            client.delete_coupon_reservation(code, integration_ids)
    except Exception:
        logger.exception(
            "coupon %s stays reserved in Talon.One without local rows for %s: release it "
            "there or reserve it again",
            code,
            ", ".join(integration_ids),
        )


def release_coupon(code: str, customers: Iterable[Any]) -> int:
    """Remove reservations of ``code`` (in any case): local rows now, the API call via the
    outbox (for imports and scripts; staff surfaces use :func:`release_coupon_now`, which
    keeps the rows of a release Talon.One refuses)."""
    code = _spelled(code)
    profiles = _profiles(customers)
    with transaction.atomic(savepoint=False):
        deleted, _deleted = CouponReservation.objects.filter(
            coupon_code__iexact=code, profile__in=profiles
        ).delete()
        _enqueue_reservations(COUPON_RELEASE, code, profiles)
    return int(deleted)


@dataclass(frozen=True)
class Release:
    """What :func:`release_coupon_now` did: ``released`` local rows deleted (Talon.One
    confirmed the release, or it is queued for a retry), ``kept`` local rows of customers
    whose release Talon.One refused (it still holds their reservation), ``delivery`` the
    outcome of the DELETE calls (sent / queued / refused, with the reason)."""

    code: str
    released: int
    kept: int
    delivery: Delivery


def release_coupon_now(code: str, customers: Iterable[Any]) -> Release:
    """Staff releases (the admin action): the DELETE is delivered before the local rows go.

    :func:`release_coupon` deletes the local rows and queues the DELETE; when Talon.One then
    refuses it (a dead letter), it still holds the reservation while the mirror showed none.
    Here the DELETE calls (one per batch of :data:`RESERVATION_BATCH`) are queued in a
    transaction of their own and delivered at once; then the rows of the customers whose
    release Talon.One accepted, or that is still queued (an outage: the outbox retries it,
    as for :func:`release_coupon`), are deleted, and the rows of those whose release it
    refused are kept: the reservation list keeps showing what Talon.One holds, and the
    dead letter in the outbox says why. A release refused only on a later retry (after an
    outage) leaves its dead letter but no local row.
    """
    code = _spelled(code)
    profiles = _profiles(customers)
    key = coupon_key(code)
    with transaction.atomic():
        queued = _enqueue_reservations(COUPON_RELEASE, code, profiles, deliver=False)
    delivery = deliver_now(key, queued) if queued else Delivery(SENT)
    refused = {str(i) for row in delivery.dead for i in row.payload.get("integration_ids", [])}
    rows = CouponReservation.objects.filter(coupon_code__iexact=code)
    released, _deleted = rows.filter(
        profile__in=[p for p in profiles if p.integration_id not in refused]
    ).delete()
    kept = rows.filter(profile__in=[p for p in profiles if p.integration_id in refused]).count()
    return Release(code=code, released=int(released), kept=kept, delivery=delivery)


def customer_reservations(user: Any) -> QuerySet[CouponReservation]:
    """The user's reservations that Talon.One accepted (``synced_at`` set), by code.

    What every customer surface shows ("My coupons", ``me/reserved-coupons/``, the template
    tag): a reservation still queued, or one Talon.One refused (a dead letter), is not the
    customer's code (yet). Erased customers have none.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        rows: QuerySet[CouponReservation] = CouponReservation.objects.none()
    else:
        rows = CouponReservation.objects.filter(
            profile__user=user, profile__erased_at__isnull=True, synced_at__isnull=False
        )
    ordered: QuerySet[CouponReservation] = rows.order_by("coupon_code")
    return ordered


def reserved_coupons(user: Any) -> list[str]:
    """Coupon codes reserved for a user and accepted by Talon.One (local mirror, no API
    call; see :func:`customer_reservations`)."""
    return list(
        customer_reservations(user).order_by("created_at").values_list("coupon_code", flat=True)
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

    ``start_date`` and ``expiry_date`` may be naive: they are the shop's local time (the
    current time zone), as Django takes naive datetimes, and are sent with that offset.
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
    # Naive dates are the shop's local time: sent aware (the client would take them for
    # UTC), stored as the shop's database takes them (SQLite refuses aware ones under
    # USE_TZ = False).
    with resilience.guarded(
        "create a referral", application=profile.application
    ) as client:  # the advocate's Application: the campaign is one of its own
        outbox.deliver_key(profile_key(profile.integration_id), force=True)
        made = client.create_referral(
            campaign_id,
            profile.integration_id,
            friend_profile_integration_id=friend_id,
            start_date=for_talon(start_date) if start_date is not None else None,
            expiry_date=for_talon(expiry_date) if expiry_date is not None else None,
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
        start_date=for_shop(start_date) if start_date is not None else None,
        expiry_date=for_shop(expiry_date) if expiry_date is not None else None,
        usage_limit=usage_limit,
        raw=made.raw,
    )
    return referral
