"""The order ledger: record what an order was charged, close what was charged.

At placement the shop records the quote it charged (:func:`record_order`); the order
receiver does it for shops wired through ``TALON["ORDER_MODELS"]``
(:func:`django_talon.services.placement.record_placement`). The close then sends the session
*as it was quoted* (:func:`close_as_charged`): the cart lines of the quote and only the codes
whose discounts the shopper was given. Every answer of Talon.One about the order (the close,
each return, the cancel, a reopen) is appended by :func:`record_answer`; nothing is ever
overwritten, so the discount that was charged survives every rollback.

This module reads and writes the ledger only; it imports neither the sessions service nor
the outbox handlers (both import it), so the dependency runs one way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction

from django_talon.client.effects import (
    Effect,
    RollbackDiscount,
    SetDiscount,
    SetDiscountPerAdditionalCost,
    SetDiscountPerAdditionalCostPerItem,
    SetDiscountPerItem,
    decode_effects,
)
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession, LedgerEntry
from django_talon.promotions import PromotionsSummary, quantize_money, summarize
from django_talon.promotions.codes import code_key
from django_talon.promotions.money import MAX_AMOUNT
from django_talon.promotions.scopes import (
    ADDITIONAL_COSTS,
    ITEM_TOTAL,
    take_cart_discounts,
    take_item_discounts,
)

if TYPE_CHECKING:
    from django_talon.promotions.quote import Quote

logger = logging.getLogger("django_talon.services")

__all__ = [
    "BOOKED",
    "CANCELLED",
    "CHARGED",
    "REOPENED",
    "RETURNED",
    "ROLLBACK_KINDS",
    "BookedAmounts",
    "booked_amounts",
    "campaign_amounts",
    "charged_entry_for",
    "charged_entry_for_close",
    "close_as_charged",
    "order_key",
    "prepare_close",
    "record_answer",
    "record_order",
    "rolled_back",
]

#: The entry kinds (``LedgerEntry.Kind``) as plain strings.
CHARGED = "charged"
BOOKED = "booked"
RETURNED = "returned"
CANCELLED = "cancelled"
REOPENED = "reopened"

#: Ledger kinds whose effects are rollbacks of what the close booked.
ROLLBACK_KINDS = (RETURNED, CANCELLED, REOPENED)

#: ``TALON["CLOSE_UNCONFIRMED"]``: close an order charged without Talon.One's discounts
#: without its coupon codes and referral code (the default), or with them as entered.
WITHOUT_CODES = "without_codes"
WITH_CODES = "with_codes"


def order_key(order: Any) -> str:
    """``'<app_label.model>:<pk>'`` of a shop order (a string is taken as the key itself)."""
    if isinstance(order, str):
        return order
    return f"{order._meta.label_lower}:{order.pk}"


def _money(value: Decimal) -> str:
    return str(value)


def campaign_amounts(amounts: Mapping[Any, Decimal]) -> dict[str, str]:
    """Per-campaign amounts as the ledger stores them: ``{"<id>": "<amount>"}``, no zeros."""
    return {str(k): _money(v) for k, v in amounts.items() if v}


def _by_campaign(summary: PromotionsSummary) -> dict[int | None, Decimal]:
    """Every discount of a summary (cart, items, additional costs) summed per campaign, each
    rounded to the currency as the quote rounds it (what the shop shows and charges)."""
    totals: dict[int | None, Decimal] = {}
    for discount in summary.discounts:
        totals[discount.campaign_id] = totals.get(discount.campaign_id, Decimal(0)) + (
            discount.amount
        )
    return totals


#: Discount effects whose ``value`` is money off the cart, an item or an additional cost
#: (the summary's ``discounts``); the last two are off additional costs.
_DISCOUNT_EFFECTS: tuple[type[Effect], ...] = (
    SetDiscount,
    SetDiscountPerItem,
    SetDiscountPerAdditionalCost,
    SetDiscountPerAdditionalCostPerItem,
)
_COST_DISCOUNT_EFFECTS: tuple[type[Effect], ...] = (
    SetDiscountPerAdditionalCost,
    SetDiscountPerAdditionalCostPerItem,
)


def _taken_off_item(
    effect: SetDiscountPerItem,
    amount: Decimal,
    summary: PromotionsSummary,
    left: dict[int, tuple[Decimal, Decimal]],
) -> tuple[Decimal, Decimal]:
    """A per-item discount (as sent) as ``(off its item's price, off the item's own
    additional costs)``: the ``price`` scope (or none) all off the price, as sent;
    ``additionalCosts`` off the item's costs, ``itemTotal`` off what the price has left,
    then the costs, each at most what the line has left there (the quote's allocation,
    :func:`~django_talon.promotions.scopes.take_item_discounts`; ``left``: position ->
    what the line's price and costs have left, kept across the line's discounts)."""
    line = summary.line(effect.position) if effect.position is not None else None
    if line is None:
        return amount, Decimal(0)
    zero = Decimal(0)
    price, costs = left.get(line.position) or (
        line.subtotal,
        sum((c.total for c in line.costs()), zero),
    )
    if effect.scope in (ADDITIONAL_COSTS, ITEM_TOTAL):
        ((off_price, off_costs),) = take_item_discounts([(effect.scope, amount)], price, costs)
    else:  # the price, as sent (not capped at the line: the items' total floors it)
        off_price, off_costs = amount, zero
    left[line.position] = (price - off_price, costs - off_costs)
    return off_price, off_costs


def _as_sent(value: Decimal) -> Decimal | None:
    """A decoded amount exactly as Talon.One sent it (not rounded); None for one that
    cannot be money (``1e29``), which is logged and left out."""
    if abs(value) >= MAX_AMOUNT:
        logger.warning("Ignoring unrepresentable money amount %r in the ledger", value)
        return None
    return value


class BookedAmounts:
    """What Talon.One booked, from the amounts it sent: per campaign and for the cart and
    its items, summed **as sent** and rounded **once** to the currency.

    Why not the summary's amounts: the quote rounds every effect to the currency's minor
    unit (what the shop shows and charges), while Talon.One books the amounts it sent. With
    sub-unit amounts (1,000 units at 0.1485 off each) the per-effect rounding says 150.00
    where Talon.One booked 148.50; the booked side built by the same rounding as the charged
    side agreed with it and hid the difference. ``rounded_per_effect`` keeps the summary's
    figures so the ledger entry can say where they part.
    """

    def __init__(self, effects_raw: Sequence[Any], summary: PromotionsSummary) -> None:
        currency = summary.currency
        # The effects the summary set aside (malformed, unusable) are not booked money
        # either; equal raw dicts get equal treatment, so membership by equality is exact.
        set_aside = [*summary.other_effects, *summary.unusable_effects]
        exact: dict[int | None, Decimal] = {}
        cart = Decimal(0)
        on_items = Decimal(0)  # the items' own discounts (setDiscountPerItem) off prices
        on_item_costs = Decimal(0)  # ... off the items' own additional costs (by scope)
        line_left: dict[int, tuple[Decimal, Decimal]] = {}  # for _taken_off_item
        cart_level: list[tuple[str, Decimal]] = []  # (scope, amount) of each setDiscount
        for effect in decode_effects(effects_raw):
            if type(effect) not in _DISCOUNT_EFFECTS or effect.raw in set_aside:
                continue
            # ``value`` is the decoder's exact Decimal; one that only rounds to zero from
            # below (-0.001) is no discount, as in the summary.
            amount = _as_sent(max(getattr(effect, "value", Decimal(0)), Decimal(0)))
            if amount is None:
                continue
            exact[effect.campaign_id] = exact.get(effect.campaign_id, Decimal(0)) + amount
            if type(effect) not in _COST_DISCOUNT_EFFECTS:
                cart += amount
            if isinstance(effect, SetDiscount):
                cart_level.append((effect.scope or "", amount))
            elif isinstance(effect, SetDiscountPerItem):
                off_price, off_costs = _taken_off_item(effect, amount, summary, line_left)
                on_items += off_price
                on_item_costs += off_costs
        self.currency = currency
        #: Per campaign, summed as sent (not rounded).
        self.exact = exact
        #: Per campaign, summed as sent, rounded once: what Talon.One booked.
        self.by_campaign = {k: quantize_money(v, currency) for k, v in exact.items()}
        #: The cart's and the items' discounts (not the additional costs'), rounded once.
        self.discount_total = quantize_money(cart, currency)
        #: Per campaign as the quote computes it (each effect rounded first).
        self.rounded_per_effect = _by_campaign(summary)
        self._on_items = on_items
        self._on_item_costs = on_item_costs
        self._cart_level = cart_level
        self._summary = summary

    def total(self) -> Decimal:
        """What the booked cart costs: the items and additional costs (after their own
        discounts) less the discounts, each at most what it may discount. A cart discount
        takes from the additional costs only when its scope says so
        (:func:`~django_talon.promotions.scopes.take_cart_discounts`, as the quote does)."""
        summary, zero = self._summary, quantize_money(0, self.currency)
        # the additional costs after their own discounts and the items' discounts on them
        on_item_costs = quantize_money(self._on_item_costs, self.currency)
        costs = summary.additional_cost_total - on_item_costs
        taken = take_cart_discounts(
            self._cart_level, max(summary.subtotal - self._on_items, zero), costs
        )
        off_costs = quantize_money(sum((c for _, c in taken), Decimal(0)), self.currency)
        # each part summed as sent and rounded once; a discount takes only from what its
        # scope reaches (one scoped to the costs never takes its excess off the items)
        off_items = quantize_money(
            self._on_items + sum((i for i, _ in taken), Decimal(0)), self.currency
        )
        return max(summary.subtotal - off_items, zero) + costs - off_costs

    def sub_unit_note(self) -> str:
        """Where rounding each effect (as the quote does) gives another amount than what
        Talon.One booked ("" when they agree, as for amounts in whole minor units)."""
        zero = Decimal(0)
        parts = [
            f"campaign {key}: {self.exact.get(key, zero)} sent, {booked} booked, "
            f"{self.rounded_per_effect.get(key, zero)} with each effect rounded"
            for key, booked in self.by_campaign.items()
            if booked != self.rounded_per_effect.get(key, zero)
        ]
        if not parts:
            return ""
        return (
            f"Talon.One sent amounts with more decimals than {self.currency} has (sub-unit "
            f"amounts, a rounding difference): {'; '.join(parts)}"
        )


def booked_amounts(
    effects_raw: Sequence[Any], cart_items: Sequence[Any], currency: str
) -> dict[str, Decimal]:
    """Per-campaign discounts Talon.One booked with ``effects_raw`` (the close's answer, or
    a session read again): ``{"<campaign id>": amount}``, summed as sent, rounded once.

    The booked side of every reconciliation, so a rounding difference between what the shop
    charged (each effect rounded) and what Talon.One booked is never hidden.
    """
    raw = [dict(e) for e in effects_raw if isinstance(e, dict)]
    booked = BookedAmounts(raw, summarize(raw, cart_items, currency))
    return {str(k): v for k, v in booked.by_campaign.items()}


def _quoted_items(session: CustomerSession | None, quote: Quote) -> list[dict[str, Any]]:
    """The cart lines the quote was computed for, as the session sends them.

    The session's own ``cart_items`` when they are the quoted state (same fingerprint, so
    categories and attributes the rules read are kept), else the quote's lines.
    """
    if session is not None and session.fingerprint == quote.fingerprint:
        return list(session.cart_items or [])
    known = {str(i.get("sku")): i for i in (session.cart_items if session else None) or []}
    items: list[dict[str, Any]] = []
    for line in quote.lines:
        item = dict(known.get(line.sku, {}))
        item.update(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            price=float(line.unit_price),
        )
        items.append(item)
    return items


def _charges_codes(quote: Quote) -> bool:
    """Whether the shopper was given the discounts the quote's codes stand for."""
    return quote.confirmed or bool(quote.discount_total)


def record_order(
    order: Any, quote: Quote, *, session: CustomerSession | None = None
) -> LedgerEntry:
    """Record what ``order`` was charged: the quote the shop charged, per line and campaign.

    Call it at placement, in the transaction that places the order and before the session
    is closed (``sync_order`` / ``close_session``), with the quote the shop charged
    (``services.quote_for_cart(cart)``). The close then sends what this entry says was
    charged. Each call appends a new ``charged`` entry (a reopened order charged again gets a
    second one; the latest counts).
    """
    if session is None:
        session = CustomerSession.objects.filter(integration_id=quote.session_id).first()
    codes = list(quote.coupon_codes) if _charges_codes(quote) else []
    referral = quote.referral_code if _charges_codes(quote) else ""
    note = ""
    entered = list(session.coupon_codes or []) if session is not None else []
    entered_referral = session.referral_code if session is not None else ""
    if not _charges_codes(quote) and (entered or entered_referral):
        note = (
            f"charged without Talon.One's discounts (quote {quote.status.value}"
            f"{': ' + quote.message if quote.message else ''}); codes entered but not given: "
            f"{', '.join([*entered, *([entered_referral] if entered_referral else [])])}"
        )
    entry: LedgerEntry = LedgerEntry.objects.create(
        order_key=order_key(order),
        session_id=quote.session_id,
        kind=CHARGED,
        currency=quote.currency,
        quote_status=quote.status.value,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        total=quote.total,
        discounts_by_campaign=campaign_amounts(quote.discounts_by_campaign()),
        coupon_codes=codes,
        referral_code=referral,
        cart_items=_quoted_items(session, quote),
        quote=quote.to_dict(),
        note=note,
    )
    return entry


def charged_entry_for(session_id: str) -> LedgerEntry | None:
    """The latest ``charged`` entry of a session (None: the shop recorded no quote)."""
    entry: LedgerEntry | None = (
        LedgerEntry.objects.filter(session_id=session_id, kind=CHARGED).order_by("-id").first()
    )
    return entry


def charged_entry_for_close(session_id: str) -> LedgerEntry | None:
    """The ``charged`` entry the session's next close is made as: the latest, unless the
    order was reopened after it (a ``reopened`` entry is newer). Why: after a reopen the
    order is changed and charged again; closing it "as charged" by the entry from before the
    reopen sent the old cart and codes (a coupon applied after the reopen was dropped from the
    close, silently: the old entry and the new booking agreed). Without a newer entry the
    close sends the session as it is, and reconciliation compares the booking with the
    latest charged entry there is, so a difference is recorded."""
    entry = charged_entry_for(session_id)
    if entry is None:
        return None
    reopened = LedgerEntry.objects.filter(session_id=session_id, kind=REOPENED, id__gt=entry.id)
    return None if reopened.exists() else entry


def _charged_costs(entry: LedgerEntry) -> dict[str, dict[str, float]] | None:
    """The cart-level additional costs the entry's quote charged, as the session sends them
    (None for an entry recorded without a quote). A cost of price 0 that only carries
    discounts was never sent (a discount on a cost the cart does not have): left out."""
    costs = (entry.quote or {}).get("additional_costs")
    if not isinstance(costs, list):
        return None
    charged: dict[str, dict[str, float]] = {}
    for cost in costs:
        if not isinstance(cost, dict) or "name" not in cost:
            continue
        price = Decimal(str(cost.get("price", 0)))
        if price or not cost.get("discounts"):
            charged[str(cost["name"])] = {"price": float(price)}
    return charged


def close_as_charged(session: CustomerSession) -> tuple[list[str], str]:
    """Make the session's local state the one that was charged, before it is closed.

    With a recorded ``charged`` entry the close sends its cart lines and, unless
    ``TALON["CLOSE_UNCONFIRMED"] == "with_codes"``, only its codes: an order charged without
    Talon.One's discounts (Talon.One down at checkout, an unconfirmed quote) is closed with
    ``couponCodes: []`` and no referral code, so Talon.One redeems nothing the shopper did not
    get. Changes the instance only; returns the fields changed and why ("" when nothing
    changed or the shop recorded no charged entry).
    """
    entry = charged_entry_for_close(session.integration_id)
    if entry is None:
        return [], ""
    fields: list[str] = []
    reasons: list[str] = []
    if entry.cart_items and list(session.cart_items or []) != list(entry.cart_items):
        session.cart_items = list(entry.cart_items)
        fields.append("cart_items")
        reasons.append("cart lines restored to the quoted cart")
    charged_costs = _charged_costs(entry)
    if charged_costs is not None and dict(session.additional_costs or {}) != charged_costs:
        session.additional_costs = charged_costs
        fields.append("additional_costs")
        reasons.append("additional costs restored to the quoted ones")
    changed, restored = _restore_charged_codes(session, entry)
    if restored:
        fields.extend(changed)
        reasons.append(f"closed with the codes charged: {', '.join(restored)}")
    if talon_settings.CLOSE_UNCONFIRMED == WITH_CODES:
        return list(dict.fromkeys(fields)), "; ".join(reasons)
    charged_codes = {code_key(c) for c in entry.coupon_codes}
    dropped = [c for c in session.coupon_codes or [] if code_key(c) not in charged_codes]
    if dropped:
        session.coupon_codes = [c for c in session.coupon_codes if code_key(c) in charged_codes]
        fields.append("coupon_codes")
    if session.referral_code and code_key(session.referral_code) != code_key(
        entry.referral_code or ""
    ):
        dropped.append(session.referral_code)
        session.referral_code = ""
        fields.append("referral_code")
    if dropped:
        reasons.append(f"closed without the codes not charged: {', '.join(dropped)}")
    return list(dict.fromkeys(fields)), "; ".join(reasons)


def _restore_charged_codes(
    session: CustomerSession, entry: LedgerEntry
) -> tuple[list[str], list[str]]:
    """Put back the codes the order was charged with that the session lost since (another
    tab removed the coupon between placement and payment): the close must redeem what the
    shopper was given, or a limited coupon is used again for nothing. Returns the fields
    changed and the codes put back."""
    fields: list[str] = []
    present = {code_key(c) for c in session.coupon_codes or []}
    restored = [c for c in entry.coupon_codes or [] if code_key(c) not in present]
    if restored:
        session.coupon_codes = [*(session.coupon_codes or []), *restored]
        fields.append("coupon_codes")
    charged_referral = entry.referral_code or ""
    if charged_referral and code_key(session.referral_code or "") != code_key(charged_referral):
        session.referral_code = charged_referral
        fields.append("referral_code")
        restored.append(charged_referral)
    return fields, restored


def prepare_close(session: CustomerSession) -> str:
    """:func:`close_as_charged` on the session row, locked and saved, before its close.

    ``close_session`` calls it right before the state change (in the same transaction when
    the caller has one), so the close body is built from the charged state. Returns why the
    state changed ("" when nothing changed).
    """
    if session.pk is None:
        return ""
    with transaction.atomic(savepoint=False):
        locked = CustomerSession.objects.select_for_update().get(pk=session.pk)
        fields, note = close_as_charged(locked)
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
            for name in fields:
                setattr(session, name, getattr(locked, name))
    if note:
        logger.info("closing session %s as charged: %s", session.integration_id, note)
    return note


def rolled_back(effects: Iterable[Effect], currency: str) -> dict[int | None, Decimal]:
    """Discount amounts taken back by ``rollbackDiscount`` effects, per campaign: summed as
    sent and rounded once, like the booked amounts they take back (:class:`BookedAmounts`),
    so rolling back 1,000 units of 0.1485 takes back the 148.50 booked, not 150.00."""
    exact: dict[int | None, Decimal] = {}
    for effect in effects:
        if isinstance(effect, RollbackDiscount):
            amount = _as_sent(effect.value)
            if amount is not None:
                exact[effect.campaign_id] = exact.get(effect.campaign_id, Decimal(0)) + amount
    return {k: quantize_money(v, currency) for k, v in exact.items()}


def _booked_note(charged: LedgerEntry | None, body: Mapping[str, Any]) -> str:
    """Why the close looked the way it did, from the charged entry's note."""
    if charged is None or not charged.note:
        return ""
    if not body.get("couponCodes") and not body.get("referralCode"):
        return f"{charged.note}; closed with couponCodes: [] and no referral code"
    return charged.note


def _session_currency(session_id: str) -> str:
    """The currency of the session's Application, for an answer with no charged entry
    (an order placed before the ledger, or charged by hand): not the top-level
    ``CURRENCY``, which with ``APPLICATIONS`` set names no Application at all."""
    application = (
        CustomerSession.objects.filter(integration_id=session_id)
        .values_list("application", flat=True)
        .first()
    )
    return talon_settings.config.currency_of(application or talon_settings.default_application)


def record_answer(
    kind: str,
    session_id: str,
    effects_raw: Sequence[dict[str, Any]],
    *,
    sent: Mapping[str, Any] | None = None,
    returned_items: Sequence[Mapping[str, Any]] = (),
    outbox_message_id: int | None = None,
) -> LedgerEntry:
    """Append what Talon.One answered about an order: the close (``booked``) or a rollback.

    ``sent`` is the ``customerSession`` body that was delivered (the close): its cart lines
    and codes are what was booked. Booked codes and the cart come from
    :func:`django_talon.promotions.summarize` over the answer's effects (the summary the
    quote is built from); booked money is the amounts Talon.One sent, summed per campaign
    and rounded once (:class:`BookedAmounts`), not the quote's per-effect rounding, so a
    sub-unit difference of a cent or more is reconciled as one. Rollback entries (returned,
    cancelled, reopened) carry the amounts taken back, summed the same way.
    """
    charged = charged_entry_for(session_id)
    # The charged entry's currency is the session's Application's (several Applications).
    currency = charged.currency if charged is not None else _session_currency(session_id)
    raw = [dict(e) for e in effects_raw if isinstance(e, dict)]
    body = dict(sent or {})
    cart_items = list(body.get("cartItems") or (charged.cart_items if charged else []))
    fields: dict[str, Any] = {}
    if kind == BOOKED:
        summary = summarize(
            raw,
            cart_items,
            currency,
            coupon_codes=list(body.get("couponCodes") or []),
            referral_code=str(body.get("referralCode") or ""),
            additional_costs=body.get("additionalCosts"),
        )
        booked = BookedAmounts(raw, summary)
        note = "; ".join(n for n in (_booked_note(charged, body), booked.sub_unit_note()) if n)
        fields.update(
            subtotal=summary.subtotal,
            discount_total=booked.discount_total,
            total=booked.total(),
            discounts_by_campaign=campaign_amounts(booked.by_campaign),
            coupon_codes=[c.code for c in summary.accepted_coupons],
            referral_code=next((r.code for r in summary.accepted_referrals), ""),
            note=note,
        )
    else:
        taken = rolled_back(decode_effects(raw), currency)
        fields.update(
            discount_total=sum(taken.values(), Decimal(0)),
            discounts_by_campaign=campaign_amounts(taken),
        )
    entry: LedgerEntry = LedgerEntry.objects.create(
        order_key=charged.order_key if charged is not None else "",
        session_id=session_id,
        kind=kind,
        currency=currency,
        cart_items=cart_items,
        effects=raw,
        returned_items=[dict(i) for i in returned_items],
        outbox_message_id=outbox_message_id,
        **fields,
    )
    return entry
