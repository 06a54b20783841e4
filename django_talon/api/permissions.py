"""Who may call what: customers see only their own data; staff actions need a permission."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class TalonStaffPermission(BasePermission):
    """Active users holding the model permission the matching admin action requires.

    ``is_staff`` alone gives nothing (it only opens the admin site, where each action checks
    a permission too): an endpoint that reserves coupon codes must not be open to a support
    user who may merely look at profiles. The view names its permission in ``required_perm``
    (one permission, or a tuple of which any one suffices):

    * reserve: ``django_talon.add_couponreservation`` (the admin's "Reserve a coupon code");
    * release: ``django_talon.delete_couponreservation`` (the admin's "Release ...");
    * list holders: ``view_couponreservation`` or ``change_couponreservation`` (what the
      admin's reservation list needs).

    Superusers hold every permission. Grant them to a group of non-staff users (e.g. a CRM
    service account) instead of making those users staff.
    """

    required_perm: str | tuple[str, ...] = "django_talon.view_couponreservation"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perms = getattr(view, "required_perm", self.required_perm)
        if isinstance(perms, str):
            perms = (perms,)
        return any(user.has_perm(perm) for perm in perms)
