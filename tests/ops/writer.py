"""A "web process" for the parallel test: ``python -m tests.ops.writer CART_PK COUNT BASE``.

Runs with tests/ops/worker_settings.py (same database, emulator and broker as the test),
updates one cart ``COUNT`` times (quantities ``BASE+1 .. BASE+COUNT``, so every write is
recognisable in the emulator's log), each in its own transaction, exactly like a shop view:
after commit the outbox makes its immediate attempt and hands the rest to the workers.
Prints one JSON line with what it did.
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.ops.worker_settings")
    import django

    django.setup()
    import tests.ops.celery_app  # noqa: F401  (the current Celery app: broker and queue under test)
    from django_talon import services
    from tests.ops.carts import OpsCart

    cart_pk, count, base = int(argv[0]), int(argv[1]), int(argv[2])
    for quantity in range(base + 1, base + count + 1):
        services.update_cart(OpsCart(cart_pk, quantity))
    print(json.dumps({"base": base, "updates": count}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
