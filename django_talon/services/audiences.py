"""Audiences from Django groups (optional, off by default).

``TALON["AUDIENCE_GROUPS"] = {"VIP": 1}`` makes membership of the Django group ``VIP`` the
membership of Talon.One audience 1 (create the audience in the Campaign Manager, or with
``client.create_audience_v2``, and name its id here: an audience is the shop's decision,
not something to create on the fly). Adding a user to the group, or the group to a user,
queues an ``audience.update`` outbox row in the same transaction (the ``m2m_changed``
receiver of :mod:`django_talon.optional_receivers`); removing or clearing queues the
removal. :func:`sync_group_audiences` sends the current members once (the backfill when
the setting is switched on).

Groups not in the mapping change nothing and cost no query. Erased customers are never
sent (the outbox refuses their rows).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from django_talon import outbox
from django_talon.conf import talon_settings
from django_talon.models import OutboxMessage
from django_talon.services import tombstones
from django_talon.services.bulk_memberships import sync_audiences
from django_talon.services.bulk_sync import MAX_BATCH_SIZE
from django_talon.services.handlers import profile_key
from django_talon.services.handlers_extra import AUDIENCE_UPDATE
from django_talon.services.profiles import profile_for_user

logger = logging.getLogger("django_talon.audiences")

__all__ = ["AUDIENCE_UPDATE", "sync_group_audiences", "update_group_audiences"]


def update_group_audiences(
    user: Any, *, added: Iterable[str] = (), removed: Iterable[str] = ()
) -> OutboxMessage | None:
    """Queue the audience changes of ``user`` joining the groups named ``added`` and leaving
    those named ``removed`` (names outside ``AUDIENCE_GROUPS`` are ignored). None when
    nothing is to be sent (no mapped group, or an erased customer)."""
    mapping = talon_settings.AUDIENCE_GROUPS
    actions = [{"action": "add", "audienceId": mapping[n]} for n in added if n in mapping]
    actions += [{"action": "delete", "audienceId": mapping[n]} for n in removed if n in mapping]
    if not actions:
        return None
    profile = profile_for_user(user)
    if profile.erased_at is not None:
        return None
    with transaction.atomic(savepoint=False):
        return outbox.enqueue(
            AUDIENCE_UPDATE,
            profile_key(profile.integration_id),
            {"integration_id": profile.integration_id, "actions": actions},
        )


def sync_group_audiences(*, batch_size: int = MAX_BATCH_SIZE, client: Any = None) -> int:
    """Add every current member of each mapped group to its audience, now (not through the
    outbox: an operator's backfill, like ``talon_sync_profiles``). Batches of at most 1000
    memberships; erased customers are left out. Returns the number of API calls."""
    from django.contrib.auth.models import Group

    from django_talon.adapters import get_adapter

    adapter = get_adapter()
    calls = 0
    for group in Group.objects.filter(name__in=list(talon_settings.AUDIENCE_GROUPS)).order_by(
        "name"
    ):
        audience_id = talon_settings.AUDIENCE_GROUPS[group.name]
        ids: list[str] = []
        for user in group.user_set.order_by("pk").iterator(chunk_size=batch_size):
            ids.append(adapter.integration_id(user))
            if len(ids) == batch_size:
                calls += _send(audience_id, ids, batch_size, client)
                ids = []
        if ids:
            calls += _send(audience_id, ids, batch_size, client)
    return calls


def _send(audience_id: int, ids: list[str], batch_size: int, client: Any) -> int:
    erased = tombstones.erased_ids(ids)
    kept = [i for i in ids if i not in erased]
    if not kept:
        return 0
    logger.info("adding %d member(s) to audience %d", len(kept), audience_id)
    return sync_audiences(audience_id, add=kept, batch_size=batch_size, client=client)
