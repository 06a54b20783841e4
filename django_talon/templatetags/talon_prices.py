"""``{% load talon_prices %}``: the best prior price ("lowest price in the last 30 days").

``{% talon_best_prior_price product %}`` renders ``django_talon/best_prior_price.html``
with the product's lowest price of the last ``TALON["PRIOR_PRICE_TIMEFRAME_DAYS"]`` days,
or nothing when Talon.One has no price for it or cannot be asked (a product page never
fails or waits because of it). ``{% talon_prior_price product as prior %}`` gives the
:class:`~django_talon.services.prices.PriorPrice` (or None) to a template of your own.

Prices are cached per SKU (:mod:`django_talon.services.prices`): after the first render of
a product, rendering it costs no Talon.One call.

Async views: a lookup blocks (an HTTP call to Talon.One), so rendering these tags where an
event loop runs raises ``SynchronousOnlyOperation``, as a database query in a template
does. Render in a thread (``await sync_to_async(render)(...)``), or look the price up
first (``prior = await abest_prior_price(product)``) and hand it to the tag:
``{% talon_best_prior_price prior %}`` renders a :class:`PriorPrice` as it is, without a
lookup (docs/async.md).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from django_talon.services.prices import PriorPrice, best_prior_price

register = template.Library()

DEFAULT_TEMPLATE = "django_talon/best_prior_price.html"


@register.simple_tag
def talon_prior_price(product: Any, application: str | None = None) -> PriorPrice | None:
    """``{% talon_prior_price product as prior %}``: the product's (or SKU's) prior price; a
    :class:`PriorPrice` (looked up by the view, e.g. with ``abest_prior_price``) as it is.
    ``application="usd"`` asks that Application (its currency) instead of the default."""
    if product in (None, ""):
        return None
    if isinstance(product, PriorPrice):
        return product
    return best_prior_price(product, application=application or None)


@register.simple_tag
def talon_best_prior_price(
    product: Any, template: str = DEFAULT_TEMPLATE, application: str | None = None
) -> SafeString:
    """``{% talon_best_prior_price product %}``: "Lowest price in the last 30 days: …", or
    nothing without a known price. ``product`` may be a product, a SKU or a
    :class:`PriorPrice` already looked up; ``application="usd"`` as for
    :func:`talon_prior_price`."""
    prior = talon_prior_price(product, application)
    if prior is None:
        return mark_safe("")
    return mark_safe(render_to_string(template, {"prior": prior}))
