"""The voucher form routed to Talon.One: Oscar's basket form posts its code here.

``django_talon.contrib.oscar.urls`` serves :class:`VoucherAddView` at Oscar's own path
(``basket/vouchers/add/``), included before Oscar's URLs, so Oscar's unchanged basket
template (``{% url 'basket:vouchers-add' %}``) sends the code to Talon.One; this app's
basket partial posts to it by name. Every attempt counts against the code attempt limit
(``TALON["CODE_ATTEMPT_RATE"]``).

Both views are ``non_atomic_requests``: under ``ATOMIC_REQUESTS = True`` (as Oscar
recommends) the immediate attempt would otherwise run after the view returned, and the
message could only say "we are checking"; outside the request's transaction the code is
committed and sent at once, so the message is Talon.One's own answer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from django_talon import services
from django_talon.contrib.oscar.forms import CodeForm
from django_talon.exceptions import TalonUnavailableError
from django_talon.models import CustomerSession
from django_talon.promotions.codes import same_code
from django_talon.services.display import summarize_session
from django_talon.throttling import CodeAttemptLimiter

logger = logging.getLogger("django_talon.contrib.oscar")


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return redirect("basket:summary")


def _open_basket(request: HttpRequest) -> Any | None:
    """The visitor's open basket, saved (an empty new basket gets its row now, so the code
    belongs to this visitor's basket and Oscar sets the basket cookie); None when Oscar
    gives no editable basket."""
    basket = getattr(request, "basket", None)
    if basket is None or not basket.can_be_edited:
        return None
    if basket.pk is None:
        basket.save()
    return basket


def _report(request: HttpRequest, session: CustomerSession, code: str) -> None:
    summary = summarize_session(session)
    result = next((r for r in summary.coupons if same_code(r.code, code)), None)
    if result is None or result.status == "pending":
        messages.info(request, _("We are checking code %(code)s.") % {"code": code})
    elif result.accepted:
        messages.success(request, _("Code %(code)s applied.") % {"code": code})
    else:
        messages.error(request, result.message)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class VoucherAddView(View):
    """POST ``code`` (Oscar's voucher form): apply it as a Talon.One coupon code."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        limiter = CodeAttemptLimiter()
        if not limiter.allow(request):
            messages.error(request, _("Too many attempts. Please wait a minute and try again."))
            return _back(request)
        form = CodeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for e in form.errors.get("code", [])))
            return _back(request)
        code = str(form.cleaned_data["code"])
        basket = _open_basket(request)
        if basket is None:
            messages.error(request, _("Your basket cannot be changed right now."))
            return _back(request)
        try:
            session = services.apply_coupon(basket, code)
        except TalonUnavailableError:
            logger.warning("Talon.One unavailable while applying a coupon code")
            messages.warning(request, _("We will check code %(code)s shortly.") % {"code": code})
            return _back(request)
        except services.SessionStateError:  # the basket was ordered meanwhile (another tab)
            messages.error(request, _("Your basket cannot be changed right now."))
            return _back(request)
        services.remember_session(request, session)
        _report(request, session, code)
        return _back(request)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class VoucherRemoveView(View):
    """POST ``code``: remove a Talon.One coupon code from the visitor's basket."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CodeForm(request.POST)
        basket = getattr(request, "basket", None)
        if form.is_valid() and basket is not None and basket.pk is not None:
            session = services.session_for_cart(basket, create=False)
            if session is not None:
                code = str(form.cleaned_data["code"])
                try:
                    services.remove_coupon(session, code)
                except services.SessionStateError:  # ordered meanwhile (another tab)
                    messages.error(request, _("Your basket cannot be changed right now."))
                    return _back(request)
                messages.success(request, _("Code %(code)s removed.") % {"code": code})
        return _back(request)
