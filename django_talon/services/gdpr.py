"""GDPR erasure (data flow 4): audit row + local purge now, Talon.One deletion retried until confirmed."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from django_talon import outbox
from django_talon.adapters import get_adapter
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    OutboxMessage,
    Referral,
)
from django_talon.services.handlers import (
    CUSTOMER_ERASE,
    PROFILE_UPDATE,
    profile_key,
    session_key,
)

logger = logging.getLogger("django_talon.services")


def erase_customer(
    user: Any | None = None, *, integration_id: str | None = None, requested_by: str = ""
) -> DataDeletionRequest:
    """Erase a customer's data locally at once and in Talon.One durably.

    In the caller's transaction: an audit :class:`DataDeletionRequest` (integration id, who
    asked, when; nothing else personal) is written; the profile's attributes, its link to the
    user, its coupon reservations, referrals and session attributes are purged; queued profile
    and session writes for the customer are voided (they would re-create the profile). After
    commit, ``DELETE /v1/customer_data/{id}`` is delivered through the outbox and retried until Talon.One confirms (the request becomes ``completed`` and
    :data:`django_talon.signals.erasure_completed` fires). The shop's own ``User`` row is the
    shop's business (delete it, or keep it if the law lets you).

    ``requested_by`` is an opaque reference such as ``"user:12"`` or ``"staff:3"``.
    """
    if user is None and not integration_id:
        raise ValueError("erase_customer needs a user or an integration_id")
    with transaction.atomic(savepoint=False):
        profile: CustomerProfile | None = None
        if integration_id:
            profile = CustomerProfile.objects.filter(integration_id=integration_id).first()
        elif user is not None:
            profile = CustomerProfile.objects.filter(user=user).first()
            integration_id = (
                profile.integration_id if profile else get_adapter().integration_id(user)
            )
        assert integration_id
        request: DataDeletionRequest = DataDeletionRequest.objects.create(
            integration_id=integration_id, requested_by=requested_by[:200]
        )
        if profile is not None:
            purge_local_data(profile)
        # Queued writes that would re-create the profile in Talon.One after the erasure
        # (session updates carry its profileId; Talon.One auto-creates unknown profiles).
        session_keys = [
            session_key(sid)
            for sid in CustomerSession.objects.filter(
                profile__integration_id=integration_id
            ).values_list("integration_id", flat=True)
        ]
        OutboxMessage.objects.filter(
            Q(key=profile_key(integration_id), operation=PROFILE_UPDATE) | Q(key__in=session_keys),
            state="pending",
        ).update(
            state=OutboxMessage.State.DONE,
            result="erased",
            payload={},
            delivered_at=timezone.now(),
            updated_at=timezone.now(),
        )
        outbox.enqueue(
            CUSTOMER_ERASE,
            profile_key(integration_id),
            {"deletion_request_id": request.pk, "integration_id": integration_id},
        )
    logger.info("erasure %s recorded for %s", request.pk, integration_id)
    return request


def purge_local_data(profile: CustomerProfile) -> None:
    """Delete the personal data django-talon holds about a profile (keeps the bare id)."""
    CouponReservation.objects.filter(profile=profile).delete()
    Referral.objects.filter(advocate=profile).delete()
    CustomerSession.objects.filter(profile=profile).update(attributes={}, referral_code="")
    profile.user = None
    profile.attributes = {}
    profile.fingerprint = ""
    profile.erased_at = timezone.now()
    profile.save(update_fields=["user", "attributes", "fingerprint", "erased_at", "updated_at"])


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
