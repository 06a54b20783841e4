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
from django_talon.client import TalonError
from django_talon.exceptions import TalonUnavailable
from django_talon.models import Referral
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


@login_required
def my_coupons(request: HttpRequest) -> HttpResponse:
    """Reserved coupons and loyalty come from django-talon's tags and REST API; the
    referral codes are the customer's ``django_talon.models.Referral`` rows."""
    referrals = Referral.objects.filter(advocate__user_id=request.user.pk).order_by("-created_at")
    return render(request, "accounts/my_coupons.html", {"referrals": referrals})


@require_POST
@login_required
def create_referral(request: HttpRequest) -> HttpResponse:
    """Ask Talon.One for a referral code (synchronous: the code comes from Talon.One)."""
    campaign_id = settings.TALON["REFERRAL_CAMPAIGN_ID"]
    try:
        referral = services.create_referral(request.user, int(campaign_id))
    except (TalonUnavailable, TalonError) as exc:
        logger.warning("creating a referral code for user %s failed: %s", request.user.pk, exc)
        messages.error(request, "We could not create your referral code. Please try again later.")
    else:
        messages.success(request, f"Your referral code is {referral.code}.")
    return redirect("accounts:my_coupons")
