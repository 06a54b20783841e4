"""Finding, changing and merging carts.

The cart id is kept in the Django session (not looked up by session key) because
``login()`` cycles the session key: keeping the id in the session data is what lets the
guest's cart, and the coupons already applied to it, survive signing in.
"""

from __future__ import annotations

import logging

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest

from example_project.cart.models import Cart, CartItem
from example_project.catalog.models import Product

logger = logging.getLogger(__name__)

SESSION_KEY = "shop_cart_id"


def _session_cart(request: HttpRequest) -> Cart | None:
    cart_id = request.session.get(SESSION_KEY)
    if cart_id is None:
        return None
    cart: Cart | None = Cart.objects.filter(pk=cart_id, status=Cart.Status.OPEN).first()
    return cart


def _user_cart(user: AbstractBaseUser | AnonymousUser) -> Cart | None:
    if not user.is_authenticated:
        return None
    cart: Cart | None = (
        Cart.objects.filter(user=user, status=Cart.Status.OPEN).order_by("-pk").first()
    )
    return cart


def get_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The open cart of this visitor: the signed-in user's, else the session's guest cart."""
    if not hasattr(request, "session"):
        return None  # e.g. a request built by Client.login(): no visitor, no cart
    user = getattr(request, "user", None) or AnonymousUser()
    cart = _user_cart(user)
    if cart is None:
        cart = _session_cart(request)
        if cart is not None and cart.user_id is not None and cart.user_id != user.pk:
            # A cart that belongs to someone else (e.g. after logout) is never reused.
            cart = None
    if cart is None and create:
        if not request.session.session_key:
            request.session.save()
        cart = Cart.objects.create(
            user=user if user.is_authenticated else None,
            session_key=request.session.session_key or "",
        )
    if cart is not None and _may_remember(request, cart):
        request.session[SESSION_KEY] = cart.pk
    return cart


def _may_remember(request: HttpRequest, cart: Cart) -> bool:
    """May ``get_cart`` store ``cart`` as the session's cart? Not over another open guest
    cart: a signed-in customer's session still naming one is a login whose merge
    (``merge_guest_cart``, the ``user_logged_in`` receiver) has not run yet, and a lookup
    made meanwhile (django-talon's login receiver, another app's) would hide the guest
    cart, its items and its coupons from that merge. One query, only in that case."""
    stored = request.session.get(SESSION_KEY)
    if stored is None or stored == cart.pk:
        return stored is None
    return not Cart.objects.filter(pk=stored, user=None, status=Cart.Status.OPEN).exists()


def add_product(cart: Cart, product: Product, quantity: int = 1) -> CartItem:
    """Add ``quantity`` of ``product``; saving the cart tells django-talon it changed."""
    item: CartItem
    with transaction.atomic():
        # Through the cart's related manager: the line then knows its cart, so django-talon's
        # receiver finds it in memory instead of loading it again (docs/performance.md).
        item, created = cart.items.select_for_update().get_or_create(
            cart=cart, product=product, defaults={"quantity": quantity}
        )
        if not created and item.free:  # the customer buys the gift: it is bought now
            item.free, item.quantity = False, quantity
            item.save(update_fields=["free", "quantity"])
        elif not created:
            item.quantity += quantity
            item.save(update_fields=["quantity"])
        cart.save(update_fields=["updated_at"])
    return item


def set_quantity(cart: Cart, product: Product, quantity: int) -> None:
    """Set a line's quantity; zero removes the line."""
    with transaction.atomic():
        if quantity <= 0:
            CartItem.objects.filter(cart=cart, product=product).delete()
        else:
            cart.items.update_or_create(product=product, defaults={"quantity": quantity})
        cart.save(update_fields=["updated_at"])


def set_delivery(cart: Cart, delivery: str) -> None:
    """Collect in store or standard delivery; saving the cart re-sends its shipping cost."""
    if delivery not in Cart.Delivery.values:
        raise ValueError(f"unknown delivery {delivery!r}")
    if cart.delivery != delivery:
        cart.delivery = delivery
        cart.save(update_fields=["delivery", "updated_at"])


def merge_guest_cart(request: HttpRequest, user: AbstractBaseUser) -> Cart | None:
    """On login: the guest cart (if it has items) becomes the user's cart.

    The guest cart is kept rather than copied so that its Talon.One customer session,
    with any coupon already applied, simply gains the customer's profile. Items from the
    user's older open cart are folded into it.
    """
    guest = _session_cart(request)
    if guest is None or guest.user_id not in (None, user.pk):
        return _user_cart(user)
    if guest.user_id == user.pk:
        return guest
    older = Cart.objects.filter(user=user, status=Cart.Status.OPEN).exclude(pk=guest.pk)
    with transaction.atomic():
        if not guest.items.exists():
            # Nothing to carry over: the customer's own cart stays current.
            existing: Cart | None = older.order_by("-pk").first()
            if existing is not None:
                request.session[SESSION_KEY] = existing.pk
                return existing
        for old_cart in older:
            for item in old_cart.items.all():
                line, created = CartItem.objects.get_or_create(
                    cart=guest, product=item.product, defaults={"quantity": item.quantity}
                )
                if not created:
                    line.quantity += item.quantity
                    line.save(update_fields=["quantity"])
            old_cart.status = Cart.Status.MERGED
            old_cart.save(update_fields=["status", "updated_at"])
        guest.user = user  # type: ignore[assignment]
        guest.save(update_fields=["user", "updated_at"])
    logger.info("guest cart %s now belongs to user %s", guest.pk, user.pk)
    return guest
