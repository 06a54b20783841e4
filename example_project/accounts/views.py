"""Sign-up, and the customer's "my coupons" page.

Signing in uses Django's own ``LoginView``; the guest cart is carried over by the cart
app's ``user_logged_in`` handler, and django-talon attaches the cart's customer session
to the customer's profile.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from django_talon import services
from django_talon.exceptions import TalonUnavailable
from example_project.accounts.forms import SignUpForm

logger = logging.getLogger(__name__)


def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}!")
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            return redirect(next_url)
        return redirect("catalog:list")
    return render(request, "registration/signup.html", {"form": form})


#: Seconds the "my coupons" page waits for the loyalty balance before showing its fallback.
BALANCE_TIMEOUT = 1.5


@login_required
def my_coupons(request: HttpRequest) -> HttpResponse:
    """Reserved coupons (template tag), referral codes (mirror) and the loyalty balance.

    The balance is not mirrored: ``services.customer_inventory`` reads it from Talon.One
    while the customer waits, so the page asks for the loyalty part only, with a short
    timeout, and says "not available right now" when Talon.One is slow or down.
    """
    try:
        inventory = services.customer_inventory(
            request.user, coupons=False, referrals=False, timeout=BALANCE_TIMEOUT
        )
    except TalonUnavailable as exc:
        logger.warning("loyalty balance of user %s unavailable: %s", request.user.pk, exc)
        inventory = None
    context = {"referrals": services.referrals_for_user(request.user), "inventory": inventory}
    return render(request, "accounts/my_coupons.html", context)


@require_POST
@login_required
def create_referral(request: HttpRequest) -> HttpResponse:
    """Ask Talon.One for a referral code (synchronous: the code comes from Talon.One).

    ``create_referral`` raises only ``django_talon.exceptions`` errors; catching
    ``TalonUnavailable`` (``TalonUnavailableError``) also catches its subclass
    ``TalonRequestFailedError``.
    """
    campaign_id = settings.TALON["REFERRAL_CAMPAIGN_ID"]
    try:
        referral = services.create_referral(request.user, int(campaign_id))
    except TalonUnavailable as exc:  # an outage or a refusal: both are a message
        logger.warning("creating a referral code for user %s failed: %s", request.user.pk, exc)
        messages.error(request, "We could not create your referral code. Please try again later.")
    else:
        messages.success(request, f"Your referral code is {referral.code}.")
    return redirect("accounts:my_coupons")


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    """The Coffee Club points: balance (active, pending, expiring), history, achievements.

    The page is the ``{% load talon_loyalty %}`` tags: they read Talon.One the first time
    (django-talon does not mirror the ledger) and remember the answers, so reloading the page
    costs no API call until the customer's next order closes, is cancelled or returned.
    """
    return render(request, "accounts/my_points.html")
