"""Prices and SKUs of Oscar basket lines as django-talon sends and charges them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oscar.core.loading import get_class

CENT = Decimal("0.01")


def line_price(line: Any, incl_tax: bool) -> Decimal | None:
    """The unit price of a line as Oscar's strategy gives it, in the configured tax mode."""
    info = line.purchase_info
    price = info.price
    if incl_tax and price.is_tax_known:
        value = price.incl_tax
    else:
        value = price.excl_tax
    return None if value is None else Decimal(value).quantize(CENT)


def line_sku(line: Any) -> str:
    """The product's UPC, the stock record's partner SKU, or ``product-<pk>``."""
    product = line.product
    if getattr(product, "upc", ""):
        return str(product.upc)
    stockrecord = getattr(line, "stockrecord", None)
    if stockrecord is not None and stockrecord.partner_sku:
        return str(stockrecord.partner_sku)
    return f"product-{product.pk}"


def ensure_strategy(basket: Any) -> Any:
    """A basket read outside a request (a signal, a task) has no pricing strategy yet:
    give it the one Oscar's ``Selector`` picks for its owner."""
    if not basket.has_strategy:
        selector = get_class("partner.strategy", "Selector")()
        basket.strategy = selector.strategy(user=basket.owner)
    return basket
