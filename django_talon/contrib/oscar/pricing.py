"""Prices and SKUs of Oscar basket lines as django-talon sends and charges them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oscar.core.loading import get_class

CENT = Decimal("0.01")


def charges_incl_tax(line: Any, incl_tax: bool) -> bool:
    """Is the line sent to Talon.One, and discounted by Oscar, including tax?

    Only when ``TAX_MODE`` says so *and* Oscar knows the line's tax: a deferred-tax strategy
    (US-style, the tax is known at checkout) has no tax-inclusive price yet, so the line is
    sent excluding tax and must be discounted excluding tax too (a tax-inclusive discount
    makes Oscar ask for the unknown tax: ``TaxNotKnown`` on the basket page).
    """
    return incl_tax and bool(line.purchase_info.price.is_tax_known)


def line_price(line: Any, incl_tax: bool) -> Decimal | None:
    """The unit price of a line as Oscar's strategy gives it, in the configured tax mode
    (:func:`charges_incl_tax`)."""
    price = line.purchase_info.price
    value = price.incl_tax if charges_incl_tax(line, incl_tax) else price.excl_tax
    return None if value is None else Decimal(value).quantize(CENT)


def exact_line_price(line: Any, incl_tax: bool) -> Decimal:
    """The line's total as Oscar computes it (unrounded unit price x quantity), in the tax
    mode its discount is charged in; 0 for a line without a price."""
    price = line.purchase_info.price
    value = price.incl_tax if charges_incl_tax(line, incl_tax) else price.excl_tax
    return Decimal(0) if value is None else Decimal(value) * int(line.quantity)


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
