"""Plain Django views behind the ``{% talon_coupon_form %}`` / ``{% talon_referral_form %}``
partials: apply or remove a code, then go back to the page with a message.

They work without JavaScript and without DRF. Every attempt counts against the code attempt
limit (:mod:`django_talon.throttling`) to make guessing codes expensive.

They answer with Talon.One's verdict on the code in the same request, also under
``ATOMIC_REQUESTS``: they are excluded from the request transaction (:func:`own_transaction`)
and commit their write in their own, so the immediate delivery runs before the response.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django import forms
from django.contrib import messages
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from django_talon import services
from django_talon.adapters import get_adapter
from django_talon.exceptions import TalonUnavailableError
from django_talon.promotions import PromotionsSummary
from django_talon.promotions.codes import find_code, same_code
from django_talon.services.display import refused_update, summarize_session
from django_talon.services.sessions import SessionStateError
from django_talon.throttling import CodeAttemptLimiter

if TYPE_CHECKING:
    from django_talon.models import CustomerSession

logger = logging.getLogger(__name__)

_View = TypeVar("_View", bound=Callable[..., object])


def own_transaction(view: _View) -> _View:
    """Keep ``view`` out of ``ATOMIC_REQUESTS`` (on every database alias).

    Why: a write queued in the request's transaction is delivered on commit, after the view
    has returned, so the answer could only ever say "checking your code" (202 in the API).
    The view instead commits its own ``transaction.atomic()`` block; the immediate delivery
    runs at that commit and the response shows Talon.One's answer. For class-based views,
    decorate the result of ``as_view()`` (the attribute Django reads lives on that function).
    """
    for alias in connections:
        view = transaction.non_atomic_requests(using=alias)(view)
    return view


def resend_refused(session: CustomerSession) -> None:
    """Entering a code again re-sends a cart state Talon.One refused for good.

    Why: applying a code that is already on the cart changes nothing, so no new update is
    queued; after a refusal (a dead letter, see ``services.display.refused_update``) the
    shopper could then never get the code evaluated again without changing the cart. The
    dead row is made pending again (``services.retry_dead_letters``) in the caller's
    transaction and delivered after its commit, as a new update would be.
    """
    dead = refused_update(session)
    if dead is not None:
        services.retry_dead_letters([dead])


class CodeForm(forms.Form):
    code = forms.CharField(max_length=100, strip=True)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if any(ch.isspace() for ch in code) or not code.isprintable():
            raise forms.ValidationError(_("A code cannot contain spaces or control characters."))
        return code


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)


def _code_or_error(request: HttpRequest) -> str | None:
    form = CodeForm(request.POST)
    if form.is_valid():
        return str(form.cleaned_data["code"])
    messages.error(request, " ".join(str(e) for e in form.errors.get("code", [])))
    return None


def _report(request: HttpRequest, summary: PromotionsSummary, kind: str, code: str) -> None:
    results = summary.coupons if kind == "coupon" else summary.referrals
    result = next((r for r in results if same_code(r.code, code)), None)
    if result is None or result.status == "pending":
        messages.info(request, _("We are checking code %(code)s.") % {"code": code})
    elif result.accepted:
        messages.success(request, _("Code %(code)s applied.") % {"code": code})
    else:
        messages.error(request, result.message)


def _apply(request: HttpRequest, kind: str) -> HttpResponse:
    if not CodeAttemptLimiter().allow(request):
        messages.error(request, _("Too many attempts. Please wait a minute and try again."))
        return _back(request)
    code = _code_or_error(request)
    if code is None:
        return _back(request)
    try:
        with transaction.atomic():  # committed here: the immediate delivery runs before we answer
            # Only a cart the adapter knows gets a new session: a code sent before there is
            # any cart would belong to no cart.
            session = services.session_for_request(request)
            if session is None and get_adapter().cart_for_request(request) is not None:
                session = services.session_for_request(request, create=True)
            if session is None:
                messages.error(request, _("Add something to your cart first."))
                return _back(request)
            if kind == "coupon":
                session = services.apply_coupon(session, code)
            else:
                session = services.apply_referral(session, code)
            resend_refused(session)
    except TalonUnavailableError:
        logger.warning("Talon.One unavailable while applying a %s code", kind)
        messages.warning(request, _("We will check code %(code)s shortly.") % {"code": code})
        return _back(request)
    except SessionStateError:  # the order was placed (another tab) before the code came
        messages.error(request, _("This cart is already checked out."))
        return _back(request)
    if not transaction.get_connection().in_atomic_block:
        session.refresh_from_db()  # the answer the immediate delivery stored
    services.remember_session(request, session)
    _report(request, summarize_session(session), kind, code)
    return _back(request)


@own_transaction
@require_POST
def apply_coupon(request: HttpRequest) -> HttpResponse:
    """POST ``code`` (and ``next``): add a coupon code to the current cart."""
    return _apply(request, "coupon")


@own_transaction
@require_POST
def remove_coupon(request: HttpRequest) -> HttpResponse:
    """POST ``code`` (and ``next``): remove a coupon code from the current cart."""
    code = _code_or_error(request)
    session = services.session_for_request(request)
    if code is None or session is None:
        return _back(request)
    if find_code(session.coupon_codes or [], code) is None:
        messages.info(request, _("Code %(code)s is not applied.") % {"code": code})
        return _back(request)
    try:
        with transaction.atomic():
            services.remove_coupon(session, code)
    except SessionStateError:  # the order was placed (another tab): its codes stay
        messages.error(request, _("This cart is already checked out."))
        return _back(request)
    messages.success(request, _("Code %(code)s removed.") % {"code": code})
    return _back(request)


@own_transaction
@require_POST
def apply_referral(request: HttpRequest) -> HttpResponse:
    """POST ``code`` (and ``next``): set the current cart's referral code."""
    return _apply(request, "referral")
