"""The dashboard menu entry for the reservation page (importable from settings).

Oscar checks a menu entry's access with a function; its default only knows Oscar's own
dashboard apps, so the entry brings its own. This module imports no models: settings may
import it (``OSCAR_DASHBOARD_NAVIGATION = [*OSCAR_DASHBOARD_NAVIGATION, NAVIGATION_ENTRY]``).
"""

from __future__ import annotations

from typing import Any

#: The permission the reservation page asks for (``django_talon.CouponReservation``).
RESERVE_PERMISSION = "django_talon.add_couponreservation"


def can_reserve(
    user: Any, url_name: Any = None, url_args: Any = None, url_kwargs: Any = None
) -> bool:
    """Oscar's ``access_fn``: active staff with the reservation permission."""
    return bool(user.is_active and user.is_staff and user.has_perm(RESERVE_PERMISSION))


NAVIGATION_ENTRY: dict[str, Any] = {
    "label": "Talon.One reservations",
    "icon": "fas fa-ticket-alt",
    "url_name": "talon_oscar:dashboard-reservations",
    "access_fn": can_reserve,
}
