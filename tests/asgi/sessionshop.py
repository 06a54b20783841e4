"""A shop whose cart is not a model: ``request.session["cart"] = {sku: quantity}``.

The shape of the outside reviewer's shop (docs/integrating.md#carts-that-are-not-models):
the cart lives in the visitor's Django session, so no model signal ever announces a change
and the views call ``services.update_cart(cart, request=request)`` themselves. Served by
sync views and by async views (``/a/...``) for the ASGI tests; ``boom`` views fail after
``update_cart``, so the Django session (the cart) is not saved while the mirror is.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path

from django_talon import services
from django_talon.adapters import TalonAdapter
from django_talon.middleware import current_request
from tests.core.shop import ESPRESSO, GRINDER, KETTLE

#: The shop's products: sku -> (name, price, category).
CATALOG: dict[str, tuple[str, Decimal, str]] = {
    sku: (name, Decimal(price), category) for sku, name, price, _qty, category in (
        ESPRESSO, GRINDER, KETTLE
    )
}  # fmt: skip

#: TALON for this shop (no CART_MODELS: nothing announces a cart change but the views).
SESSION_WIRING: dict[str, Any] = {
    "DELIVERY": "sync",
    "SYNC_RELAY_INTERVAL": 0,
    "ADAPTER": "tests.asgi.sessionshop.SessionCartAdapter",
    "CART_MODELS": [],
    "CART_ITEM_MODELS": [],
    "ORDER_MODELS": [],
}


class SessionCart:
    """The visitor's cart, read from ``request.session`` (a plain object, never saved by
    itself: Django's ``SessionMiddleware`` saves the session after a successful response)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        store = request.session
        if "cart_id" not in store:
            store["cart_id"] = uuid.uuid4().hex
        self.id: str = store["cart_id"]
        self.lines: dict[str, int] = dict(store.get("cart", {}))

    def set(self, sku: str, quantity: int) -> None:
        if quantity <= 0:
            self.lines.pop(sku, None)
        else:
            self.lines[sku] = quantity
        self.request.session["cart"] = self.lines

    def add(self, sku: str, quantity: int = 1) -> None:
        self.set(sku, self.lines.get(sku, 0) + quantity)

    def reset(self) -> None:
        self.request.session["cart"] = {}
        self.request.session["cart_id"] = uuid.uuid4().hex


class SessionCartAdapter(TalonAdapter):
    """The adapter of a cart that is not a model: its own key, lines and request lookup."""

    def cart_key(self, cart: Any) -> str | None:
        return f"session-cart:{cart.id}" if cart is not None else None

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        return [
            {
                "sku": sku,
                "name": CATALOG[sku][0],
                "price": CATALOG[sku][1],
                "quantity": quantity,
                "category": CATALOG[sku][2],
            }
            for sku, quantity in sorted(cart.lines.items())
            if sku in CATALOG
        ]

    def cart_user(self, cart: Any) -> Any | None:
        user = getattr(cart.request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def cart_user_id(self, cart: Any) -> Any | None:
        user = self.cart_user(cart)
        return user.pk if user is not None else None

    def cart_for_request(self, request: HttpRequest) -> Any | None:
        return SessionCart(request)

    def order_cart(self, order: Any) -> Any | None:
        return None  # no cart to reach from an order: its session id (order_session_id)


# -- sync views ---------------------------------------------------------------------------
def quote_json(quote: Any) -> dict[str, Any]:
    return {
        "status": quote.status.value,
        "subtotal": str(quote.subtotal),
        "discount": str(quote.discount_total),
        "total": str(quote.total),
        "lines": [[line.sku, line.quantity] for line in quote.lines],
    }


def cart_page(request: HttpRequest) -> JsonResponse:
    quote = services.quote_for_cart(SessionCart(request), request=request)
    return JsonResponse({**quote_json(quote), "cart": SessionCart(request).lines})


def add(request: HttpRequest) -> JsonResponse:
    cart = SessionCart(request)
    cart.add(request.POST["sku"], int(request.POST.get("qty", 1)))
    services.update_cart(cart, request=request)
    return JsonResponse({"cart": cart.lines})


def boom(request: HttpRequest) -> HttpResponse:
    """Adds a line and mirrors it, then fails: the 500 leaves the Django session unsaved."""
    cart = SessionCart(request)
    cart.add(request.POST.get("sku", ESPRESSO[0]))
    services.update_cart(cart, request=request)
    raise RuntimeError("the shop's own failure after update_cart")


def place_order(request: HttpRequest) -> JsonResponse:
    """Charge the quote (checked against the total the page showed), record it, close."""
    cart = SessionCart(request)
    quote = services.quote_for_cart(cart, request=request)
    shown = request.POST.get("shown_total")
    if shown is not None and Decimal(shown) != quote.total:
        return JsonResponse({"error": "total changed", **quote_json(quote)}, status=409)
    from tests.shopapp.models import Order

    with transaction.atomic():
        session = services.session_for_cart(cart, create=False)
        order = Order.objects.create(status="paid")
        services.record_order(order, quote, session=session)
        services.close_session(session)
    cart.reset()
    return JsonResponse({"order": order.pk, **quote_json(quote)})


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Any:
        yield f"during body: {current_request() is request}\n"

    return StreamingHttpResponse(body())


# -- async views --------------------------------------------------------------------------
async def acart_page(request: HttpRequest) -> JsonResponse:
    cart = await sync_to_async(SessionCart)(request)
    quote = await sync_to_async(services.quote_for_cart)(cart, request=request)
    return JsonResponse({**quote_json(quote), "cart": cart.lines})


async def aadd(request: HttpRequest) -> JsonResponse:
    cart = await sync_to_async(SessionCart)(request)
    cart.add(request.POST["sku"], int(request.POST.get("qty", 1)))
    await sync_to_async(services.update_cart)(cart, request=request)
    return JsonResponse({"cart": cart.lines})


async def aboom(request: HttpRequest) -> HttpResponse:
    cart = await sync_to_async(SessionCart)(request)
    cart.add(request.POST.get("sku", ESPRESSO[0]))
    await sync_to_async(services.update_cart)(cart, request=request)
    raise RuntimeError("the shop's own failure after update_cart (async)")


async def aplace_order(request: HttpRequest) -> JsonResponse:
    response: JsonResponse = await sync_to_async(place_order)(request)
    return response


async def astream(request: HttpRequest) -> StreamingHttpResponse:
    async def body() -> Any:
        yield f"during body: {current_request() is request}\n"
        inner = await sync_to_async(current_request)()
        yield f"in a thread: {inner is request}\n"

    return StreamingHttpResponse(body())


async def aview_request(request: HttpRequest) -> JsonResponse:
    inner = await sync_to_async(current_request)()
    return JsonResponse({"in_view": current_request() is request, "in_thread": inner is request})


urlpatterns = [
    path("cart/", cart_page),
    path("cart/add/", add),
    path("boom/", boom),
    path("checkout/", place_order),
    path("stream/", stream),
    path("a/cart/", acart_page),
    path("a/cart/add/", aadd),
    path("a/boom/", aboom),
    path("a/checkout/", aplace_order),
    path("a/stream/", astream),
    path("a/request/", aview_request),
    path("talon/", include("django_talon.urls")),
]


# -- prior prices and a ping, for the event-loop tests --------------------------------------
async def aprior(request: HttpRequest, sku: str) -> JsonResponse:
    from django_talon.services.prices import abest_prior_price

    prior = await abest_prior_price(sku)
    return JsonResponse({"price": str(prior.price) if prior is not None else None})


async def aping(request: HttpRequest) -> HttpResponse:
    return HttpResponse("pong")


urlpatterns += [path("a/prior/<str:sku>/", aprior), path("a/ping/", aping)]


# -- logins, for the receiver-order tests ----------------------------------------------------
def login_view(request: HttpRequest) -> JsonResponse:
    from django.contrib.auth import authenticate, login

    user = authenticate(request, username=request.POST["u"], password=request.POST["p"])
    login(request, user)
    return JsonResponse({"ok": True})


async def alogin_view(request: HttpRequest) -> JsonResponse:
    from django.contrib.auth import aauthenticate, alogin  # Django >= 5.0

    user = await aauthenticate(request, username=request.POST["u"], password=request.POST["p"])
    await alogin(request, user)
    return JsonResponse({"ok": True})


urlpatterns += [path("login/", login_view), path("a/login/", alogin_view)]
