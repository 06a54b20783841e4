"""Who may call what: customers see only their own data; staff actions need a permission."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class TalonStaffPermission(BasePermission):
    """Staff users, or users holding the model permission named by ``required_perm``.

    The default model permissions of ``CouponReservation`` are the dedicated permissions:
    ``django_talon.add_couponreservation`` (reserve), ``delete_couponreservation`` (release)
    and ``view_couponreservation`` (list holders). Grant them to a group of non-staff users
    (e.g. a CRM service account) instead of making those users staff.
    """

    required_perm = "django_talon.view_couponreservation"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        perm = getattr(view, "required_perm", self.required_perm)
        return bool(user.is_staff or user.has_perm(perm))
