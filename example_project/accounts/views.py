"""Sign-up, and the customer's "my coupons" page.

Signing in uses Django's own ``LoginView``; the guest cart is carried over by the cart
app's ``user_logged_in`` handler, and django-talon attaches the cart's customer session
to the customer's profile.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from example_project.accounts.forms import SignUpForm


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
    return render(request, "accounts/my_coupons.html", {})
