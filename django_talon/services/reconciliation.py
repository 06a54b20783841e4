"""Reconciliation: does what Talon.One booked for an order match what the shop charged?

After the close (and after every return and the cancel) the outbox handlers append
Talon.One's answer to the order ledger and call :func:`book_answer`, which compares it with
the order's ``charged`` entry:

* **close** (``booked``): the discounts booked per campaign must equal the discounts charged
  per campaign, and no code may be redeemed that the order was not charged for. The
  charged side is what the shop charged (each effect rounded, the shared summary); the
  booked side is Talon.One's amounts summed per campaign as sent and rounded once
  (:func:`django_talon.services.ledger.booked_amounts`), so a rounding difference of a cent
  or more is recorded, never hidden.
* **cancel**: after the rollbacks nothing may stay booked (booked minus rolled back is 0 for
  every campaign).
* **return**: Talon.One never takes back more than it booked (booked minus everything
  rolled back so far is not below 0 for any campaign). What the shop refunds is the shop's
  business; the ledger keeps both.

Equal -> reconciled (nothing is written but the ledger entry). Different -> a
:class:`~django_talon.models.Discrepancy` with both sides, the amounts and a reason, and the
:data:`django_talon.signals.discrepancy_found` signal. :func:`recheck` reads the session
again (``GET /v2/customer_sessions/{id}``, through the guarded call path) and resolves a
discrepancy that no longer holds. See docs/reconciliation.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from django_talon import signals
from django_talon.client.effects import (
    DeductLoyaltyPoints,
    RejectCoupon,
    RejectReferral,
    decode_effects,
)
from django_talon.models import Discrepancy, LedgerEntry
from django_talon.promotions import quantize_money, summarize
from django_talon.promotions.codes import code_key
from django_talon.services.ledger import (
    BOOKED,
    CANCELLED,
    CHARGED,
    REOPENED,
    ROLLBACK_KINDS,
    BookedAmounts,
    booked_amounts,
    charged_entry_for,
    record_answer,
)

logger = logging.getLogger("django_talon.services")

__all__ = [
    "RECORD_FIELDS",
    "Comparison",
    "Reason",
    "ReconciliationReport",
    "book_answer",
    "compare",
    "discrepancies",
    "discrepancy_record",
    "reconcile_entry",
    "reconciliation_report",
    "recheck_discrepancy",
]


class Reason:
    """The values of ``Discrepancy.Reason`` as plain strings."""

    OUTAGE_AT_CHECKOUT = "outage_at_checkout"
    CAMPAIGN_CHANGED = "campaign_changed"
    BUDGET_EXHAUSTED = "budget_exhausted"
    COUPON_REJECTED = "coupon_rejected"
    REFERRAL_REJECTED = "referral_rejected"
    CART_CHANGED = "cart_changed"
    POINTS_UNAVAILABLE = "points_unavailable"
    SUB_UNIT_ROUNDING = "sub_unit_rounding"
    NOT_CHARGED = "not_charged"
    ROLLBACK_MISMATCH = "rollback_mismatch"


RESOLVED = "resolved"


@dataclass(frozen=True)
class Comparison:
    """Both sides of one reconciliation: discount amounts per campaign id (as strings)."""

    charged: dict[str, Decimal]
    booked: dict[str, Decimal]
    codes_not_charged: tuple[str, ...] = ()

    @property
    def charged_total(self) -> Decimal:
        return sum(self.charged.values(), Decimal(0))

    @property
    def booked_total(self) -> Decimal:
        return sum(self.booked.values(), Decimal(0))

    @property
    def difference(self) -> Decimal:
        """Booked minus charged (positive: Talon.One booked more than the shop gave)."""
        return self.booked_total - self.charged_total

    @property
    def equal(self) -> bool:
        return _nonzero(self.charged) == _nonzero(self.booked) and not self.codes_not_charged

    def differing_campaigns(self) -> list[str]:
        keys = sorted(set(self.charged) | set(self.booked))
        zero = Decimal(0)
        return [k for k in keys if self.charged.get(k, zero) != self.booked.get(k, zero)]


def _nonzero(amounts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {k: v for k, v in amounts.items() if v}


def _amounts(stored: Mapping[str, Any]) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (stored or {}).items()}


def _summary_amounts(effects: Sequence[Any], entry: LedgerEntry) -> dict[str, Decimal]:
    """Per-campaign discounts ``effects`` book over the entry's cart: summed as Talon.One
    sent them and rounded once, as the booked side of the first comparison was (rounding
    each effect here would resolve a sub-unit difference the close recorded)."""
    return booked_amounts(effects, entry.cart_items, entry.currency)


def _codes_not_charged(charged: LedgerEntry, booked: LedgerEntry) -> tuple[str, ...]:
    given = {code_key(c) for c in (*charged.coupon_codes, charged.referral_code) if c}
    redeemed = [*booked.coupon_codes, *([booked.referral_code] if booked.referral_code else [])]
    return tuple(c for c in redeemed if code_key(c) not in given)


def _codes_not_booked(charged: LedgerEntry, booked: LedgerEntry) -> tuple[str, ...]:
    """Codes the order was charged with that the close did not redeem (and, when this is
    asked, did not reject either: :func:`_rejection_reason` is asked first)."""
    redeemed = {code_key(c) for c in (*booked.coupon_codes, booked.referral_code) if c}
    given = [*charged.coupon_codes, *([charged.referral_code] if charged.referral_code else [])]
    return tuple(c for c in given if code_key(c) not in redeemed)


def _booked_before(entry: LedgerEntry) -> LedgerEntry | None:
    found: LedgerEntry | None = (
        LedgerEntry.objects.filter(session_id=entry.session_id, kind=BOOKED, id__lt=entry.pk)
        .order_by("-id")
        .first()
    )
    return found


def _net_after_rollbacks(entry: LedgerEntry, booked: LedgerEntry) -> dict[str, Decimal]:
    """What stays booked once every rollback since the close (this one included) is applied."""
    net = _amounts(booked.discounts_by_campaign)
    rollbacks = LedgerEntry.objects.filter(
        session_id=entry.session_id,
        kind__in=ROLLBACK_KINDS,
        id__gt=booked.pk,
        id__lte=entry.pk,
    )
    for rollback in rollbacks:
        for key, amount in _amounts(rollback.discounts_by_campaign).items():
            net[key] = net.get(key, Decimal(0)) - amount
    return net


def compare(charged: LedgerEntry, entry: LedgerEntry) -> Comparison | None:
    """Compare an appended entry with the order's charged entry (None: nothing to compare)."""
    if entry.kind == BOOKED:
        return Comparison(
            charged=_amounts(charged.discounts_by_campaign),
            booked=_amounts(entry.discounts_by_campaign),
            codes_not_charged=_codes_not_charged(charged, entry),
        )
    booked = _booked_before(entry)
    if booked is None or entry.kind == REOPENED:
        return None
    net = _net_after_rollbacks(entry, booked)
    if entry.kind == CANCELLED:
        return Comparison(charged={}, booked=net)
    # A return: only what was taken back beyond what was booked is a difference.
    overdrawn = {k: v for k, v in net.items() if v < 0}
    return Comparison(charged={k: Decimal(0) for k in overdrawn}, booked=overdrawn)


def _rejection_reason(entry: LedgerEntry, charged: LedgerEntry) -> tuple[str, str] | None:
    """A charged code Talon.One rejected at the close, as a reason and its detail."""
    given = {code_key(c) for c in (*charged.coupon_codes, charged.referral_code) if c}
    for effect in decode_effects(entry.effects):
        if not isinstance(effect, RejectCoupon | RejectReferral):
            continue
        if code_key(str(effect.value)) not in given:
            continue
        why = str(effect.rejection_reason or "")
        detail = f"{effect.value} rejected at the close ({why or 'no reason given'})"
        if why.endswith("LimitReached") or "budget" in why.lower():
            return Reason.BUDGET_EXHAUSTED, detail
        if isinstance(effect, RejectReferral):
            return Reason.REFERRAL_REJECTED, detail
        return Reason.COUPON_REJECTED, detail
    return None


def _cart(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, int, str]]:
    return [
        (str(i.get("sku")), int(i.get("quantity") or 0), str(i.get("price"))) for i in items or []
    ]


def _campaigns_detail(comparison: Comparison) -> str:
    zero = Decimal(0)
    return "; ".join(
        f"campaign {key}: charged {comparison.charged.get(key, zero)}, "
        f"booked {comparison.booked.get(key, zero)}"
        for key in comparison.differing_campaigns()
    )


def _points_spent(charged: LedgerEntry) -> Decimal:
    """The points the charged quote paid with (its ``loyalty`` entries of kind spend)."""
    loyalty = (charged.quote or {}).get("loyalty")
    total = Decimal(0)
    for entry in loyalty if isinstance(loyalty, list) else []:
        if isinstance(entry, Mapping) and entry.get("kind") == "spend":
            total += Decimal(str(entry.get("points") or 0))
    return total


def _points_deducted(entry: LedgerEntry) -> Decimal:
    """The points Talon.One deducted at the close (its ``deductLoyaltyPoints`` effects)."""
    return sum(
        (e.value for e in decode_effects(entry.effects) if isinstance(e, DeductLoyaltyPoints)),
        Decimal(0),
    )


def _rounding_explains(entry: LedgerEntry, comparison: Comparison) -> bool:
    """Whether rounding each booked effect, as the quote rounds them, gives exactly what was
    charged for every campaign that differs: then the difference is the sub-unit amounts
    Talon.One sent (1,000 units at 0.1485 off: 150.00 charged, 148.50 booked), not a
    campaign edited between the quote and the close."""
    raw = [dict(e) for e in entry.effects or [] if isinstance(e, dict)]
    booked = BookedAmounts(raw, summarize(raw, entry.cart_items or [], entry.currency))
    per_effect = {str(k): v for k, v in booked.rounded_per_effect.items()}
    zero = Decimal(0)
    differing = comparison.differing_campaigns()
    return bool(differing) and all(
        quantize_money(per_effect.get(key, zero), entry.currency)
        == quantize_money(comparison.charged.get(key, zero), entry.currency)
        for key in differing
    )


def _reason(charged: LedgerEntry, entry: LedgerEntry, comparison: Comparison) -> tuple[str, str]:
    """Why booked differs from charged, most specific evidence first."""
    amounts = _campaigns_detail(comparison)
    if entry.kind != BOOKED:
        return Reason.ROLLBACK_MISMATCH, f"after the {entry.kind}: {amounts}"
    if charged.quote_status != "confirmed":
        status = charged.quote.get("message") or f"quote {charged.quote_status}"
        return (
            Reason.OUTAGE_AT_CHECKOUT,
            f"charged without Talon.One's confirmation ({status}); {amounts}".rstrip("; "),
        )
    rejected = _rejection_reason(entry, charged)
    if rejected is not None:
        return rejected[0], f"{rejected[1]}; {amounts}".rstrip("; ")
    if comparison.codes_not_charged:
        codes = ", ".join(comparison.codes_not_charged)
        return Reason.NOT_CHARGED, f"redeemed but not charged: {codes}; {amounts}".rstrip("; ")
    unredeemed = _codes_not_booked(charged, entry)
    if unredeemed:
        referral = code_key(charged.referral_code) if charged.referral_code else None
        reason = (
            Reason.REFERRAL_REJECTED
            if all(code_key(c) == referral for c in unredeemed)
            else Reason.COUPON_REJECTED
        )
        return (
            reason,
            f"charged with {', '.join(unredeemed)}, not redeemed at the close (Talon.One's "
            f"answer neither accepted nor rejected it); {amounts}".rstrip("; "),
        )
    if _cart(charged.cart_items) != _cart(entry.cart_items):
        return Reason.CART_CHANGED, f"the closed cart is not the quoted one; {amounts}"
    quoted, deducted = _points_spent(charged), _points_deducted(entry)
    if deducted < quoted:
        return (
            Reason.POINTS_UNAVAILABLE,
            f"paid with {quoted.normalize():f} points at checkout, Talon.One deducted "
            f"{deducted.normalize():f} at the "
            f"close (the balance no longer covered them: spent on another order or expired "
            f"since the quote?); {amounts}",
        )
    if _rounding_explains(entry, comparison):
        return (
            Reason.SUB_UNIT_ROUNDING,
            f"Talon.One sent amounts with more decimals than {entry.currency} has: the quote "
            f"rounded each effect, the booking is their sum rounded once; {amounts}",
        )
    return Reason.CAMPAIGN_CHANGED, f"same cart and codes, different discounts: {amounts}"


def _store(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in amounts.items()}


def reconcile_entry(entry: LedgerEntry) -> Discrepancy | None:
    """Reconcile one appended entry with its order's charged entry.

    Returns the :class:`Discrepancy` written (and announced with ``discrepancy_found``), or
    None when the two agree, when the shop recorded no charged entry, or for a reopen (the
    order is being changed; its next close is reconciled).
    """
    charged = charged_entry_for(entry.session_id)
    if charged is None or charged.pk > entry.pk:
        return None
    comparison = compare(charged, entry)
    if comparison is None or comparison.equal:
        return None
    reason, detail = _reason(charged, entry, comparison)
    discrepancy: Discrepancy = Discrepancy.objects.create(
        order_key=entry.order_key,
        session_id=entry.session_id,
        charged_entry=charged,
        entry=entry,
        reason=reason,
        detail=detail,
        currency=entry.currency,
        charged_discount=comparison.charged_total,
        booked_discount=comparison.booked_total,
        difference=comparison.difference,
        charged_by_campaign=_store(comparison.charged),
        booked_by_campaign=_store(comparison.booked),
        codes_not_charged=list(comparison.codes_not_charged),
    )
    logger.warning(
        "order %s: booked differs from charged (%s): %s",
        entry.order_key or entry.session_id,
        reason,
        detail,
    )
    signals.emit(signals.discrepancy_found, Discrepancy, discrepancy=discrepancy)
    return discrepancy


def book_answer(
    kind: str,
    session_id: str,
    effects_raw: Sequence[dict[str, Any]],
    *,
    sent: Mapping[str, Any] | None = None,
    returned_items: Sequence[Mapping[str, Any]] = (),
    outbox_message_id: int | None = None,
) -> LedgerEntry:
    """Append Talon.One's answer to the ledger and reconcile it (the outbox handlers' hook).

    Runs inside the delivery transaction: the entry, the discrepancy and the session's new
    effects commit together with the outbox row's ``done`` state, so an answer is recorded
    exactly once.
    """
    entry = record_answer(
        kind,
        session_id,
        effects_raw,
        sent=sent,
        returned_items=returned_items,
        outbox_message_id=outbox_message_id,
    )
    reconcile_entry(entry)
    return entry


def _still_differs(discrepancy: Discrepancy, effects: Sequence[Any]) -> Comparison:
    """The discrepancy's comparison with the session's current effects as the booked side."""
    entry = discrepancy.entry
    charged = discrepancy.charged_entry
    current = _summary_amounts(effects, entry)
    if entry.kind == BOOKED:
        return Comparison(charged=_amounts(charged.discounts_by_campaign), booked=current)
    if entry.kind == CANCELLED:
        return Comparison(charged={}, booked=current)
    overdrawn = {k: v for k, v in current.items() if v < 0}
    return Comparison(charged={k: Decimal(0) for k in overdrawn}, booked=overdrawn)


def _session_application(session_id: str) -> str | None:
    """The Application the session lives in (None: the default one, and no query for a shop
    with one Application)."""
    from django_talon.conf import talon_settings
    from django_talon.models import CustomerSession

    if not talon_settings.APPLICATIONS:
        return None
    found: str | None = (
        CustomerSession.objects.filter(integration_id=session_id)
        .values_list("application", flat=True)
        .first()
    )
    return found


def recheck_discrepancy(discrepancy: Discrepancy) -> bool:
    """Read the session from Talon.One again and resolve the discrepancy if it no longer holds.

    ``GET /v2/customer_sessions/{id}`` answers the effects still valid (after rollbacks).
    Raises :class:`~django_talon.exceptions.TalonUnavailableError` /
    :class:`~django_talon.exceptions.TalonRequestFailedError` like every guarded call.
    Returns whether the discrepancy is resolved now.
    """
    from django_talon import resilience

    with resilience.guarded(
        "re-check a session", application=_session_application(discrepancy.session_id)
    ) as client:
        state = client.get_customer_session(discrepancy.session_id)
    effects = state.raw.get("effects")
    comparison = _still_differs(discrepancy, effects if isinstance(effects, list) else [])
    now = timezone.now()
    discrepancy.checked_at = now
    fields = ["checked_at"]
    if comparison.equal and not discrepancy.codes_not_charged:
        discrepancy.status = RESOLVED
        discrepancy.resolved_at = now
        discrepancy.detail = (
            f"{discrepancy.detail}\nre-check {now:%Y-%m-%d %H:%M}: booked = charged"
        )
        fields += ["status", "resolved_at", "detail"]
    discrepancy.save(update_fields=fields)
    return discrepancy.status == RESOLVED


# -- reading discrepancies (the command, the benchmark) -------------------------------------
def discrepancies(
    *, status: str = "open", reason: str = "", order: str = ""
) -> QuerySet[Discrepancy]:
    """Discrepancies, newest first: ``status`` open/resolved/all, optionally one reason or
    one order key."""
    qs: QuerySet[Discrepancy] = Discrepancy.objects.select_related(
        "entry", "charged_entry"
    ).order_by("-id")
    if status != "all":
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(reason=reason)
    if order:
        qs = qs.filter(order_key=order)
    return qs


#: The columns of :func:`discrepancy_record` (the CSV export's header).
RECORD_FIELDS = (
    "id",
    "order_key",
    "session_id",
    "reason",
    "status",
    "currency",
    "charged_discount",
    "booked_discount",
    "difference",
    "charged_by_campaign",
    "booked_by_campaign",
    "codes_not_charged",
    "checked_at",
    "entry_kind",
    "detail",
    "created_at",
    "resolved_at",
)


def discrepancy_record(discrepancy: Discrepancy) -> dict[str, Any]:
    """One discrepancy as JSON-ready values (money as strings, times as ISO 8601)."""

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": discrepancy.pk,
        "order_key": discrepancy.order_key,
        "session_id": discrepancy.session_id,
        "reason": discrepancy.reason,
        "status": discrepancy.status,
        "currency": discrepancy.currency,
        "charged_discount": str(quantize_money(discrepancy.charged_discount, discrepancy.currency)),
        "booked_discount": str(quantize_money(discrepancy.booked_discount, discrepancy.currency)),
        "difference": str(quantize_money(discrepancy.difference, discrepancy.currency)),
        "charged_by_campaign": dict(discrepancy.charged_by_campaign or {}),
        "booked_by_campaign": dict(discrepancy.booked_by_campaign or {}),
        "codes_not_charged": list(discrepancy.codes_not_charged or []),
        "checked_at": when(discrepancy.checked_at),
        "entry_kind": discrepancy.entry.kind,
        "detail": discrepancy.detail,
        "created_at": when(discrepancy.created_at),
        "resolved_at": when(discrepancy.resolved_at),
    }


@dataclass(frozen=True)
class ReconciliationReport:
    """Closed orders reconciled versus those with an open discrepancy about their close."""

    closed: int
    with_discrepancy: int
    by_reason: dict[str, int]

    @property
    def reconciled(self) -> int:
        return self.closed - self.with_discrepancy

    @property
    def reconciled_percent(self) -> float:
        return 100.0 * self.reconciled / self.closed if self.closed else 100.0


def reconciliation_report() -> ReconciliationReport:
    """How many closes were booked as charged (sessions with a ``booked`` entry and a
    ``charged`` one), and the open discrepancies by reason."""
    charged = LedgerEntry.objects.filter(kind=CHARGED).values("session_id")
    closed = (
        LedgerEntry.objects.filter(kind=BOOKED, session_id__in=charged)
        .values("session_id")
        .distinct()
        .count()
    )
    open_ = Discrepancy.objects.filter(status="open")
    with_discrepancy = open_.filter(entry__kind=BOOKED).values("session_id").distinct().count()
    by_reason: dict[str, int] = {}
    for reason in open_.values_list("reason", flat=True):
        by_reason[reason] = by_reason.get(reason, 0) + 1
    return ReconciliationReport(closed, with_discrepancy, dict(sorted(by_reason.items())))
