"""django-oscar integration: ``pip install 'django-talon[oscar]'`` (docs/oscar.md).

Add ``"django_talon.contrib.oscar"`` to ``INSTALLED_APPS`` (before Oscar's apps, so its
template partials take precedence) and this app wires Oscar's Basket, Line and Order to
django-talon, charges Talon.One's discounts through an Oscar site offer, routes the voucher
form to Talon.One and adds a coupon reservation page to Oscar's dashboard.
"""

#: What ``TALON`` needs for Oscar: the adapter and Oscar's basket, line and order models
#: (the core's receivers then mirror baskets and close/cancel sessions from orders).
TALON_WIRING = {
    "ADAPTER": "django_talon.contrib.oscar.adapter.OscarAdapter",
    "CART_MODELS": ["basket.Basket"],
    "CART_ITEM_MODELS": ["basket.Line"],
    "ORDER_MODELS": ["order.Order"],
}
