"""What became of writes an operator asked to deliver now (the admin's resync and release).

Why this exists: the outbox never raises for a failed delivery (the row stays pending for a
retry, or becomes a dead letter when Talon.One refused it), so "no exception" does not mean
"Talon.One has it". A surface that promises an answer delivers the rows now and reads their
state back: :func:`deliver_now` returns a :class:`Delivery` that says *sent*, *queued* (will
be retried, with the reason) or *refused* (a dead letter, with Talon.One's answer). The
reasons are the rows' stored errors, which the client and ``resilience.describe`` already
redacted: they never contain the API key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from django_talon import outbox
from django_talon.exceptions import TalonRequestFailedError
from django_talon.models import OutboxMessage

__all__ = ["QUEUED", "REFUSED", "SENT", "Delivery", "deliver_now", "delivery_of", "worst"]

#: Talon.One confirmed every row (or a newer write made one obsolete).
SENT = "sent"
#: At least one row is still pending: the outbox retries it (an outage, the kill switch).
QUEUED = "queued"
#: At least one row is a dead letter: Talon.One refused it, retrying cannot help.
REFUSED = "refused"

#: Longest reason shown to staff (a connection error's text runs to several hundred chars).
REASON_LENGTH = 300


@dataclass(frozen=True)
class Delivery:
    """The outcome of some outbox rows: ``outcome`` is :data:`SENT`, :data:`QUEUED` or
    :data:`REFUSED` (the worst of the rows), ``reason`` why a row is not sent (empty when
    sent), ``rows`` the rows as stored after the delivery (a caller reads the payloads of
    the dead ones, e.g. which customers a refused release was for)."""

    outcome: str
    reason: str = ""
    rows: tuple[OutboxMessage, ...] = ()

    @property
    def dead(self) -> list[OutboxMessage]:
        """The rows Talon.One refused (dead letters)."""
        return [row for row in self.rows if row.state == outbox.DEAD]

    @property
    def pending(self) -> list[OutboxMessage]:
        """The rows still queued (the outbox retries them)."""
        return [row for row in self.rows if row.state == outbox.PENDING]


def deliver_now(key: str, message_ids: Iterable[int]) -> Delivery:
    """Deliver ``key`` now (backoff ignored) and say what became of ``message_ids``.

    A delivery stops at the first failure; when that failure made a dead letter (of ours or
    of an older row of the key), the rows behind it were never tried, so the key is
    delivered again, at most once per row of ours plus one. A failure that is retried later
    (an outage) stops for good: trying again at once would only burn attempts.
    """
    ids = list(message_ids)
    report: outbox.DeliveryReport | None = None
    for _attempt in range(len(ids) + 1):
        report = outbox.deliver_key(key, force=True)
        if not (report.stopped == "failed" and report.dead):
            break
    return delivery_of(ids, report)


def delivery_of(
    message_ids: Iterable[int], report: outbox.DeliveryReport | None = None
) -> Delivery:
    """The outcome of ``message_ids`` as stored now (one query); ``report``, the last
    delivery's, explains a pending row that has no error of its own (kill switch, open
    circuit, another process delivering the key)."""
    rows = tuple(OutboxMessage.objects.filter(pk__in=list(message_ids)).order_by("pk"))
    dead = [row for row in rows if row.state == outbox.DEAD]
    if dead:
        return Delivery(REFUSED, _credentials(report) + _reason(dead[0].last_error, dead[0]), rows)
    pending = [row for row in rows if row.state == outbox.PENDING]
    if pending:
        text = pending[0].last_error or _waiting(report)
        return Delivery(QUEUED, _credentials(report) + _reason(text, pending[0]), rows)
    return Delivery(SENT, "", rows)


def worst(deliveries: Iterable[Delivery]) -> Delivery:
    """One outcome for several keys' deliveries: refused before queued before sent (the
    reason of the first one that is that bad; every row). Nothing delivered is sent."""
    found = list(deliveries)
    rows = tuple(row for each in found for row in each.rows)
    for outcome in (REFUSED, QUEUED):
        for each in found:
            if each.outcome == outcome:
                return Delivery(outcome, each.reason, rows)
    return Delivery(SENT, "", rows)


def _credentials(report: outbox.DeliveryReport | None) -> str:
    """A 401/403 is a configuration problem, not an outage: said first, so staff check the
    API key (never shown) and its permissions instead of waiting for the retries."""
    failure = report.last_exception if report is not None else None
    if isinstance(failure, TalonRequestFailedError) and failure.status in (401, 403):
        return str(
            _(
                "Talon.One refused django-talon's credentials: check the API key in the TALON "
                "setting and its permissions. "
            )
        )
    return ""


def _waiting(report: outbox.DeliveryReport | None) -> str:
    """Why a row without an error of its own is still pending."""
    if report is not None and report.last_exception is not None:
        return str(report.last_exception)
    if report is not None and report.stopped == "busy":
        return str(_("another process is delivering it"))
    return str(_("not delivered yet"))


def _reason(text: str, row: OutboxMessage) -> str:
    """``text`` without the ``deliver <operation>: `` prefix the row's operation already
    names, cut to :data:`REASON_LENGTH`."""
    prefix = f"deliver {row.operation}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"
