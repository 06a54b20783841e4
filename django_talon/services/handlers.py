"""Outbox operations: how each kind of outbox row is sent and what its answer updates.

Registered with :func:`django_talon.outbox.register` on import; ``DjangoTalonConfig.ready()``
imports this module, so the outbox never has to import the services (the dependency runs
services -> outbox only). Every handler runs inside the delivery transaction, with the row
locked, so its database updates commit together with the row's ``done`` state. It runs
inside :func:`django_talon.resilience.guarded` too: it gets the client, may catch the
client's own errors (``TalonNotFound`` meaning "nothing there" is a result), and whatever
it lets through is translated and classified by the outbox.

Answers are read through the typed effects of :mod:`django_talon.client.effects`
(``RejectCoupon``, ``AcceptCoupon``, ``RejectReferral`` ...); the raw effect list is what
the session stores. Codes an answer hands out (``couponCreated``, ``referralCreated``,
``reserveCoupon``, ``createdCoupons``) are stored by :mod:`.created_codes`; free items go
into the cart through :mod:`.free_items` when the shop opted in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone

from django_talon import signals
from django_talon.client.effects import (
    AcceptCoupon,
    Effect,
    RejectCoupon,
    RejectReferral,
    decode_effects,
)
from django_talon.client.errors import TalonBadRequestError, TalonNotFound
from django_talon.conf import talon_settings
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
)
from django_talon.outbox import Operation, fingerprint, register
from django_talon.promotions.codes import code_key
from django_talon.services import tombstones
from django_talon.services.created_codes import store_created_codes
from django_talon.services.free_items import sync_free_items
from django_talon.services.ledger import BOOKED, CANCELLED, REOPENED, RETURNED
from django_talon.services.reconciliation import book_answer

if TYPE_CHECKING:
    from django_talon.client import TalonClient

logger = logging.getLogger("django_talon.services")

SESSION_UPDATE = "session.update"
SESSION_STATE = "session.state"
SESSION_RETURN = "session.return"
SESSION_REOPEN = "session.reopen"
PROFILE_UPDATE = "profile.update"
COUPON_RESERVE = "coupon.reserve"
COUPON_RELEASE = "coupon.release"
CUSTOMER_ERASE = "customer.erase"


def session_key(integration_id: str) -> str:
    return f"session:{integration_id}"


def profile_key(integration_id: str) -> str:
    return f"profile:{integration_id}"


def coupon_key(code: str) -> str:
    return f"coupon:{code}"


@dataclass(frozen=True)
class AnswerEffects:
    """The effects of one answer: the raw list (stored verbatim on the session and sent with
    ``effects_updated``) and its typed view (what this module reads)."""

    raw: list[dict[str, Any]]
    effects: list[Effect]

    @classmethod
    def of(cls, answer: dict[str, Any]) -> AnswerEffects:
        """The answer's effect objects; anything that is not an object is dropped. A
        malformed effect (``props`` not an object) decodes with empty props, so it rejects
        nothing and never fails the delivery of the rest of the answer."""
        effects = answer.get("effects")
        raw = [e for e in effects if isinstance(e, dict)] if isinstance(effects, list) else []
        return cls(raw, decode_effects(raw))

    def rejected_coupons(self) -> set[str]:
        return {e.value for e in self.effects if isinstance(e, RejectCoupon) and e.value}

    def rejected_referrals(self) -> set[str]:
        return {e.value for e in self.effects if isinstance(e, RejectReferral) and e.value}

    def has_rejection(self) -> bool:
        return any(isinstance(e, RejectCoupon | RejectReferral) for e in self.effects)


def store_effects(
    session: CustomerSession, answer: AnswerEffects, *, drop_rejected: bool = True
) -> list[str]:
    """Store an answer's effects on the mirror (unsaved; the caller saves, then
    :func:`_after_store` sends the app's signals about the stored answer).

    With ``drop_rejected``, rejected coupon codes / referral codes are dropped from the local
    state so that they are not sent again (the rejection stays visible in the stored effects
    until the next answer). Only pass ``drop_rejected=True`` for a ``session`` read under
    lock whose state is the one Talon.One evaluated (see :func:`deliver_session`). Returns
    the fields changed (for ``save(update_fields=...)``).
    """
    session.effects = answer.raw
    session.effects_received_at = timezone.now()
    session.last_error = ""
    changed = ["effects", "effects_received_at", "last_error"]
    if not drop_rejected:
        return changed
    rejected_referrals = {code_key(c) for c in answer.rejected_referrals()}
    if session.referral_code and code_key(session.referral_code) in rejected_referrals:
        session.referral_code = ""
        changed.append("referral_code")
    codes = {code_key(c) for c in answer.rejected_coupons()}
    kept = [c for c in session.coupon_codes if code_key(c) not in codes]
    if kept != session.coupon_codes:
        session.coupon_codes = kept
        changed.append("coupon_codes")
    return changed


def _without_rejected(body: dict[str, Any], answer: AnswerEffects) -> dict[str, Any]:
    """The pushed ``customerSession`` body minus the codes Talon.One rejected in its answer."""
    coupons = answer.rejected_coupons()
    kept = dict(body)
    kept["couponCodes"] = [c for c in body.get("couponCodes") or [] if c not in coupons]
    if body.get("referralCode") in answer.rejected_referrals():
        kept["referralCode"] = ""
    return kept


def _after_store(session: CustomerSession, answer: AnswerEffects) -> None:
    """Send the answer's signals once the session row is saved, so receivers that query it
    (or act after commit) see the effects the signal announces. ``signals.emit`` logs a
    receiver that raises: the delivery already succeeded and stays done."""
    signals.emit(signals.effects_updated, CustomerSession, session=session, effects=answer.raw)
    for effect in answer.effects:
        if isinstance(effect, RejectCoupon) and effect.value:
            signals.emit(
                signals.coupon_rejected,
                CustomerSession,
                session=session,
                code=effect.value,
                reason=effect.rejection_reason,
            )
        elif isinstance(effect, AcceptCoupon) and effect.value:
            signals.emit(
                signals.coupon_accepted, CustomerSession, session=session, code=effect.value
            )
        elif isinstance(effect, RejectReferral) and effect.value:
            signals.emit(
                signals.referral_rejected,
                CustomerSession,
                session=session,
                code=effect.value,
                reason=effect.rejection_reason,
            )


def deliver_session(message: OutboxMessage, client: TalonClient) -> str:
    """PUT /v2/customer_sessions/{id} with the full queued cart state.

    No write of a concurrent request may be lost, and the mirror is not locked during the
    HTTP call (a cart save must not wait for Talon.One). So the answer only writes the fields
    the delivery owns (``effects``, ``effects_received_at``, ``last_error``,
    ``pushed_fingerprint``) with ``update_fields``; the cart, coupon codes and referral code
    belong to the shop's requests and are never written from the stale copy read before the
    call. The one exception, dropping codes Talon.One rejected, is a read-modify-write: it
    re-reads the mirror ``SELECT ... FOR UPDATE`` after the call (only when the answer
    rejected something) and drops codes only if ``fingerprint`` still equals this row's,
    i.e. nobody queued a newer state meanwhile (every queued change rewrites
    ``fingerprint``). Otherwise the newer row is evaluated next and its answer drops what is
    still rejected. Lock-and-compare was chosen over a version column because
    ``fingerprint`` already is that version, and over a blind ``update_fields`` write
    because the codes list must be recomputed from the current value.
    """
    payload = message.payload
    session_id = str(payload["session_id"])
    session = (
        CustomerSession.objects.select_related("profile").filter(integration_id=session_id).first()
    )
    if tombstones.session_erased(session, payload):
        return tombstones.refuse(message)  # GDPR: nothing is sent for an erased customer
    if (
        message.operation == SESSION_UPDATE
        and session is not None
        and session.pushed_fingerprint == message.fingerprint
    ):
        return "unchanged"
    try:
        state = _update_session(client, session_id, payload)
    except TalonBadRequestError:
        if message.operation != SESSION_UPDATE or not _reopen_orphan_close(client, session):
            raise
        state = _update_session(client, session_id, payload)
    if session is None:  # the mirror was deleted meanwhile; Talon.One still got the write
        return "sent"
    answer = AnswerEffects.of(state.raw)
    pushed_fp = message.fingerprint
    drop = False
    if answer.has_rejection():
        session = CustomerSession.objects.select_for_update().filter(pk=session.pk).first()
        if session is None:
            return "sent"
        drop = session.fingerprint == message.fingerprint  # no newer state queued
        # What Talon.One now holds: the pushed state without the rejected codes. Entering a
        # rejected code again (e.g. after staff reserved it) is then pushed, not "unchanged".
        pushed_body = _without_rejected(payload["customerSession"], answer)
        if pushed_body != payload["customerSession"]:
            pushed_fp = fingerprint(pushed_body)
    changed = store_effects(session, answer, drop_rejected=drop)
    if drop and ("coupon_codes" in changed or "referral_code" in changed):
        session.fingerprint = pushed_fp  # the local state is now exactly what was pushed
        changed.append("fingerprint")
    session.pushed_fingerprint = pushed_fp
    session.save(update_fields=[*changed, "pushed_fingerprint", "updated_at"])
    # Codes the rules handed out become the customer's; free items go into the cart.
    store_created_codes(session, answer.effects, state.raw)
    if message.operation == SESSION_UPDATE:
        sync_free_items(session, answer.effects)
    _after_store(session, answer)
    new_state = payload["customerSession"].get("state")
    if message.operation == SESSION_STATE and new_state == "closed":
        # The order ledger: what Talon.One booked, reconciled with what was charged.
        book_answer(
            BOOKED,
            session_id,
            answer.raw,
            sent=payload["customerSession"],
            outbox_message_id=message.pk,
        )
        signals.emit(signals.session_closed, CustomerSession, session=session)
    elif message.operation == SESSION_STATE and new_state == "cancelled":
        book_answer(CANCELLED, session_id, answer.raw, outbox_message_id=message.pk)
        signals.emit(signals.session_cancelled, CustomerSession, session=session)
    return "sent"


def _update_session(client: TalonClient, session_id: str, payload: dict[str, Any]) -> Any:
    return client.update_customer_session_v2(
        session_id,
        payload["customerSession"],
        response_content=list(talon_settings.RESPONSE_CONTENT) or None,
    )


def _reopen_orphan_close(client: TalonClient, session: CustomerSession | None) -> bool:
    """Talon.One refused a cart update (400): is its session closed by a close no order here
    stands for? Then reopen it (Talon.One rolls that close back: redemptions, points) and
    say so; the caller sends the update again.

    How it happens: a fail-closed placement sent the close, Talon.One applied it, and its
    answer came after ``PLACEMENT_TIMEOUT`` (or did not decode): the order was refused and
    rolled back with its ``charged`` entry, so the mirror is open here while Talon.One's
    session is closed. Every later update was a dead letter and every placement refused.
    A session is reopened only when the mirror is open and no ``charged`` entry says an
    order was placed with it (none, or one an explicit reopen already answered): a
    placed order's session is never reopened by a cart write. Two calls (a read, the
    reopen), only on this path."""
    from django_talon.services.ledger import charged_entry_for_close

    if session is None or session.state != "open":
        return False
    remote = client.get_customer_session(session.integration_id).customer_session
    if remote is None or remote.state != "closed":
        return False
    if charged_entry_for_close(session.integration_id) is not None:
        return False
    client.reopen_customer_session(session.integration_id)
    logger.warning(
        "session %s was closed in Talon.One by a close whose order was refused here; "
        "reopened it (Talon.One rolled the close back) before sending the cart",
        session.integration_id,
    )
    return True


def _session_failed(message: OutboxMessage, exc: BaseException) -> None:
    """The mirror shows the row's (redacted) error until an answer arrives."""
    CustomerSession.objects.filter(integration_id=str(message.payload.get("session_id"))).update(
        last_error=message.last_error
    )


def _store_answer_only(session_id: str, raw_answer: dict[str, Any]) -> None:
    """Store a return/reopen answer's effects: only the delivery's own fields. Such an
    answer is not about the codes the shop may have changed meanwhile, so nothing is
    dropped (no stale overwrite)."""
    session = CustomerSession.objects.filter(integration_id=session_id).first()
    if session is not None:
        answer = AnswerEffects.of(raw_answer)
        changed = store_effects(session, answer, drop_rejected=False)
        session.save(update_fields=[*changed, "updated_at"])
        _after_store(session, answer)


def _erased_session(session_id: str, message: OutboxMessage) -> bool:
    session = CustomerSession.objects.select_related("profile").filter(integration_id=session_id)
    return tombstones.session_erased(session.first(), message.payload)


def deliver_return(message: OutboxMessage, client: TalonClient) -> str:
    """POST /v2/customer_sessions/{id}/returns (idempotent: the row id is the Idempotency-Key)."""
    session_id = str(message.payload["session_id"])
    if _erased_session(session_id, message):
        return tombstones.refuse(message)
    state = client.return_cart_items(
        session_id,
        message.payload["returned_items"],
        idempotency_key=f"django-talon-outbox-{message.pk}",
    )
    _store_answer_only(session_id, state.raw)
    book_answer(
        RETURNED,
        session_id,
        AnswerEffects.of(state.raw).raw,
        returned_items=message.payload["returned_items"],
        outbox_message_id=message.pk,
    )
    return "sent"


def deliver_reopen(message: OutboxMessage, client: TalonClient) -> str:
    """PUT /v2/customer_sessions/{id}/reopen; the answer holds the rollback effects."""
    session_id = str(message.payload["session_id"])
    if _erased_session(session_id, message):
        return tombstones.refuse(message)
    result = client.reopen_customer_session(session_id)
    _store_answer_only(session_id, result.raw)
    book_answer(
        REOPENED,
        session_id,
        AnswerEffects.of(result.raw).raw,
        outbox_message_id=message.pk,
    )
    return "sent"


def deliver_profile(message: OutboxMessage, client: TalonClient) -> str:
    """PUT /v2/customer_profiles/{id} with the queued attributes."""
    integration_id = str(message.payload["integration_id"])
    profile = CustomerProfile.objects.filter(integration_id=integration_id).first()
    if profile is None:
        erased = bool(tombstones.erased_ids([integration_id]))
    else:
        erased = profile.erased_at is not None
    if erased:  # GDPR: nothing is sent for an erased customer
        return tombstones.refuse(message)
    if profile is not None and profile.pushed_fingerprint == message.fingerprint:
        return "unchanged"
    client.update_customer_profile_v2(integration_id, message.payload.get("attributes") or {})
    if profile is not None:
        profile.pushed_fingerprint = message.fingerprint
        profile.last_synced_at = timezone.now()
        profile.last_error = ""
        profile.save(
            update_fields=["pushed_fingerprint", "last_synced_at", "last_error", "updated_at"]
        )
        signals.emit(signals.profile_synced, CustomerProfile, profile=profile)
    return "sent"


def _profile_failed(message: OutboxMessage, exc: BaseException) -> None:
    CustomerProfile.objects.filter(
        integration_id=str(message.payload.get("integration_id"))
    ).update(last_error=message.last_error)


def _without_erased(message: OutboxMessage) -> list[str]:
    """The row's integration ids minus erased customers (the stored payload loses them)."""
    ids = [str(i) for i in message.payload["integration_ids"]]
    erased = tombstones.erased_ids(ids)
    if erased and len(erased) < len(set(ids)):
        kept = [i for i in ids if i not in erased]
        message.payload = {**message.payload, "integration_ids": kept}
        OutboxMessage.objects.filter(pk=message.pk).update(payload=message.payload)
        return kept
    return [] if erased else ids


def deliver_reserve(message: OutboxMessage, client: TalonClient) -> str:
    """POST /v1/coupon_reservations/{code} for up to 1000 integration ids."""
    code = str(message.payload["code"])
    ids = _without_erased(message)
    if not ids:
        return tombstones.refuse(message)
    client.create_coupon_reservation(code, ids)
    CouponReservation.objects.filter(
        coupon_code=code, profile__integration_id__in=ids, synced_at__isnull=True
    ).update(synced_at=timezone.now())
    return "sent"


def deliver_release(message: OutboxMessage, client: TalonClient) -> str:
    """DELETE /v1/coupon_reservations/{code}; 404 (nothing reserved) counts as done."""
    ids = _without_erased(message)
    if not ids:
        return tombstones.refuse(message)
    try:
        client.delete_coupon_reservation(str(message.payload["code"]), ids)
    except TalonNotFound:
        return "not_found"
    return "sent"


def deliver_erasure(message: OutboxMessage, client: TalonClient) -> str:
    """DELETE /v1/customer_data/{id}; 204, or 404 (no such profile), confirms the erasure in
    this row's Application. The request is ``completed`` when every Application it was
    queued for has confirmed (:func:`~django_talon.services.gdpr.erase_customer` queues
    one row per Application, under one key: this row is the last when no other is left)."""
    integration_id = str(message.payload["integration_id"])
    sessions = CustomerSession.objects.filter(profile__integration_id=integration_id)
    tombstones.wait_for_writes_in_flight(
        message,
        [
            profile_key(integration_id),
            *map(session_key, sessions.values_list("integration_id", flat=True)),
        ],
    )
    result = "sent"
    try:
        client.delete_customer_data(integration_id)
    except TalonNotFound:
        result = "not_found"
    request_id = message.payload.get("deletion_request_id")
    request = DataDeletionRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None or request.state == DataDeletionRequest.State.COMPLETED:
        return result
    if _erasure_rows_left(message, request_id):
        # Confirmed here, not yet everywhere: the request waits for the other rows.
        request.attempts += 1
        request.last_error = ""
        request.save(update_fields=["attempts", "last_error"])
        return result
    request.state = DataDeletionRequest.State.COMPLETED
    request.attempts += 1
    request.completed_at = timezone.now()
    request.last_error = ""
    request.save(update_fields=["state", "attempts", "completed_at", "last_error"])
    signals.emit(signals.erasure_completed, DataDeletionRequest, deletion_request=request)
    return result


def _erasure_rows_left(message: OutboxMessage, request_id: Any) -> bool:
    """Does another erasure row of the same request wait (an Application not confirmed)?"""
    others = (
        OutboxMessage.objects.filter(key=message.key, operation=CUSTOMER_ERASE)
        .exclude(pk=message.pk)
        .exclude(state=OutboxMessage.State.DONE)
        .values_list("payload", flat=True)
    )
    return any((payload or {}).get("deletion_request_id") == request_id for payload in others)


def _erasure_failed(message: OutboxMessage, exc: BaseException) -> None:
    DataDeletionRequest.objects.filter(pk=message.payload.get("deletion_request_id")).update(
        attempts=F("attempts") + 1, last_error=message.last_error
    )


register(
    Operation(
        SESSION_UPDATE,
        deliver_session,
        superseded_by=(SESSION_UPDATE, SESSION_STATE),
        on_failure=_session_failed,
    )
)
register(Operation(SESSION_STATE, deliver_session, on_failure=_session_failed))
register(Operation(SESSION_RETURN, deliver_return, on_failure=_session_failed))
register(Operation(SESSION_REOPEN, deliver_reopen, on_failure=_session_failed))
register(
    Operation(
        PROFILE_UPDATE,
        deliver_profile,
        superseded_by=(PROFILE_UPDATE, CUSTOMER_ERASE),
        on_failure=_profile_failed,
    )
)
register(Operation(COUPON_RESERVE, deliver_reserve))
register(Operation(COUPON_RELEASE, deliver_release))
register(Operation(CUSTOMER_ERASE, deliver_erasure, never_dead=True, on_failure=_erasure_failed))
