"""``{% load talon_loyalty %}``: the signed-in customer's points, their history, achievements,
loyalty cards.

Unlike ``{% load talon %}`` these tags show data django-talon does not mirror (Talon.One
keeps the ledger), so the first render for a customer reads it from Talon.One, with the
short ``TALON["IMMEDIATE_TIMEOUT"]`` and no retries, and every later render within
``TALON["LOYALTY_CACHE_SECONDS"]`` reads what was remembered (``services.loyalty``): zero API
calls until the customer's next close, cancel or return. When Talon.One cannot answer the
tag renders "not available right now" instead of failing the page. An anonymous visitor
sees nothing and costs nothing.

Each tag takes ``template=`` (the partials live under ``django_talon/loyalty/``, so a shop
overrides one by shipping a file of the same name) and ``program_id=`` (default
``TALON["LOYALTY_PROGRAM_ID"]``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django import template
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from django_talon.conf import talon_settings
from django_talon.exceptions import TalonUnavailableError
from django_talon.moments import parse_for_shop
from django_talon.services import card_ledger, loyalty

logger = logging.getLogger(__name__)
register = template.Library()

T = TypeVar("T")


@register.filter(name="talon_moment")
def talon_moment(text: Any) -> Any:
    """A Talon.One timestamp (``entry.created``, an ISO string in UTC) as a datetime in the
    shop's time zone, for ``|date``: slicing the string showed the UTC date, a day off for
    a shop east or west of UTC near midnight. None (``|date`` shows nothing) for no value or
    text that is no timestamp."""
    return parse_for_shop(text)


def _request(context: template.Context) -> HttpRequest | None:
    request = context.get("request")
    return request if isinstance(request, HttpRequest) else None


def _user(context: template.Context) -> Any:
    request = _request(context)
    user = getattr(request, "user", None) if request is not None else context.get("user")
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _no_program(program_id: int | None) -> bool:
    """No loyalty program to show: neither ``program_id=`` nor ``TALON["LOYALTY_PROGRAM_ID"]``.
    The tag renders nothing (logged), as the REST endpoints answer 404: a page must not fail
    with ``ImproperlyConfigured`` for every signed-in customer."""
    if program_id is not None or talon_settings.LOYALTY_PROGRAM_ID is not None:
        return False
    logger.warning(
        "A loyalty tag renders nothing: set TALON['LOYALTY_PROGRAM_ID'] or pass program_id="
    )
    return True


#: Attribute of a request: a loyalty read of this request found Talon.One unavailable.
_UNAVAILABLE_MARK = "_django_talon_loyalty_unavailable"


def _read(context: template.Context, what: str, read: Callable[[], T]) -> tuple[T | None, bool]:
    """``(value, unavailable)``: a failed read is logged and shown as unavailable.

    Once one read of a request found Talon.One unavailable, the page's other loyalty tags
    do not ask again: each would wait its own ``IMMEDIATE_TIMEOUT`` (five tags: 7.5 s for
    the first page during an outage) and count against the circuit breaker, which also
    stops the cart's writes."""
    request = _request(context)
    if request is not None and getattr(request, _UNAVAILABLE_MARK, False):
        return None, True
    try:
        return read(), False
    except TalonUnavailableError as exc:
        logger.warning("Could not read the %s for a page: %s", what, exc)
        if request is not None:
            setattr(request, _UNAVAILABLE_MARK, True)
        return None, True


def _render(context: template.Context, name: str, extra: dict[str, Any]) -> SafeString:
    request = _request(context)
    return mark_safe(render_to_string(name, {"request": request, **extra}, request=request))


@register.simple_tag(takes_context=True)
def talon_loyalty_balance(
    context: template.Context,
    program_id: int | None = None,
    template: str = "django_talon/loyalty/balance.html",
) -> SafeString:
    """Active, pending and soon-expiring points of the signed-in customer."""
    if _no_program(program_id):
        return mark_safe("")
    user = _user(context)
    if user is None:
        return mark_safe("")
    balance, unavailable = _read(
        context,
        "loyalty balance",
        lambda: loyalty.loyalty_balance(
            user, program_id=program_id, timeout=talon_settings.IMMEDIATE_TIMEOUT
        ),
    )
    return _render(context, template, {"balance": balance, "unavailable": unavailable})


@register.simple_tag(takes_context=True)
def talon_loyalty_history(
    context: template.Context,
    program_id: int | None = None,
    limit: int = 20,
    template: str = "django_talon/loyalty/history.html",
) -> SafeString:
    """The newest ``limit`` lines of the signed-in customer's points history."""
    if _no_program(program_id):
        return mark_safe("")
    user = _user(context)
    if user is None:
        return mark_safe("")
    history, unavailable = _read(
        context,
        "loyalty history",
        lambda: loyalty.loyalty_history(
            user,
            program_id=program_id,
            page_size=max(1, min(int(limit), 1000)),
            timeout=talon_settings.IMMEDIATE_TIMEOUT,
        ),
    )
    return _render(context, template, {"history": history, "unavailable": unavailable})


@register.simple_tag(takes_context=True)
def talon_achievements(
    context: template.Context, template: str = "django_talon/loyalty/achievements.html"
) -> SafeString:
    """The signed-in customer's achievements with their progress."""
    user = _user(context)
    if user is None:
        return mark_safe("")
    achievements, unavailable = _read(
        context,
        "achievements",
        lambda: loyalty.customer_achievements(user, timeout=talon_settings.IMMEDIATE_TIMEOUT),
    )
    return _render(
        context, template, {"achievements": achievements or [], "unavailable": unavailable}
    )


@register.simple_tag(takes_context=True)
def talon_loyalty_card(
    context: template.Context,
    card_id: str | None = None,
    limit: int = 20,
    template: str = "django_talon/loyalty/card.html",
) -> SafeString:
    """A loyalty card of the signed-in customer (card-based programs): its points and the
    newest ``limit`` lines of its history. ``card_id`` picks one of the customer's cards
    (default: the first linked one); a card not linked to the customer renders as none."""
    user = _user(context)
    if user is None:
        return mark_safe("")
    timeout = talon_settings.IMMEDIATE_TIMEOUT

    def read() -> card_ledger.CardLedger | None:
        chosen = card_id
        if chosen is None:
            cards = loyalty.loyalty_cards(user, timeout=timeout)
            if not cards:
                return None
            chosen = cards[0].identifier
        page = max(1, min(int(limit), 1000))
        return card_ledger.loyalty_card(user, str(chosen), page_size=page, timeout=timeout)

    card, unavailable = _read(context, "loyalty card", read)
    return _render(context, template, {"card": card, "unavailable": unavailable})


@register.simple_tag(takes_context=True)
def talon_points_form(
    context: template.Context,
    program_id: int | None = None,
    next_url: str | None = None,
    template: str = "django_talon/loyalty/points_form.html",
) -> SafeString:
    """ "Use my points": the cart's current wish, the active balance, and a form posting to
    ``django_talon:points-redeem`` (``include("django_talon.urls")``)."""
    from django.urls import reverse

    from django_talon.services.sessions import session_for_request
    from django_talon.templatetags.talon import promotions_for_request

    if _no_program(program_id):
        return mark_safe("")
    user = _user(context)
    request = _request(context)
    if user is None or request is None:
        return mark_safe("")
    # The cart page: the remembered balance only, never a call (the submit checks the
    # balance with Talon.One); unknown yet -> the form without "N available".
    balance = loyalty.known_balance(user, program_id=program_id)
    session = session_for_request(request)
    return _render(
        context,
        template,
        {
            "balance": balance,
            "wish": session.points_to_redeem if session is not None else None,
            "promotions": promotions_for_request(request),
            "redeem_url": reverse("django_talon:points-redeem"),
            "next_url": next_url or request.get_full_path(),
        },
    )
