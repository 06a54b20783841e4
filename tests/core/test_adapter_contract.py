"""The adapter contract against the emulator over HTTP (docs/adapters.md): keyless carts,
finished carts, a code typed into an empty cart with signal-only wiring, items moved between
carts, and cart merges at login.

The shop is tests/shopapp wired through TALON; the adapters below change only what each
test is about. ``add_item`` is a shop view that never tells django-talon anything: only the
receivers (signal-only wiring) see its cart and item saves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from django_talon import services
from django_talon.adapters import REQUEST_SESSION_KEY, cart_key
from django_talon.models import CustomerSession
from tests.core.conftest import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import Cart, CartItem, Order

pytestmark = pytest.mark.django_db(transaction=True)

MIDDLEWARE = "django_talon.middleware.TalonRequestMiddleware"


class UnsavedCartAdapter(ShopAdapter):
    """django-oscar's shape: a visitor without a cart gets an unsaved cart object."""

    def cart_for_request(self, request: Any) -> Any | None:
        return super().cart_for_request(request) or Cart()


class UserCartAdapter(ShopAdapter):
    """A shop that keeps one open cart per customer and merges the guest's into it."""

    def cart_for_user(self, user: Any) -> Any | None:
        return Cart.objects.filter(user=user, status="open").order_by("-pk").first()


class OwnCartFirstAdapter(UserCartAdapter):
    """The usual ``get_cart(request)``: a signed-in customer's own cart, else the guest's."""

    def cart_for_request(self, request: Any) -> Any | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return Cart.objects.filter(user=user, status="open").order_by("-pk").first()
        return super().cart_for_request(request)

    def cart_merged_into(self, cart: Any) -> Any | None:
        return None  # the merge at login must work without this hook


def add_item(request: HttpRequest) -> HttpResponse:
    """The shop's "add to cart": saves its own models, calls nothing of django-talon."""
    cart = Cart.objects.filter(pk=request.session.get("cart_id")).first()
    if cart is None:
        user = request.user if request.user.is_authenticated else None
        cart = Cart.objects.create(user=user)
        request.session["cart_id"] = cart.pk
    sku, name, price, quantity, category = ESPRESSO
    CartItem.objects.create(
        cart=cart, sku=sku, name=name, price=Decimal(price), quantity=quantity, category=category
    )
    return HttpResponse(str(cart.pk))


def sign_in(request: HttpRequest) -> HttpResponse:
    """The shop's login view: ``request.user`` is the customer once ``login()`` returns."""
    user = authenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    assert user is not None
    login(request, user)
    return HttpResponse("ok")


urlpatterns = [
    path("add/", add_item),
    path("login/", sign_in),
    path("talon/", include("django_talon.urls")),
    path("api/talon/", include("django_talon.api.urls")),
]


@pytest.fixture
def wired(settings: Any, shop: Any) -> Any:
    """The test shop with this module's URLs; returns the emulator handle."""
    settings.ROOT_URLCONF = __name__
    return shop


def use_adapter(settings: Any, adapter: type) -> None:
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.{adapter.__name__}"}


def remote(shop: Any, session: CustomerSession) -> dict[str, Any]:
    state: dict[str, Any] = shop.control.state()["sessions"][session.integration_id]
    return state


def skus(session: CustomerSession) -> list[str]:
    return [item["sku"] for item in session.cart_items]


def visitor_session(client: Client) -> CustomerSession:
    return CustomerSession.objects.get(integration_id=client.session[REQUEST_SESSION_KEY])


# -- 1. unsaved carts -----------------------------------------------------------------------
def test_unsaved_carts_of_two_visitors_never_share_a_session(wired: Any, settings: Any) -> None:
    use_adapter(settings, UnsavedCartAdapter)
    first, second = Client(), Client()
    first.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    second.post("/talon/coupon/apply/", {"code": "NOPE-123"})
    mine, theirs = visitor_session(first), visitor_session(second)
    assert mine.pk != theirs.pk
    assert mine.coupon_codes == ["WELCOME10"] and theirs.coupon_codes == []
    assert "WELCOME10" not in remote(wired, theirs)["couponCodes"]
    assert not CustomerSession.objects.filter(cart_key__endswith=":None").exists()
    assert cart_key(Cart()) is None
    assert services.session_for_cart(Cart()) is None
    unsaved = services.update_cart(Cart())
    assert unsaved.pk is None and unsaved.cart_key == ""


# -- 2. finished carts ----------------------------------------------------------------------
def test_a_finished_cart_never_opens_a_phantom_session(wired: Any, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("fin", "fin@example.com", "pw")
    cart = make_cart(user=user, items=[ESPRESSO])
    Order.objects.create(cart=cart, user=user, status="paid")
    closed = CustomerSession.objects.get(cart_key=cart_key(cart))
    assert closed.state == "closed"
    cart.status = "ordered"
    cart.save()
    CartItem.objects.create(cart=cart, sku="GRINDER-X", name="G", price=89, quantity=1)
    sessions = list(CustomerSession.objects.filter(cart_key=cart_key(cart)))
    assert [s.pk for s in sessions] == [closed.pk]
    assert skus(sessions[0]) == ["ESPRESSO-250"] and sessions[0].state == "closed"
    assert remote(wired, closed)["state"] == "closed"
    assert services.update_cart(cart).pk == closed.pk  # the newest session, unchanged
    # A cart that was never open never gets one.
    frozen = Cart.objects.create(status="ordered")
    CartItem.objects.create(cart=frozen, sku="KETTLE-GOOSENECK", name="K", price=45, quantity=1)
    assert not CustomerSession.objects.filter(cart_key=cart_key(frozen)).exists()
    assert services.session_for_cart(frozen) is None


# -- 4. a code typed into an empty cart -----------------------------------------------------
def test_code_typed_into_an_empty_cart_is_adopted_with_signal_only_wiring(
    wired: Any, settings: Any
) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    use_adapter(settings, UnsavedCartAdapter)
    visitor, other = Client(), Client()
    visitor.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    cartless = visitor_session(visitor)
    assert cartless.cart_key == "" and cartless.coupon_codes == ["WELCOME10"]
    cart_id = int(visitor.post("/add/").content)
    other.post("/add/")  # another visitor's first item: a session of its own
    cartless.refresh_from_db()
    assert cartless.cart_key == f"shopapp.cart:{cart_id}"
    assert skus(cartless) == ["ESPRESSO-250"] and cartless.coupon_codes == ["WELCOME10"]
    assert remote(wired, cartless)["couponCodes"] == ["WELCOME10"]
    assert "acceptCoupon" in [e["effectType"] for e in cartless.effects]
    others = CustomerSession.objects.exclude(pk=cartless.pk).get()
    assert others.coupon_codes == [] and skus(others) == ["ESPRESSO-250"]


def test_a_customers_empty_cart_code_is_adopted_without_the_middleware(
    wired: Any, settings: Any, django_user_model: Any
) -> None:
    use_adapter(settings, UnsavedCartAdapter)
    django_user_model.objects.create_user("emp", "emp@example.com", "pw")
    client = Client()
    assert client.login(username="emp", password="pw")
    client.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    cartless = visitor_session(client)
    assert cartless.cart_key == "" and cartless.profile is not None
    client.post("/add/")
    cartless.refresh_from_db()
    assert cartless.cart_key.startswith("shopapp.cart:")
    assert remote(wired, cartless)["couponCodes"] == ["WELCOME10"]
    assert CustomerSession.objects.count() == 1


def test_a_staff_save_of_someone_elses_cart_adopts_nothing(
    wired: Any, settings: Any, django_user_model: Any
) -> None:
    """The request in the context is the staff member's: their cart-less session is not
    handed to the customer's cart."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
    use_adapter(settings, UnsavedCartAdapter)
    django_user_model.objects.create_user("staff", "staff@example.com", "pw")
    client = Client()
    assert client.login(username="staff", password="pw")
    client.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    customer = make_cart(items=[ESPRESSO])  # someone else's cart, saved outside the request
    assert services.session_for_cart(customer, create=False) is not None
    assert visitor_session(client).cart_key == ""


# -- 5. an item moved between carts ---------------------------------------------------------
def test_an_item_moved_to_another_cart_updates_both_sessions(wired: Any) -> None:
    origin = make_cart(items=[ESPRESSO, GRINDER])
    later = make_cart(items=[KETTLE])
    line = CartItem.objects.get(cart=origin, sku="GRINDER-X")
    line.cart = later  # "save for later"
    line.save()
    left = services.session_for_cart(origin, create=False)
    moved = services.session_for_cart(later, create=False)
    assert left is not None and moved is not None
    assert skus(left) == ["ESPRESSO-250"]
    assert skus(moved) == ["GRINDER-X", "KETTLE-GOOSENECK"]  # items in id order
    assert [i["sku"] for i in remote(wired, left)["cartItems"]] == ["ESPRESSO-250"]
    assert [i["sku"] for i in remote(wired, moved)["cartItems"]] == skus(moved)


# -- 6. merges at login ---------------------------------------------------------------------
def guest_with_code(shop: Any) -> tuple[Client, Cart]:
    """A guest whose cart carries WELCOME10 (applied through the coupon form)."""
    guest = make_cart(items=[ESPRESSO])
    client = Client()
    web = client.session
    web["cart_id"] = guest.pk
    web.save()
    client.post("/talon/coupon/apply/", {"code": "WELCOME10"})
    return client, guest


def merge_lines(guest: Cart, into: Cart) -> None:
    """The shop's merge: the guest's lines move, the guest's cart is finished as merged."""
    for line in CartItem.objects.filter(cart=guest):
        line.cart = into
        line.save()
    guest.status, guest.merged_into = "merged", into
    guest.save()


def assert_code_on(shop: Any, cart: Cart, user: Any) -> None:
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.coupon_codes == ["WELCOME10"]
    assert session.profile is not None and session.profile.user == user
    state = remote(shop, session)
    assert state["couponCodes"] == ["WELCOME10"] and state["profileId"] == f"user-{user.pk}"
    assert sorted(i["sku"] for i in state["cartItems"]) == ["ESPRESSO-250", "KETTLE-GOOSENECK"]
    assert "acceptCoupon" in [e["effectType"] for e in session.effects]


def test_login_merge_after_login_carries_the_guests_code(
    wired: Any, settings: Any, django_user_model: Any
) -> None:
    use_adapter(settings, UserCartAdapter)
    user = django_user_model.objects.create_user("mia", "mia@example.com", "pw")
    own = make_cart(user=user, items=[KETTLE])
    client, guest = guest_with_code(wired)
    assert client.login(username="mia", password="pw")  # adapter cart_for_user: the code moves
    own_session = services.session_for_cart(own, create=False)
    assert own_session is not None
    assert client.session[REQUEST_SESSION_KEY] == own_session.integration_id
    merge_lines(guest, own)  # the shop merges its lines on the next request
    assert_code_on(wired, own, user)
    emptied = CustomerSession.objects.get(cart_key=cart_key(guest))
    assert emptied.coupon_codes == [] and emptied.cart_items == []
    assert remote(wired, emptied)["couponCodes"] == []


def test_login_merge_when_the_shop_prefers_the_customers_own_cart(
    wired: Any, settings: Any, django_user_model: Any
) -> None:
    """By ``user_logged_in`` the request is the customer's, and this ``cart_for_request``
    answers their own cart: the guest's session comes from ``request.session``."""
    use_adapter(settings, OwnCartFirstAdapter)
    user = django_user_model.objects.create_user("noa", "noa@example.com", "pw")
    own = make_cart(user=user, items=[KETTLE])
    client, guest = guest_with_code(wired)
    client.post("/login/", {"username": "noa", "password": "pw"})  # a real login view
    own_session = services.session_for_cart(own, create=False)
    assert own_session is not None and own_session.coupon_codes == ["WELCOME10"]
    assert client.session[REQUEST_SESSION_KEY] == own_session.integration_id
    merge_lines(guest, own)
    assert_code_on(wired, own, user)
    emptied = CustomerSession.objects.get(cart_key=cart_key(guest))
    assert emptied.coupon_codes == [] and remote(wired, emptied)["couponCodes"] == []


def test_login_never_takes_another_customers_remembered_session(
    wired: Any, settings: Any, django_user_model: Any
) -> None:
    use_adapter(settings, OwnCartFirstAdapter)
    other = django_user_model.objects.create_user("ora", "ora@example.com", "pw")
    user = django_user_model.objects.create_user("uma", "uma@example.com", "pw")
    theirs = make_cart(user=other, items=[ESPRESSO])
    services.apply_coupon(theirs, "WELCOME10")
    foreign = services.session_for_cart(theirs, create=False)
    assert foreign is not None and foreign.profile is not None
    own = make_cart(user=user, items=[KETTLE])
    client = Client()
    web = client.session
    web[REQUEST_SESSION_KEY] = foreign.integration_id  # a stale or forged id
    web.save()
    client.post("/login/", {"username": "uma", "password": "pw"})
    foreign.refresh_from_db()
    assert foreign.coupon_codes == ["WELCOME10"] and foreign.profile.user == other
    own_session = services.session_for_cart(own, create=False)
    assert own_session is not None and own_session.coupon_codes == []


def test_login_merge_before_login_carries_the_guests_code(
    wired: Any, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("max", "max@example.com", "pw")
    own = make_cart(user=user, items=[KETTLE])
    client, guest = guest_with_code(wired)
    merge_lines(guest, own)  # adapter cart_merged_into: the code moves with the merge
    assert client.login(username="max", password="pw")
    assert_code_on(wired, own, user)


def test_merge_carts_called_by_the_shop_carries_the_referral(
    wired: Any, django_user_model: Any
) -> None:
    advocate = django_user_model.objects.create_user("adv", "adv@example.com", "pw")
    user = django_user_model.objects.create_user("kim", "kim@example.com", "pw")
    referral = services.create_referral(advocate, 5).code
    old = make_cart(user=user, items=[ESPRESSO])
    assert services.apply_referral(old, referral).referral_code == referral
    services.apply_coupon(old, "WELCOME10")
    own = make_cart(user=user, items=[KETTLE])
    merged = services.merge_carts(old, own)
    assert merged is not None and merged.coupon_codes == ["WELCOME10"]
    assert merged.referral_code == referral
    assert remote(wired, merged)["referralCode"] == referral
    assert services.merge_carts(old, own) == merged  # again: nothing left to carry
    assert services.merge_carts(old, Cart()) is None  # an unsaved target has no session
