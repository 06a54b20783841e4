"""``{% load talon_prices %}``: the best prior price ("lowest price in the last 30 days").

``{% talon_best_prior_price product %}`` renders ``django_talon/best_prior_price.html``
with the product's lowest price of the last ``TALON["PRIOR_PRICE_TIMEFRAME_DAYS"]`` days,
or nothing when Talon.One has no price for it or cannot be asked (a product page never
fails or waits because of it). ``{% talon_prior_price product as prior %}`` gives the
:class:`~django_talon.services.prices.PriorPrice` (or None) to a template of your own.

Prices are cached per SKU (:mod:`django_talon.services.prices`): after the first render of
a product, rendering it costs no Talon.One call.
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
def talon_prior_price(product: Any) -> PriorPrice | None:
    """``{% talon_prior_price product as prior %}``: the product's (or SKU's) prior price."""
    if product in (None, ""):
        return None
    return best_prior_price(product)


@register.simple_tag
def talon_best_prior_price(product: Any, template: str = DEFAULT_TEMPLATE) -> SafeString:
    """``{% talon_best_prior_price product %}``: "Lowest price in the last 30 days: …", or
    nothing without a known price."""
    prior = talon_prior_price(product)
    if prior is None:
        return mark_safe("")
    return mark_safe(render_to_string(template, {"prior": prior}))
