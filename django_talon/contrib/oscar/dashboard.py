"""Coupon reservation in Oscar's dashboard, for Oscar's staff (no Django admin needed).

Staff with the ``django_talon.add_couponreservation`` permission reserve a coupon code for
customers (``services.reserve_coupon``: local rows now, the API call through the outbox);
``django_talon.delete_couponreservation`` lets them release one. Add the page to Oscar's
menu with ``OSCAR_DASHBOARD_NAVIGATION`` and
:data:`django_talon.contrib.oscar.navigation.NAVIGATION_ENTRY` (docs/oscar.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView

from django_talon import services
from django_talon.contrib.oscar.forms import CodeForm, ReservationForm
from django_talon.contrib.oscar.navigation import RESERVE_PERMISSION
from django_talon.models import CouponReservation

#: Reservations listed on the page (newest first).
LISTED = 100


class StaffPermissionMixin(PermissionRequiredMixin):
    """Staff only, and the permission too: a customer never gets in, even with the perm."""

    raise_exception = False

    def has_permission(self) -> bool:
        user = self.request.user  # type: ignore[attr-defined]
        return bool(user.is_active and user.is_staff and super().has_permission())


class ReservationView(StaffPermissionMixin, FormView):  # type: ignore[type-arg]
    """List the reservations; reserve a code for customers (POST ``code``, ``customers``)."""

    permission_required = RESERVE_PERMISSION
    template_name = "django_talon/oscar/dashboard/reservations.html"
    form_class = ReservationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("code", "").strip()
        rows = CouponReservation.objects.select_related("profile__user").order_by("-id")
        if query:  # Talon.One matches codes without case: so does the filter
            rows = rows.filter(coupon_code__iexact=query)
        context["reservations"] = list(rows[:LISTED])
        context["query"] = query
        context["can_release"] = self.request.user.has_perm("django_talon.delete_couponreservation")
        return context

    def form_valid(self, form: ReservationForm) -> HttpResponse:
        code = form.cleaned_data["code"]
        users = form.cleaned_data["customers"]
        reserved = services.reserve_coupon(code, users)
        messages.success(
            self.request,
            _("Code %(code)s reserved for %(count)d customers.")
            % {"code": code, "count": len(reserved)},
        )
        return redirect("talon_oscar:dashboard-reservations")


class ReleaseView(StaffPermissionMixin, FormView):  # type: ignore[type-arg]
    """POST ``code`` for the customer ``user_pk``: release that reservation."""

    permission_required = "django_talon.delete_couponreservation"
    form_class = CodeForm
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CodeForm(request.POST)
        if form.is_valid():
            user = get_object_or_404(get_user_model(), pk=_user_pk(kwargs["user_pk"]))
            code = str(form.cleaned_data["code"])
            released = services.release_coupon(code, [user])
            messages.success(
                request,
                _("Code %(code)s released for %(customer)s (%(count)d).")
                % {"code": code, "customer": user.get_username(), "count": released},
            )
        return redirect("talon_oscar:dashboard-reservations")


def _user_pk(text: str) -> Any:
    """The URL's user key as the user model's primary key (a UUID, a number, text); one it
    cannot be is no such customer (404), not a 500 of the lookup."""
    try:
        return get_user_model()._meta.pk.to_python(text)
    except (ValidationError, TypeError, ValueError):
        raise Http404("no such customer") from None
