"""A "web process" of the concurrency test: ``python -m tests.core.concurrent_writer CART SKU
START CODE...`` (``-CODE`` removes the code).

Runs with tests/core/concurrency_settings.py (same database and emulator as the test). Waits
until the wall-clock time ``START`` so that all writers begin together, then for each code:
changes its own cart line (the shop's save fires django-talon's receiver, which queues the
cart) and applies (or removes) the code, each in its own transaction like two separate shop
requests. Prints one JSON line: the codes the service applied and removed (returned without
an error) and the line's final quantity.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.core.concurrency_settings")
    import django

    django.setup()
    from django_talon import services
    from tests.shopapp.models import Cart, CartItem

    cart_pk, sku, start, codes = int(argv[0]), argv[1], float(argv[2]), argv[3:]
    cart = Cart.objects.get(pk=cart_pk)
    line = CartItem.objects.get(cart=cart, sku=sku)
    time.sleep(max(0.0, start - time.time()))
    applied, removed = [], []
    for quantity, code in enumerate(codes, start=2):
        line.quantity = quantity
        line.save(update_fields=["quantity"])  # the receiver queues the cart
        if code.startswith("-"):
            services.remove_coupon(cart, code[1:])
            removed.append(code[1:])
        else:
            services.apply_coupon(cart, code)
            applied.append(code)
    result = {"sku": sku, "applied": applied, "removed": removed, "quantity": line.quantity}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
