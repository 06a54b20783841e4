"""``{% load talon %}``: promotions, coupon forms, reserved coupons, loyalty, notifications.

The promotions every tag shows are the view of the cart's quote
(``services.quote_for_cart``): the numbers on the page are the ones the shop charges, and
discounts computed for an older cart are never shown against the current one. Every tag reads the local mirror (the ``CustomerSession`` row and its stored effects) and
never calls Talon.One: a page render must not wait on a remote API. Lookups are cached on
the request object, so using several tags on one page costs the session lookup once.

Each rendering tag takes an optional ``template=`` argument, and every template lives under
``django_talon/`` so a shop overrides it by shipping a file with the same name.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django import template
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from django_talon.promotions import (
    CartLine,
    LoyaltyBalance,
    PromotionsSummary,
    currency_exponent,
    known_loyalty_balances,
    quantize_money,
)
from django_talon.promotions.quote import Quote
from django_talon.services.display import quote_view, summarize_request, summarize_session
from django_talon.services.profiles import customer_reservations

logger = logging.getLogger(__name__)
register = template.Library()

_SUMMARY_ATTR = "_talon_promotions"
_RESERVED_ATTR = "_talon_reserved_coupons"


def promotions_for_request(request: HttpRequest | None) -> PromotionsSummary:
    """The :class:`~django_talon.promotions.PromotionsSummary` of the current cart (cached)."""
    if request is None:
        return summarize_session(None)
    if hasattr(request, _SUMMARY_ATTR):
        cached: PromotionsSummary = getattr(request, _SUMMARY_ATTR)
        return cached
    summary = summarize_request(request)
    setattr(request, _SUMMARY_ATTR, summary)
    return summary


def reserved_coupons_for_request(request: HttpRequest | None) -> list[Any]:
    """The signed-in user's accepted ``CouponReservation`` rows (one query, cached)."""
    if request is None:
        return []
    if hasattr(request, _RESERVED_ATTR):
        cached: list[Any] = getattr(request, _RESERVED_ATTR)
        return cached
    # Only reservations Talon.One accepted: a queued or refused one is not the customer's.
    rows: list[Any] = list(customer_reservations(getattr(request, "user", None)))
    setattr(request, _RESERVED_ATTR, rows)
    return rows


def loyalty_balance_for_request(request: HttpRequest | None) -> list[LoyaltyBalance] | None:
    """Last known loyalty balances of the signed-in customer (cache only, no API call).

    ``None`` means "not known yet": the balance is remembered whenever the customer's
    inventory is fetched (REST ``inventory`` endpoint or ``promotions.remember_inventory``).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    profile = _profile_of(user)
    return known_loyalty_balances(profile.integration_id) if profile is not None else None


def _profile_of(user: Any) -> Any:
    """``user.talon_profile`` or None (the reverse one-to-one raises when missing)."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return getattr(user, "talon_profile", None)
    except ObjectDoesNotExist:
        return None


def _request(context: template.Context) -> HttpRequest | None:
    request = context.get("request")
    return request if isinstance(request, HttpRequest) else None


def _summary(
    context: template.Context, promotions: PromotionsSummary | Quote | None
) -> PromotionsSummary:
    """The summary to show: the one passed in (a quote is shown as its summary), else the
    current request's."""
    if isinstance(promotions, PromotionsSummary):
        return promotions
    if isinstance(promotions, Quote):
        return quote_view(promotions)
    return promotions_for_request(_request(context))


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        logger.debug("URL %s is not installed; the form posts to the current page", name)
        return ""


def _render(context: template.Context, template_name: str, extra: dict[str, Any]) -> SafeString:
    request = _request(context)
    ctx = {"request": request, **extra}
    return mark_safe(render_to_string(template_name, ctx, request=request))


def _render_in_page(
    context: template.Context, template_name: str, extra: dict[str, Any]
) -> SafeString:
    """Render like ``{% include %}``: the partial sees the page's whole context plus ``extra``.

    A shop's own summary template (``template=``) can then use the page's variables (its
    cart, its product rows) next to ``promotions`` instead of re-implementing the tag.
    """
    engine = getattr(getattr(context, "template", None), "engine", None)
    if engine is None:  # rendered outside a template (e.g. called from Python)
        return _render(context, template_name, extra)
    partial = engine.get_template(template_name)
    with context.push(**extra):
        html: str = partial.render(context)
    return mark_safe(html)


@register.filter(name="talon_money")
def talon_money(value: Any, currency: str = "EUR") -> str:
    """Format an amount in ``currency``: ``{{ amount|talon_money:promotions.currency }}``.

    Uses the currency's minor unit and the active locale's number format; the order of amount
    and currency code is itself translatable (msgid ``"%(amount)s %(currency)s"``).
    """
    if value in (None, ""):
        return ""
    amount = quantize_money(value, currency)
    shown = formats.number_format(
        amount, decimal_pos=currency_exponent(currency), use_l10n=True, force_grouping=True
    )
    return _("%(amount)s %(currency)s") % {"amount": shown, "currency": currency}


@register.simple_tag(takes_context=True)
def talon_promotions(context: template.Context) -> PromotionsSummary:
    """``{% talon_promotions as promotions %}``: the summary for the current cart."""
    return promotions_for_request(_request(context))


@register.simple_tag(takes_context=True)
def talon_quote(context: template.Context) -> Quote | None:
    """``{% talon_quote as quote %}``: the current cart's quote (status, message, total).

    The same object the shop charges from (``services.quote_for_cart``); None only for a
    summary built by hand.
    """
    quote = promotions_for_request(_request(context)).quote
    return quote if isinstance(quote, Quote) else None


@register.simple_tag
def talon_line(promotions: PromotionsSummary, position: Any) -> CartLine | None:
    """``{% talon_line promotions forloop.counter0 as line %}``: one cart line's discounts."""
    try:
        return promotions.line(int(position))
    except (TypeError, ValueError, AttributeError):
        return None


@register.simple_tag(takes_context=True)
def talon_total_after_discount(
    context: template.Context, promotions: PromotionsSummary | Quote | None = None
) -> Decimal | str:
    """The cart total after all discounts (never negative): the quote's total. Without a
    summary (a template that left ``promotions`` out, e.g. an e-mail), the request's cart's;
    "" without a request either (the tag prints nothing, never a 500)."""
    total = getattr(promotions, "total", None)
    if isinstance(total, Decimal):
        return total
    request = context.get("request")
    return promotions_for_request(request).total if request is not None else ""


@register.simple_tag(takes_context=True)
def talon_cart_summary(
    context: template.Context,
    promotions: PromotionsSummary | Quote | None = None,
    template: str = "django_talon/cart_summary.html",
    show_lines: bool = True,
) -> SafeString:
    """Discount lines, free items and totals after discount of the current request's cart.

    ``show_lines=False`` leaves out the line table (for a cart page whose own table already
    lists the items): per-item discounts are then shown as one "Item discounts" total. The
    template renders inside the page's context (like ``{% include %}``), so an overriding
    template can use the page's own variables too.
    """
    return _render_in_page(
        context,
        template,
        {"promotions": _summary(context, promotions), "show_lines": bool(show_lines)},
    )


def _render_code_form(
    context: template.Context,
    template_name: str,
    promotions: PromotionsSummary | Quote | None,
    next_url: str | None,
    **urls: str,
) -> SafeString:
    """A coupon/referral form: the summary, the URLs it posts to, and where to come back to
    (the current page unless ``next_url`` says otherwise)."""
    request = _request(context)
    return _render(
        context,
        template_name,
        {
            "promotions": _summary(context, promotions),
            **urls,
            "next_url": next_url or (request.get_full_path() if request else ""),
        },
    )


@register.simple_tag(takes_context=True)
def talon_coupon_form(
    context: template.Context,
    promotions: PromotionsSummary | Quote | None = None,
    template: str = "django_talon/coupon_form.html",
    next_url: str | None = None,
) -> SafeString:
    """Enter/remove coupon codes; shows each code's status and rejection message."""
    return _render_code_form(
        context,
        template,
        promotions,
        next_url,
        apply_url=_url("django_talon:coupon-apply"),
        remove_url=_url("django_talon:coupon-remove"),
    )


@register.simple_tag(takes_context=True)
def talon_referral_form(
    context: template.Context,
    promotions: PromotionsSummary | Quote | None = None,
    template: str = "django_talon/referral_form.html",
    next_url: str | None = None,
) -> SafeString:
    """Enter a referral code; shows whether it was accepted or why not."""
    return _render_code_form(
        context, template, promotions, next_url, apply_url=_url("django_talon:referral-apply")
    )


@register.simple_tag(takes_context=True)
def talon_reserved_coupons(
    context: template.Context, template: str = "django_talon/reserved_coupons.html"
) -> SafeString:
    """The signed-in customer's reserved coupon codes (from the local mirror)."""
    return _render(
        context, template, {"reservations": reserved_coupons_for_request(_request(context))}
    )


@register.simple_tag(takes_context=True)
def talon_loyalty(
    context: template.Context,
    promotions: PromotionsSummary | Quote | None = None,
    template: str = "django_talon/loyalty.html",
) -> SafeString:
    """Loyalty points this cart earns or spends, and the stored balance when known."""
    request = _request(context)
    return _render(
        context,
        template,
        {
            "promotions": _summary(context, promotions),
            "balance": loyalty_balance_for_request(request),
        },
    )


@register.simple_tag(takes_context=True)
def talon_notifications(
    context: template.Context,
    promotions: PromotionsSummary | Quote | None = None,
    template: str = "django_talon/notifications.html",
) -> SafeString:
    """``showNotification`` messages from the marketing team."""
    return _render(context, template, {"promotions": _summary(context, promotions)})
