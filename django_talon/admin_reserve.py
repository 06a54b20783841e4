"""The "reserve a coupon code" intermediate form, shared by two changelists (imported by
:mod:`django_talon.admin`): the customer profiles' action and the reservations' "reserve
another code for the customers of the selected rows".

Talon.One checks the code before anything is accepted (``services.reserve_coupon_checked``);
the form comes back with the reason under the code field when it refuses the code, when it
cannot be asked, or when it refuses django-talon's credentials (a configuration problem,
said as such: "try again" would not help).
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_talon.exceptions import TalonRequestFailedError, TalonUnavailableError
from django_talon.models import CouponReservation, CustomerProfile

logger = logging.getLogger("django_talon.admin")

__all__ = ["RESERVE_PERMISSION", "ReserveCouponForm", "refusal_message", "reserve_action_view"]

#: What reserving a code for customers needs (the profiles' and the reservations' action).
RESERVE_PERMISSION = "django_talon.add_couponreservation"


class ReserveCouponForm(forms.Form):
    """Intermediate form of the "reserve a coupon code" action."""

    code = forms.CharField(
        label=_("Coupon code"),
        max_length=100,
        help_text=_("The existing Talon.One coupon code to reserve for the selected customers."),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not code or any(ch.isspace() for ch in code):
            raise forms.ValidationError(_("A code cannot be empty or contain spaces."))
        return code


def reserve_action_view(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    profiles: list[CustomerProfile],
) -> HttpResponse | None:
    """Ask for a code, reserve it; the success message names the code as Talon.One spells
    it (``vip20`` typed, ``VIP20`` stored and shown)."""
    from django_talon import services

    if not (request.user.is_active and request.user.has_perm(RESERVE_PERMISSION)):
        raise PermissionDenied
    if "apply" not in request.POST:
        return _reserve_form(modeladmin, request, profiles, ReserveCouponForm())
    form = ReserveCouponForm(request.POST)
    if not form.is_valid():
        return _reserve_form(modeladmin, request, profiles, form)
    code = form.cleaned_data["code"]
    try:
        rows: list[CouponReservation] = services.reserve_coupon_checked(code, profiles)
    except (services.ReservationRefused, TalonUnavailableError) as exc:
        form.add_error("code", refusal_message(code, exc))  # nothing was reserved
        return _reserve_form(modeladmin, request, profiles, form)
    except Exception as exc:  # shown to staff; the service logged the details
        logger.exception("Reserving %s from the admin failed", code)
        modeladmin.message_user(
            request,
            _("Could not reserve %(code)s: %(error)s") % {"code": code, "error": exc},
            messages.ERROR,
        )
        return None
    stored = rows[0].coupon_code if rows else code
    modeladmin.message_user(
        request,
        ngettext(
            "Reserved %(code)s for %(count)d customer.",
            "Reserved %(code)s for %(count)d customers.",
            len(rows),
        )
        % {"code": stored, "count": len(rows)},
        messages.SUCCESS,
    )
    return None


def refusal_message(code: str, exc: Exception) -> str:
    """The form error when nothing was reserved: Talon.One refused the code (its reason),
    refused our credentials (401/403: the API key or its permissions, never the key itself),
    refused the request otherwise (the status), or could not be asked (try again)."""
    from django_talon.services import ReservationRefused

    if isinstance(exc, ReservationRefused):
        return exc.message
    if isinstance(exc, TalonRequestFailedError) and exc.status in (401, 403):
        return str(
            _(
                "Talon.One refused django-talon's credentials (HTTP %(status)s), so nothing "
                "was reserved: this is a configuration problem, not %(code)s. Check the API "
                "key in the TALON setting and its permissions for this Application."
            )
            % {"status": exc.status, "code": code}
        )
    if isinstance(exc, TalonRequestFailedError) and exc.status is not None:
        return str(
            _("Talon.One refused to check %(code)s (HTTP %(status)s), so nothing was reserved.")
            % {"code": code, "status": exc.status}
        )
    return str(
        _("Talon.One could not check %(code)s right now, so nothing was reserved. Try again.")
        % {"code": code}
    )


def _reserve_form(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    profiles: list[CustomerProfile],
    form: ReserveCouponForm,
) -> TemplateResponse:
    """The intermediate page: the customers, the code field (with its error, if any)."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Reserve a coupon code"),
        "opts": modeladmin.model._meta,
        "form": form,
        "profiles": profiles,
        "action_name": request.POST.get("action", "reserve_coupon"),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        # "Select all N" re-posts the filter (kept in the URL), not N ids: more than
        # DATA_UPLOAD_MAX_NUMBER_FIELDS hidden inputs would be refused by Django.
        "select_across": request.POST.get("select_across") == "1",
        # Re-post the rows ticked on *this* changelist (reservation or profile ids).
        "selected_ids": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/django_talon/reserve_coupon.html", context)
