"""The local mirror of a delivered bulk-sync batch: ``CustomerProfile`` rows in one upsert.

Kept apart from :mod:`django_talon.services.bulk_sync` (which reads users, builds batches and
calls Talon.One) because this is the part that is tuned per database: after a batch of up to
1,000 profiles was delivered, its mirror rows must be written for a small, fixed cost
(benchmarks/bulk_sync.py measures it against the previous path and the API call).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_talon.conf import DEFAULT_APPLICATION

logger = logging.getLogger("django_talon.bulk_sync")

#: One delivered profile: user, its profile row or None, integration id, attributes,
#: fingerprint (what ``bulk_sync`` builds per user).
Row = tuple[Any, Any, str, dict[str, Any], str]


#: What the mirror write sets on a profile row (the insert sets these and the keys).
MIRROR_FIELDS = (
    "user",
    "attributes",
    "fingerprint",
    "pushed_fingerprint",
    "last_synced_at",
    "last_error",
    "updated_at",
)


def record_profiles(rows: list[Row], application: str = DEFAULT_APPLICATION) -> None:
    """Mirror what was just delivered through ``application``: one upsert per batch
    (``INSERT ... ON CONFLICT (integration_id) DO UPDATE``). A new profile is bound to that
    Application (its later single updates go there); a known one keeps its own.

    Why an upsert: the previous path was a bulk INSERT of the new profiles plus a
    ``bulk_update`` of the known ones, and ``bulk_update`` builds a ``CASE WHEN pk = ...``
    per row and field (7,000 expressions for 1,000 rows): most of the sync's CPU went into
    compiling that SQL. Why written by hand (:func:`_upsert`): ``bulk_create`` still runs
    every field of every model instance through ``pre_save``/``get_db_prep_save``; here the
    values are adapted once per batch (the timestamps) or once per row (the attributes'
    JSON), by the fields themselves. PostgreSQL and SQLite >= 3.24 share the syntax; other
    databases keep the two-write path (:func:`_insert_then_update`). ``created_at`` is
    not among the updated columns, so a known profile keeps it.
    """
    from django.db import connection

    now = timezone.now()
    try:
        with transaction.atomic():
            if connection.vendor in ("postgresql", "sqlite") and (
                connection.features.supports_update_conflicts_with_target
            ):
                _upsert(rows, now, application)
            else:
                _insert_then_update(rows, now, application)
    except IntegrityError:
        from django_talon.models import CustomerProfile

        # A signal handler linked this user to another profile since we looked: fall back
        # to row-by-row upserts for this batch (rare, and still correct).
        logger.info("bulk sync: concurrent profile creation, recording this batch row by row")
        for user, _profile, integration_id, attributes, fingerprint in rows:
            CustomerProfile.objects.update_or_create(
                user=user,
                defaults={
                    "integration_id": integration_id,
                    "attributes": attributes,
                    "fingerprint": fingerprint,
                    "pushed_fingerprint": fingerprint,
                    "last_synced_at": now,
                    "last_error": "",
                    "application": application,
                },
            )


#: Columns of the upsert, in order: the keys, what the mirror write sets, ``created_at``.
_UPSERT_COLUMNS = (
    "user_id",
    "integration_id",
    "attributes",
    "fingerprint",
    "pushed_fingerprint",
    "last_synced_at",
    "last_error",
    "erased_at",
    "created_at",
    "updated_at",
    "application",
)
#: Columns a known profile keeps (the upsert inserts them, never updates them).
_KEPT_COLUMNS = ("integration_id", "erased_at", "created_at", "application")


def _upsert(rows: list[Row], now: datetime, application: str) -> None:
    """``INSERT ... ON CONFLICT (integration_id) DO UPDATE`` of a batch.

    PostgreSQL: one statement with one array parameter per column (``unnest``), so the SQL
    is the same short text whatever the batch size (a ``VALUES`` list of 10,000
    placeholders costs the driver more to parse than the database to run). SQLite: a
    ``VALUES`` list, in as few statements as its parameter limit allows.
    """
    from django.db import connection

    from django_talon.models import CustomerProfile

    meta = CustomerProfile._meta
    fields = {f.name: f for f in meta.concrete_fields}
    quote = connection.ops.quote_name
    stamp = fields["updated_at"].get_db_prep_save(now, connection)
    updated = [c for c in _UPSERT_COLUMNS if c not in _KEPT_COLUMNS]
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, _UPSERT_COLUMNS))}) "
    tail = f" ON CONFLICT ({quote('integration_id')}) DO UPDATE SET " + ", ".join(
        f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            encoder = getattr(fields["attributes"], "encoder", None)
            columns = list(zip(*((r[0].pk, r[2], r[4]) for r in rows), strict=True))
            documents = [json.dumps(r[3], cls=encoder) for r in rows]
            user_type = fields["user"].db_type(connection)  # the user model's pk type
            select = (
                "SELECT u, i, a::jsonb, f, f, %s, '', NULL, %s, %s, %s FROM unnest("
                f"%s::{user_type}[], %s::text[], %s::text[], %s::text[]) AS t(u, i, a, f)"
            )
            params = [stamp, stamp, stamp, application, list(columns[0]), list(columns[1])]
            params.append(documents)
            cursor.execute(head + select + tail, [*params, list(columns[2])])
            return
        as_json = fields["attributes"].get_db_prep_save
        row_sql = "(" + ", ".join(["%s"] * len(_UPSERT_COLUMNS)) + ")"
        limit = connection.features.max_query_params
        per_statement = len(rows) if limit is None else max(1, limit // len(_UPSERT_COLUMNS))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = []
            for user, _profile, integration_id, attributes, fingerprint in chunk:
                json_value = as_json(attributes, connection)
                params += (user.pk, integration_id, json_value, fingerprint, fingerprint)
                params += (stamp, "", None, stamp, stamp, application)
            values = "VALUES " + ", ".join([row_sql] * len(chunk))
            cursor.execute(head + values + tail, params)


def _insert_then_update(rows: list[Row], now: datetime, application: str) -> None:
    """Without ``ON CONFLICT``: one bulk INSERT of the new profiles, one bulk UPDATE."""
    from django_talon.models import CustomerProfile

    new: list[Any] = []
    changed: list[Any] = []
    for user, profile, integration_id, attributes, fingerprint in rows:
        # user_id, not user=: the one-to-one caches would tie profile and user in a
        # reference cycle, which only the cyclic GC frees (memory then saw-tooths).
        built = CustomerProfile(
            user_id=user.pk,  # also links a profile row that had lost its user
            integration_id=integration_id,
            attributes=attributes,
            fingerprint=fingerprint,
            pushed_fingerprint=fingerprint,
            last_synced_at=now,
            last_error="",
            updated_at=now,
            application=application,
        )
        if profile is None:
            new.append(built)
        else:
            built.pk = profile.pk
            changed.append(built)
    if new:
        CustomerProfile.objects.bulk_create(new)
    if changed:
        CustomerProfile.objects.bulk_update(changed, list(MIRROR_FIELDS))
