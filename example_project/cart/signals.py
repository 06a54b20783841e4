"""Signal handlers of the cart app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from example_project.cart.services import SESSION_KEY, merge_guest_cart


@receiver(user_logged_in, dispatch_uid="example_shop_merge_guest_cart")
def merge_cart_on_login(
    sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    """Carry the guest's cart over when they sign in (only for real web logins)."""
    if request is None or SESSION_KEY not in getattr(request, "session", {}):
        return  # no guest cart: nothing to merge (and no query spent finding that out)
    merge_guest_cart(request, user)
