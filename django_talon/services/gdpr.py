"""GDPR erasure (data flow 4): final from the moment it is requested (docs/gdpr.md).

In the caller's transaction: an audit row (keyed by the integration id: the tombstone every
check reads), the profile row kept with ``erased_at`` and never linked to a user again,
the personal data removed from every row django-talon stores, and ``DELETE
/v1/customer_data/{id}`` queued; after commit the outbox retries it until Talon.One
confirms.

Why "final" needs more than a purge: Talon.One creates unknown profiles on the fly, so any
later write naming the customer (a cart receiver run by the cascade of the user's delete, a
retried or relayed row, a Celery task) would bring them back. Such writes are stopped three
times: :func:`~django_talon.outbox.scheduling.refuse_writes_for` makes ``enqueue`` refuse
them for the rest of the erasure's transaction, the rows already queued are settled here
(``result="erased"``, payload emptied), and the delivery handlers refuse any row whose
customer is erased (:mod:`django_talon.services.handlers`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from django_talon import outbox
from django_talon.adapters import get_adapter
from django_talon.client.validation import MAX_INTEGRATION_ID_LENGTH
from django_talon.conf import talon_settings
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
    Referral,
)
from django_talon.outbox.scheduling import ERASED, erased_in_transaction, refuse_writes_for
from django_talon.services.gdpr_referral_codes import forget_referral_codes, scrub_ledger
from django_talon.services.handlers import (
    CUSTOMER_ERASE,
    profile_key,
    session_key,
)

logger = logging.getLogger("django_talon.services")

__all__ = [
    "erase_customer",
    "erasing",
    "forget_referral_codes",
    "names_customer",
    "process_erasure",
    "purge_local_data",
    "scrub_outbox",
]


def erase_customer(
    user: Any | None = None, *, integration_id: str | None = None, requested_by: str = ""
) -> DataDeletionRequest:
    """Erase a customer: final at once locally, durably in Talon.One.

    In the caller's transaction: an audit :class:`DataDeletionRequest` (integration id, who
    asked, when; nothing else personal) is written: the tombstone of the integration id; the
    profile row (if any) keeps ``erased_at`` and its id only and is never linked to a user
    again (nor is one created for the id later); the customer's personal data is removed
    from the outbox (pending and dead rows are settled as ``erased``, delivered ones lose
    their payload), the coupon reservations, referrals and sessions (see
    :func:`purge_local_data`); every later write for the customer is refused. After commit,
    ``DELETE /v1/customer_data/{id}`` is delivered through the outbox, once through every
    configured Application (``TALON["APPLICATIONS"]``), and retried until Talon.One
    confirms in each (the request becomes ``completed`` and
    :data:`django_talon.signals.erasure_completed` fires). The shop's own ``User`` row is
    the shop's business (delete it, or keep it if the law lets you).

    ``requested_by`` is an opaque reference such as ``"user:12"`` or ``"staff:3"``.
    """
    if integration_id and not integration_id.strip():
        # a blank id would tombstone "" or "   " and DELETE /v1/customer_data/%20
        raise ValueError("erase_customer got a blank integration_id")
    if integration_id and len(integration_id) > MAX_INTEGRATION_ID_LENGTH:  # Talon.One's limit
        raise ValueError(
            f"erase_customer got an integration_id over {MAX_INTEGRATION_ID_LENGTH} characters"
        )
    if user is None and not integration_id:
        raise ValueError("erase_customer needs a user or an integration_id")
    with transaction.atomic(savepoint=False):
        # Read, not locked yet: a delivery of this customer in flight holds its outbox row
        # and then writes the profile row, so the rows are locked in that order here too
        # (the profile first was a deadlock on PostgreSQL, and the erasure was the victim).
        profile = _profile_of(user, integration_id)
        if not integration_id:
            integration_id = (
                profile.integration_id if profile else get_adapter().integration_id(user)
            )
        request: DataDeletionRequest = DataDeletionRequest.objects.create(
            integration_id=integration_id, requested_by=requested_by[:200]
        )
        keys = customer_keys(integration_id, profile)
        refuse_writes_for(integration_id, keys, allow=CUSTOMER_ERASE)
        # The outbox first: waits for a delivery of this customer that is in flight (its row
        # is locked), before the mirrors that delivery may still write are locked here.
        scrub_outbox(integration_id, keys)
        if profile is not None:  # now locked, as the delivery we waited for left it
            profile = CustomerProfile.objects.select_for_update().filter(pk=profile.pk).first()
        if profile is None:
            # Never known here: the audit row is the tombstone (``profile_for_user`` makes
            # an erased profile row of it if the id ever shows up again).
            _forget_friend(integration_id)
            _forget_problems(None, user)
        else:
            purge_local_data(profile, user=user)
            if user is not None:
                # ``user.talon_profile`` may hold the profile as it was before the purge
                # (the cascade's receivers would read it): it is the tombstone from now on.
                relation: Any = CustomerProfile._meta.get_field("user").remote_field
                relation.set_cached_value(user, profile)
        # One DELETE through every Application: Talon.One erases "across all Applications
        # of the key's environment", but which Applications share an environment (or a
        # deployment) the settings cannot tell. A customer known to one of them only is
        # a 404 (confirmed) in the others. Same key: delivered one after the other.
        for application in talon_settings.config.applications:
            outbox.enqueue(
                CUSTOMER_ERASE,
                profile_key(integration_id),
                {"deletion_request_id": request.pk, "integration_id": integration_id},
                application=application,
            )
    logger.info("erasure %s recorded for %s", request.pk, integration_id)
    return request


def _profile_of(user: Any | None, integration_id: str | None) -> CustomerProfile | None:
    """The profile row to erase: by id, else the user's, else the one with the user's id
    (read without a lock: :func:`erase_customer` locks it after the outbox rows)."""
    qs = CustomerProfile.objects.all()
    if integration_id:
        by_id: CustomerProfile | None = qs.filter(integration_id=integration_id).first()
        return by_id
    found: CustomerProfile | None = qs.filter(user=user).first()
    if found is None:
        found = qs.filter(integration_id=get_adapter().integration_id(user)).first()
    return found


def customer_keys(integration_id: str, profile: CustomerProfile | None) -> list[str]:
    """The outbox keys that are the customer's alone: the profile's and its sessions'."""
    if profile is None:
        return [profile_key(integration_id)]
    sessions = CustomerSession.objects.filter(profile=profile).values_list(
        "integration_id", flat=True
    )
    return [profile_key(integration_id), *(session_key(s) for s in sessions)]


def erasing(user: Any) -> bool:
    """Is ``user`` being erased in the current transaction? (The cart receivers ask: the
    cascade of a user's delete must not store the cart's attributes again.) No query."""
    return erased_in_transaction(get_adapter().integration_id(user))


# -- the outbox -------------------------------------------------------------------------------
def names_customer(value: Any, integration_id: str) -> bool:
    """Does a stored JSON value name the customer (the integration id as a string anywhere)?"""
    if isinstance(value, str):
        return value == integration_id
    if isinstance(value, dict):
        return any(
            k == integration_id or names_customer(v, integration_id) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(names_customer(v, integration_id) for v in value)
    return False


def _json_text(integration_id: str) -> str:
    """The id as it appears in a stored JSON document (PostgreSQL's ``jsonb::text`` keeps
    non-ASCII characters, Django's JSON text on the other databases escapes them)."""
    return json.dumps(integration_id, ensure_ascii=connection.vendor != "postgresql")


def scrub_outbox(integration_id: str, keys: list[str]) -> int:
    """Remove the customer from every outbox row (except erasures). Returns the rows changed.

    Rows of the customer's own keys, and rows whose payload names them, are settled:
    pending and dead ones become ``done`` with ``result="erased"`` (never sent, never
    retried), delivered ones keep their result; all lose payload, fingerprint (a hash of
    the personal data) and last error. A row about several customers (a coupon reservation)
    only loses the id from its ``integration_ids`` and goes on as it was. Rows are locked
    first, so a row being delivered right now is settled after its delivery (and keeps
    ``sent``): that write reaches Talon.One before the erasure's DELETE does.
    """
    qs = (
        OutboxMessage.objects.annotate(_text=Cast("payload", TextField()))
        .filter(Q(key__in=keys) | Q(_text__contains=_json_text(integration_id)))
        .exclude(operation=CUSTOMER_ERASE)
        .order_by("id")
    )
    if connection.features.has_select_for_update:
        qs = qs.select_for_update()
    now = timezone.now()
    changed = 0
    for message in qs:
        if message.key in keys or names_customer(message.payload, integration_id):
            _settle(message, integration_id, now, own=message.key in keys)
            changed += 1
    return changed


def _settle(message: OutboxMessage, integration_id: str, now: Any, *, own: bool) -> None:
    payload = message.payload if isinstance(message.payload, dict) else {}
    ids = payload.get("integration_ids")
    if not own and isinstance(ids, list):
        kept = {**payload, "integration_ids": [i for i in ids if i != integration_id]}
        if kept["integration_ids"] and not names_customer(kept, integration_id):
            message.payload = kept
            message.fingerprint = outbox.fingerprint(kept)
            message.save(update_fields=["payload", "fingerprint", "updated_at"])
            return
    fields = ["payload", "fingerprint", "last_error", "updated_at"]
    if message.state != outbox.DONE:
        message.state = outbox.DONE
        message.result = ERASED
        message.delivered_at = now
        fields += ["state", "result", "delivered_at"]
    message.payload = {}
    message.fingerprint = ""
    message.last_error = ""
    message.save(update_fields=fields)


# -- the mirrors ------------------------------------------------------------------------------
def purge_local_data(profile: CustomerProfile, *, user: Any | None = None) -> None:
    """Delete the personal data django-talon holds about a profile (keeps the bare id).

    The profile keeps its integration id and ``erased_at`` (the tombstone); its user link,
    attributes, fingerprints and last error go. Its coupon reservations and the referrals it
    created are deleted; other referrals naming it as the friend forget it. Its sessions keep
    their cart lines (no personal data) and lose their attributes, coupon and referral
    codes, stored effects (which repeat those codes), fingerprints and last error. The
    referral codes it created leave other customers' data too (sessions, queued writes,
    ledger): see :func:`forget_referral_codes`. The sync problems recorded for the customer
    (``user``, else the profile's user; their carts, cart lines and orders) are deleted.
    """
    integration_id = profile.integration_id
    _forget_problems(profile, user or profile.user)
    own_codes = set(Referral.objects.filter(advocate=profile).values_list("code", flat=True))
    forget_referral_codes(own_codes, profile)
    CouponReservation.objects.filter(profile=profile).delete()
    Referral.objects.filter(advocate=profile).delete()
    _forget_friend(integration_id)
    scrub_ledger(profile, own_codes)
    CustomerSession.objects.filter(profile=profile).update(
        attributes={},
        referral_code="",
        coupon_codes=[],
        effects=[],
        effects_received_at=None,
        fingerprint="",
        pushed_fingerprint="",
        last_error="",
        updated_at=timezone.now(),
    )
    profile.user = None
    profile.attributes = {}
    profile.fingerprint = ""
    profile.pushed_fingerprint = ""
    profile.last_error = ""
    profile.erased_at = profile.erased_at or timezone.now()
    profile.save(
        update_fields=[
            "user",
            "attributes",
            "fingerprint",
            "pushed_fingerprint",
            "last_error",
            "erased_at",
            "updated_at",
        ]
    )


def _forget_problems(profile: CustomerProfile | None, user: Any | None) -> None:
    """The customer's :class:`~django_talon.models.SyncProblem` rows go: their subjects
    (``auth.user:<pk>``, cart and order keys) and error texts (an adapter's exception may
    quote the e-mail address) are the customer's data."""
    from django_talon.models import LedgerEntry
    from django_talon.services.problems import customer_subjects, forget_problems

    sessions = CustomerSession.objects.filter(profile=profile) if profile is not None else None
    cart_keys: list[str] = []
    order_keys: list[str] = []
    if sessions is not None:
        cart_keys = list(sessions.exclude(cart_key="").values_list("cart_key", flat=True))
        order_keys = list(
            LedgerEntry.objects.filter(session_id__in=sessions.values("integration_id"))
            .exclude(order_key="")
            .values_list("order_key", flat=True)
        )
    email_field = getattr(user, "get_email_field_name", lambda: "email")()
    email = getattr(user, email_field, "") if user is not None else ""
    forget_problems(
        customer_subjects(user, cart_keys, order_keys),
        mentioning=[email] if isinstance(email, str) and "@" in email else [],
    )


def _forget_friend(integration_id: str) -> None:
    """Referrals of other advocates that name the customer (as the friend, or in the raw
    answer Talon.One gave) forget them."""
    named = Referral.objects.annotate(_text=Cast("raw", TextField())).filter(
        Q(friend_integration_id=integration_id) | Q(_text__contains=_json_text(integration_id))
    )
    for referral in named:
        referral.friend_integration_id = (
            ""
            if referral.friend_integration_id == integration_id
            else referral.friend_integration_id
        )
        referral.raw = _without(referral.raw, integration_id)
        referral.save(update_fields=["friend_integration_id", "raw"])


def _without(value: Any, integration_id: str) -> Any:
    """``value`` with every entry that is, or is keyed by, the integration id left out."""
    if isinstance(value, dict):
        return {
            k: _without(v, integration_id)
            for k, v in value.items()
            if k != integration_id and v != integration_id
        }
    if isinstance(value, list):
        return [_without(v, integration_id) for v in value if v != integration_id]
    return value


def process_erasure(deletion_request_id: int) -> bool:
    """Deliver a pending erasure now (used by the ``django_talon.erase_customer`` task).

    Returns True once Talon.One has confirmed. Safe to call twice.
    """
    request = DataDeletionRequest.objects.filter(pk=deletion_request_id).first()
    if request is None:
        return True
    if request.state == DataDeletionRequest.State.COMPLETED:
        return True
    outbox.deliver_key(profile_key(request.integration_id), force=True)
    request.refresh_from_db()
    return bool(request.state == "completed")
