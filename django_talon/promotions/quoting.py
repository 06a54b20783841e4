"""Building a :class:`~django_talon.promotions.quote.Quote` from a summary (pure).

The service layer (``services.quote_for_cart``) decides *which* stored effects a quote may
carry (only those computed for the cart as it is now) and builds the summary from them;
this module turns that summary into the quote and links the two, so the pages (which show
the summary) and the shop (which charges the quote) read one computation:

* every line of the cart as pushed, with the per-item discounts Talon.One put on it;
* cart-level discounts in the order sent, each with its campaign; a per-item discount for a
  position that is not in the cart is counted as a cart-level discount (Talon.One granted
  it, so it is shown, charged and booked alike);
* the additional costs the session sent (``adapter.additional_costs(cart)``, and each
  item's ``additionalCosts``) with the discounts on them: charged on top of the items, and
  their discounts come off the costs, never off the items;
* free items, accepted coupon codes and the accepted referral code, loyalty points.

The shopper messages for a quote that cannot carry (all) discounts live here too, so the
template, the REST API and a shop's own checkout say the same thing.
"""

from __future__ import annotations

from django.utils.translation import gettext

from django_talon.promotions.quote import Quote, QuoteLine, QuoteStatus
from django_talon.promotions.summary import PromotionsSummary

__all__ = ["build_quote", "quote_message"]


def quote_message(status: QuoteStatus, *, last_good: bool = False) -> str:
    """The shopper message for a quote's status, in the active language ("" if confirmed).

    ``last_good``: the quote carries the discounts Talon.One last confirmed for this very
    cart (a state change such as the order's close is still on its way).
    """
    if status is QuoteStatus.CONFIRMED:
        return ""
    if last_good:
        return gettext(
            "Your discounts are the ones last confirmed for this cart; the latest change "
            "is still being sent."
        )
    if status is QuoteStatus.PENDING:
        return gettext(
            "Your discounts are still being confirmed. Until they are, you'll be charged "
            "the full price."
        )
    return gettext(
        "We couldn't confirm your discounts right now; you'll be charged the full price."
    )


def build_quote(
    summary: PromotionsSummary,
    *,
    session_id: str,
    fingerprint: str,
    status: QuoteStatus,
    message: str = "",
    referral_code: str = "",
) -> Quote:
    """The quote for ``summary`` (built from exactly the effects the quote may carry).

    ``summary.quote`` is set to the result, so the summary's totals become the quote's.
    ``referral_code`` is the code on the session; it is carried only when Talon.One accepted
    it in the effects the summary was built from.
    """
    positions = {line.position for line in summary.lines}
    on_lines = [d for d in summary.item_discounts if d.position in positions]
    off_lines = [d for d in summary.item_discounts if d.position not in positions]
    lines = tuple(
        QuoteLine(
            position=line.position,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            subtotal=line.subtotal,
            discounts=tuple(d for d in on_lines if d.position == line.position),
            additional_costs=line.costs(),
        )
        for line in summary.lines
    )
    accepted_referrals = {r.code for r in summary.accepted_referrals}
    quote = Quote(
        currency=summary.currency,
        session_id=session_id,
        fingerprint=fingerprint,
        status=status,
        lines=lines,
        cart_discounts=(*summary.cart_discounts, *off_lines),
        additional_costs=tuple(summary.additional_costs),
        free_items=tuple(summary.free_items),
        coupon_codes=tuple(c.code for c in summary.accepted_coupons),
        referral_code=referral_code if referral_code in accepted_referrals else "",
        loyalty=tuple(summary.loyalty),
        message=message,
        unusable_effects=tuple(summary.unusable_effects),
        summary=summary,
    )
    summary.quote = quote
    return quote
