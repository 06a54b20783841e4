"""GDPR erasure: the erased customer's referral codes, out of every row django-talon keeps.

A referral code names its advocate (docs/gdpr.md treats it as personal): the order ledger of
the erased customer's sessions keeps its money and loses the codes (:func:`scrub_ledger`),
and the codes the customer created leave everybody else's sessions, queued writes and ledger
too (:func:`forget_referral_codes`). Split from :mod:`django_talon.services.gdpr`, which
calls both from ``purge_local_data``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from django_talon import outbox
from django_talon.models import CustomerProfile, CustomerSession, OutboxMessage
from django_talon.promotions.codes import code_key
from django_talon.services.handlers import CUSTOMER_ERASE
from django_talon.services.sessions import OPEN, _push, session_payload

logger = logging.getLogger("django_talon.services")

__all__ = ["FOLLOW_UP_PASSES", "forget_referral_codes", "scrub_ledger"]


def scrub_ledger(profile: CustomerProfile, own_codes: Iterable[str] = ()) -> None:
    """The order ledger of the customer's sessions keeps its money (the shop's accounting
    record: amounts per line and per campaign, coupon codes) and loses what points at a
    person: the referral code (a friend's, or the customer's own), wherever it is written
    (the entry's field, its quote, its note, a discrepancy's detail and codes), and
    Talon.One's raw effects, which repeat it. Ledger rows are append-only for the app;
    erasure is the one writer, through ``update()`` (the rows' ``save()`` refuses updates)."""
    from django_talon.models import Discrepancy, LedgerEntry

    sessions = CustomerSession.objects.filter(profile=profile)
    session_ids = list(sessions.values_list("integration_id", flat=True))
    entries = list(LedgerEntry.objects.filter(session_id__in=session_ids))
    codes = set(own_codes)
    codes.update(code for code in sessions.values_list("referral_code", flat=True) if code)
    for entry in entries:
        codes.update(
            c for c in (entry.referral_code, (entry.quote or {}).get("referral_code")) if c
        )
    _scrub_entries(entries, codes, own=True)
    _scrub_discrepancies(Discrepancy.objects.filter(session_id__in=session_ids), codes)


def _scrub_entries(entries: Iterable[Any], codes: set[str], *, own: bool) -> None:
    """Ledger entries without the referral codes. ``own`` (the erased customer's entries):
    the referral code and every raw effect go; another customer's entry loses only the
    effects and values that name one of ``codes``."""
    from django_talon.models import LedgerEntry

    keys = _keys(codes)
    for entry in entries:
        quote = _scrubbed(dict(entry.quote or {}), codes)
        if own and "referral_code" in quote:
            quote["referral_code"] = ""
        kept = "" if own or _is_code(entry.referral_code, keys) else entry.referral_code
        LedgerEntry.objects.filter(pk=entry.pk).update(
            referral_code=kept,
            effects=[] if own else _drop_naming(entry.effects, codes),
            quote=quote,
            note=_without_codes(entry.note, codes),
        )


def _scrub_discrepancies(discrepancies: QuerySet[Any], codes: set[str]) -> None:
    keys = _keys(codes)
    for discrepancy in discrepancies:
        type(discrepancy).objects.filter(pk=discrepancy.pk).update(
            detail=_without_codes(discrepancy.detail, codes),
            codes_not_charged=[
                c for c in discrepancy.codes_not_charged or [] if not _is_code(c, keys)
            ],
        )


# -- the erased customer's referral codes in other customers' data ---------------------------
#: Passes after the erasure's commit for rows another transaction held (see below).
FOLLOW_UP_PASSES = 3


def forget_referral_codes(codes: Iterable[str], profile: CustomerProfile) -> None:
    """Remove the referral codes the erased customer created from everybody else's data.

    A referral code is personal (it names its advocate), and a friend who applied it keeps
    it in their session: ``referral_code`` (sent with every later cart change), the stored
    effects (``acceptReferral``), queued session writes and the order ledger. Each session
    holding one loses it (and the effects naming it); an open one is queued again without it
    (a new row after everything already queued: older rows are superseded, the friend's own
    cart and codes are sent as they are). Outbox payloads (pending, delivered, dead) and
    ledger entries lose the code's values and effects; nothing else of theirs changes.

    Why nothing here waits for another customer's rows: their deliverer holds its outbox row
    during the call and then writes the session (and rows of the erased profile, e.g. a
    coupon its answer created for the advocate), so an erasure waiting for it while holding
    the erased customer's rows could deadlock. In the erasure's transaction rows and
    sessions another transaction holds are skipped (PostgreSQL ``SKIP LOCKED``); if any
    were, passes after commit take them, waiting in the order deliveries lock (outbox row,
    then session) and holding nothing of the erased customer. Costs one query for a
    customer without referral codes; otherwise one read of the outbox, session and ledger
    tables for the codes.
    """
    wanted = frozenset(c for c in codes if c)
    if not wanted:
        return
    if _forget_codes(wanted, profile.pk, wait=False):
        transaction.on_commit(partial(_forget_codes_after_commit, wanted, profile.pk))


def _forget_codes_after_commit(codes: frozenset[str], profile_id: int) -> None:
    """The passes after the erasure committed, for what other transactions held. Never
    raises into the caller's commit: a failure is logged (no code in the message)."""
    for _ in range(FOLLOW_UP_PASSES):
        try:
            with transaction.atomic():
                if not _forget_codes(codes, profile_id, wait=True):
                    return
        except Exception:
            logger.exception(
                "erasure of profile %s: removing its referral codes from other customers' "
                "data failed",
                profile_id,
            )
            return
    logger.warning(
        "erasure of profile %s: rows still hold its referral codes after %d passes",
        profile_id,
        FOLLOW_UP_PASSES,
    )


def _forget_codes(codes: frozenset[str], profile_id: int, *, wait: bool) -> bool:
    """One pass over the outbox, the sessions and the ledger; returns whether a row or a
    session still holds a code (another transaction held it: left for the next pass).

    The outbox rows are locked first, as a delivery locks its row before the session. Rows
    queued between that read and the sessions' lock (a cart write that committed in
    between) are taken without waiting: their deliverer may be waiting for a session
    locked here. ``wait=False`` (the erasure's transaction) waits for nothing at all.
    """
    from django_talon.models import Discrepancy, LedgerEntry

    rows = (
        OutboxMessage.objects.annotate(_text=Cast("payload", TextField()))
        .filter(_naming(codes, "_text", "last_error"))
        .exclude(operation=CUSTOMER_ERASE)
        .order_by("id")
    )
    sessions = (
        CustomerSession.objects.annotate(_effects=Cast("effects", TextField()))
        .filter(_naming(codes, "_effects", "last_error", exact="referral_code"))
        .exclude(profile_id=profile_id)
        .order_by("id")
    )
    locked_rows = _lock(rows, wait=wait)
    locked_sessions = _lock(sessions, wait=wait)
    late_rows = _lock(rows.exclude(pk__in=[m.pk for m in locked_rows]), wait=False)
    for session in locked_sessions:
        _forget_in_session(session, codes)
    for message in [*locked_rows, *late_rows]:
        _forget_in_row(message, codes)
    entries = LedgerEntry.objects.annotate(
        _quote=Cast("quote", TextField()), _effects=Cast("effects", TextField())
    ).filter(_naming(codes, "_quote", "_effects", "note", exact="referral_code"))
    _scrub_entries(list(entries), set(codes), own=False)
    _scrub_discrepancies(
        Discrepancy.objects.annotate(_codes=Cast("codes_not_charged", TextField())).filter(
            _naming(codes, "detail", "_codes")
        ),
        set(codes),
    )
    return bool(rows.exists() or sessions.exists())


def _lock(qs: QuerySet[Any], *, wait: bool) -> list[Any]:
    """``qs``'s rows locked (``SELECT ... FOR UPDATE``); ``wait=False``: rows another
    transaction holds are left out (``SKIP LOCKED``). SQLite serialises writers instead."""
    features = connection.features
    if not features.has_select_for_update:
        return list(qs)
    if wait or not features.has_select_for_update_skip_locked:
        return list(qs.select_for_update())
    return list(qs.select_for_update(skip_locked=True))


def _forget_in_session(session: CustomerSession, codes: frozenset[str]) -> None:
    """The session without the codes; an open one whose referral code was one of them is
    queued again (its other state unchanged), so Talon.One's copy loses it too."""
    cleared = _is_code(session.referral_code, _keys(codes))
    if cleared:
        session.referral_code = ""
        # A hash of a body that held the code; and the push below must not be "unchanged".
        session.pushed_fingerprint = ""
    session.effects = _drop_naming(session.effects, codes)
    session.last_error = _without_codes(session.last_error, codes)
    fields = ("referral_code", "effects", "last_error", "pushed_fingerprint")
    if cleared and session.state == OPEN and _push(session, fields=fields):
        return
    if cleared:
        session.fingerprint = outbox.fingerprint(session_payload(session))
    session.save(update_fields=[*fields, "fingerprint", "updated_at"])


def _forget_in_row(message: OutboxMessage, codes: frozenset[str]) -> None:
    """An outbox row without the codes (its state unchanged: a pending one is still sent,
    without them; its fingerprint is the new payload's)."""
    payload = _scrubbed(message.payload, codes)
    last_error = _without_codes(message.last_error, codes)
    if payload == message.payload and last_error == message.last_error:
        return
    body = payload.get("customerSession") if isinstance(payload, dict) else None
    if message.fingerprint:
        message.fingerprint = outbox.fingerprint(body if isinstance(body, dict) else payload)
    message.payload = payload
    message.last_error = last_error
    message.save(update_fields=["payload", "fingerprint", "last_error", "updated_at"])


def _naming(codes: Iterable[str], *contains: str, exact: str = "") -> Q:
    """Rows whose ``contains`` fields hold one of the codes (in any case, as Talon.One
    matches codes; also as a JSON document escapes it), or whose ``exact`` field is one."""
    query = Q(pk__in=[])
    for code in codes:
        spellings = {code, json.dumps(code)[1:-1]}
        for field in contains:
            for spelling in spellings:
                query |= Q(**{f"{field}__icontains": spelling})
        if exact:
            query |= Q(**{f"{exact}__iexact": code})
    return query


def _keys(codes: Iterable[str]) -> set[str]:
    return {code_key(c) for c in codes if c}


def _is_code(value: Any, keys: set[str]) -> bool:
    return isinstance(value, str) and bool(value) and code_key(value) in keys


def _names_code(value: Any, codes: Iterable[str]) -> bool:
    """Does a stored JSON value hold one of the codes anywhere (in any case)?"""
    if isinstance(value, str):
        text = value.casefold()
        return any(code.casefold() in text for code in codes)
    if isinstance(value, dict):
        return any(_names_code(v, codes) for v in value.values())
    if isinstance(value, list):
        return any(_names_code(v, codes) for v in value)
    return False


def _drop_naming(effects: Any, codes: Iterable[str]) -> list[Any]:
    """The effects that name none of the codes (``acceptReferral`` of the code goes; the
    rest of the answer, e.g. a coupon's discount, stays)."""
    return [e for e in effects or [] if not _names_code(e, codes)]


def _scrubbed(value: Any, codes: Iterable[str]) -> Any:
    """``value`` without the codes: a value that is one becomes ``""`` (a list leaves it
    out), text mentioning one is rewritten."""
    keys = _keys(codes)
    if isinstance(value, str):
        return "" if _is_code(value, keys) else _without_codes(value, codes)
    if isinstance(value, dict):
        return {k: _scrubbed(v, codes) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, codes) for v in value if not _is_code(v, keys)]
    return value


def _without_codes(text: str, codes: Iterable[str]) -> str:
    """``text`` with every code (in any case) replaced by a placeholder, in one pass."""
    wanted = sorted({c for c in codes if c}, key=len, reverse=True)
    if not text or not wanted:
        return text
    pattern = "|".join(re.escape(c) for c in wanted)
    return re.sub(pattern, "[erased referral code]", text, flags=re.IGNORECASE)
