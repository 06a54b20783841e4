"""Oscar's ``BasketMiddleware``, telling django-talon which basket a merged one went into
and confirming a basket's pending change on the checkout pages.

Replace ``"oscar.apps.basket.middleware.BasketMiddleware"`` in ``MIDDLEWARE`` with
``"django_talon.contrib.oscar.middleware.BasketMiddleware"`` (the check
``django_talon_oscar.W001`` reminds you). Oscar merges the guest's cookie basket into the
customer's basket on the first request after login, in ``merge_baskets`` (the hook Oscar
documents for this); a merged basket keeps no link to the basket it went into, so this
middleware marks it before the merge. When Oscar saves it as ``Merged``, the core's cart
receiver asks the adapter's ``cart_merged_into`` and moves the guest's coupon codes and
referral code to the customer's basket's session (``services.merge_carts``).
"""

from __future__ import annotations

from typing import Any

from oscar.apps.basket.middleware import BasketMiddleware as OscarBasketMiddleware

#: Attribute set on the merged basket: the basket it is merged into (read by the adapter).
MERGED_INTO = "_talon_merged_into"


class BasketMiddleware(OscarBasketMiddleware):  # type: ignore[misc]
    """Oscar's middleware; a merged basket's Talon.One codes follow its lines."""

    def merge_baskets(self, master: Any, slave: Any) -> None:
        setattr(slave, MERGED_INTO, master)
        super().merge_baskets(master, slave)

    def apply_offers_to_basket(self, request: Any, basket: Any) -> None:
        """On Oscar's checkout pages, confirm the basket's quote before Oscar prices it.

        A basket change still waiting in the outbox (a code entered while Talon.One failed
        for a moment, Celery not there yet) leaves the quote unconfirmed, and Oscar would
        charge the order without its discounts. ``quote_for_cart(basket, confirm=True)``
        delivers that change once (``IMMEDIATE_TIMEOUT``; nothing while the circuit is
        open); the Talon.One offer then reads the answer. Only under the ``checkout`` URL
        namespace: the basket page and the rest of the shop stay read-only."""
        if not basket.is_empty and _at_checkout(request):
            from django_talon import services

            services.quote_for_cart(basket, confirm=True)
        super().apply_offers_to_basket(request, basket)


def _at_checkout(request: Any) -> bool:
    """Whether ``request`` is for one of Oscar's checkout views (namespace ``checkout``)."""
    match = getattr(request, "resolver_match", None)
    return match is not None and "checkout" in match.namespaces
