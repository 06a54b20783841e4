"""Oscar's ``BasketMiddleware``, telling django-talon which basket a merged one went into.

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
