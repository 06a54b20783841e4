"""The Talon.One offer's condition and benefit: proxies of Oscar's own models.

Oscar applies offers through its basket offer applicator; a ``ConditionalOffer`` whose
condition and benefit name these classes in ``proxy_class`` (created by
:func:`django_talon.contrib.oscar.offers.ensure_talon_offer` after ``migrate``) makes Oscar
charge Talon.One's discounts itself: the basket totals, the checkout's order total and the
order's ``OrderDiscount`` rows all come from Oscar's own code. Proxies, so no table: they
only tell Oscar which Python class answers for the rows.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_model

Condition = get_model("offer", "Condition")
Benefit = get_model("offer", "Benefit")


class TalonCondition(Condition):  # type: ignore[misc, valid-type]
    """Satisfied by every saved basket with lines: Talon.One's rules decide, not Oscar's."""

    class Meta:
        proxy = True
        app_label = "talon_oscar"
        verbose_name = _("Talon.One condition")

    @property
    def name(self) -> str:
        return str(_("Talon.One's campaign rules"))

    @property
    def description(self) -> str:
        return self.name

    def is_satisfied(self, offer: Any, basket: Any) -> bool:
        return bool(basket.id) and not basket.is_empty

    def is_partially_satisfied(self, offer: Any, basket: Any) -> bool:
        return False

    def get_upsell_message(self, offer: Any, basket: Any) -> None:
        return None

    def consume_items(self, offer: Any, basket: Any, affected_lines: Any) -> None:
        """Lines are consumed by the benefit (it knows which ones Talon.One discounted)."""


class TalonBenefit(Benefit):  # type: ignore[misc, valid-type]
    """Charges the basket's quote: each line's Talon.One discounts and its share of the
    cart-level ones (:func:`django_talon.contrib.oscar.charging.apply_quote`)."""

    class Meta:
        proxy = True
        app_label = "talon_oscar"
        verbose_name = _("Talon.One benefit")

    @property
    def name(self) -> str:
        return str(_("Talon.One's discounts"))

    @property
    def description(self) -> str:
        return self.name

    def apply(self, basket: Any, condition: Any, offer: Any, **kwargs: Any) -> Any:
        from django_talon.contrib.oscar.charging import apply_quote

        return apply_quote(basket, offer)
