"""How a shop's own user, cart and order objects become Talon.One payloads.

django-talon never assumes a cart or order model. One adapter class, configured by dotted
path in ``TALON["ADAPTER"]``, answers every question the app has about the shop's objects.
Subclass :class:`TalonAdapter` and override only what differs (docs/adapters.md).
"""

from __future__ import annotations

import datetime
import functools
import math
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from django_talon.cart_links import (
    NO_COLUMN,
    cart_lines,
    foreign_key_value,
    linked_cart,
    on_write_alias,
)
from django_talon.conf import talon_settings
from django_talon.promotions.money import currency_exponent

if TYPE_CHECKING:
    from django.http import HttpRequest

_F = TypeVar("_F", bound=Callable[..., Any])

#: Order states (lower-cased ``order.status`` / ``order.state``) mapped by the default adapter.
CLOSED_ORDER_STATES = frozenset({"paid", "placed", "completed", "complete", "fulfilled", "shipped"})
CANCELLED_ORDER_STATES = frozenset({"cancelled", "canceled", "refunded", "voided"})

#: Key in ``request.session`` holding the anonymous customer's session integration id.
REQUEST_SESSION_KEY = "django_talon_session_id"


def cart_key(cart: models.Model) -> str | None:
    """The stable reference stored on ``CustomerSession.cart_key`` (the adapter's
    :meth:`TalonAdapter.cart_key`: ``'<app_label.model>:<pk>'`` by default), or None for a
    cart that has no key yet (unsaved). A keyless cart never maps to a session."""
    return get_adapter().cart_key(cart) or None


def split_model_key(key: str) -> tuple[str, str]:
    """``('<app_label.model>', '<pk>')`` of a default key (``cart_key``, ``subject_of``):
    split at the first colon, as a label never holds one and a CharField pk may
    (``user:4e93``). Either part is ``""`` when the key has no such form."""
    label, _, pk = key.partition(":")
    return label, pk


def _default_currency() -> str:
    """The default Application's currency: what a price is rounded to when no cart says."""
    return str(talon_settings.config.currency_of(talon_settings.default_application))


def _money(value: Any, currency: str | None = None) -> float:
    """A price as the JSON number Talon.One takes, rounded to ``currency``'s minor unit
    (None: the default Application's currency).

    Through Decimal, so 8.50 stays 8.5, not 8.4999. Rounded as the quote rounds the prices it
    reads back (:func:`django_talon.promotions.money.quantize_money`: the currency's minor
    unit, half up), so the price Talon.One evaluates is the one the shop charges: 3 decimals
    for KWD (1.235 used to go as 1.24 and the quote charged that), whole units for JPY, and
    for EUR/USD the same 2-decimal floats as always (a session's fingerprint is unchanged).
    """
    exponent = Decimal(1).scaleb(-currency_exponent(currency or _default_currency()))
    return float(Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP))


# -- JSON values --------------------------------------------------------------------------
class AdapterValueError(TypeError):
    """An adapter hook returned a value that cannot become JSON (``where`` names the spot,
    e.g. ``cart_items[0].attributes.size``). Recorded as a ``SyncProblem`` by the receivers."""


_ENCODER = DjangoJSONEncoder()


def json_value(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON: Decimal -> number, date/datetime/time -> ISO 8601 (RFC 3339
    for datetimes, as Django's ``DjangoJSONEncoder``), UUID and lazy translation strings ->
    str, tuples/lists -> lists, mapping keys -> str. Anything else raises
    :class:`AdapterValueError`: the adapter has a bug, which is recorded, never guessed at.

    A naive datetime (every ``DateTimeField`` value under ``USE_TZ = False``) is taken as
    local time in the current time zone and sent with its offset: RFC 3339 requires one,
    and Talon.One reads an offset-less time as UTC (an hour or two off in Berlin).

    Why here: sessions, profiles and the bulk sync store these values in JSON fields and
    hash them, so a ``Decimal`` price used to fail the session's save after the receiver had
    swallowed the error (no sync, nothing visible).
    """
    if isinstance(value, datetime.datetime) and timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): json_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta, uuid.UUID, Promise)):
        try:
            return _ENCODER.default(value)
        except ValueError as exc:  # an aware time: JSON has no way to say it
            raise AdapterValueError(f"{where}: {exc}") from exc
    raise AdapterValueError(
        f"{where}: a {type(value).__module__}.{type(value).__qualname__} is not JSON "
        "(return numbers, strings, lists and dicts; docs/adapters.md#json-values)"
    )


def json_cart_items(
    items: Any, currency: str | Callable[[], str] | None = None
) -> list[dict[str, Any]]:
    """Cart items as JSON; ``price`` (a ``Decimal`` or a float) rounded half up to the minor
    unit of ``currency`` (the cart's Application currency; a callable is asked only when a
    line has such a price, so an empty cart never asks the adapter; None: the default
    Application's), as the quote rounds what it reads back.

    A line with a quantity below 1 is left out, as the default ``cart_items`` leaves it out,
    and a whole-number quantity (``Decimal("2")``, ``2.0``) is sent as the integer. Why
    here, for every override: Talon.One refuses such a line, and one refused line failed the
    whole session write, every later one, and the order's close (a dead letter each). A
    line Talon.One could never take (no SKU, a fractional quantity) is the adapter's bug:
    :class:`AdapterValueError`, recorded, before anything is queued.
    """
    result: list[dict[str, Any]] = []
    resolved: list[str] = []
    for position, item in enumerate(items):
        where = f"cart_items[{position}]"
        if not isinstance(item, dict):
            raise AdapterValueError(f"{where}: a cart item must be a dict, not {type(item)}")
        quantity = _line_quantity(item.get("quantity"), where)
        if quantity < 1:
            continue
        row = json_value(item, where)
        sku = row.get("sku")
        if not isinstance(sku, str) or not sku:
            raise AdapterValueError(f"{where}: a cart item needs a non-empty 'sku' string")
        row["quantity"] = quantity
        price = item.get("price")
        if isinstance(price, (Decimal, float)):
            finite = price.is_finite() if isinstance(price, Decimal) else math.isfinite(price)
            if not finite:
                raise AdapterValueError(f"{where}: 'price' is {price}")
            if not resolved:
                resolved.append(currency() if callable(currency) else currency or "")
            # A float of 0.335 too: Talon.One and the quote agree.
            row["price"] = _money(price, resolved[0] or None)
        result.append(row)
    return result


def _line_quantity(value: Any, where: str) -> int:
    """A cart line's quantity as the integer Talon.One takes (``CartItem.quantity``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise AdapterValueError(
            f"{where}: 'quantity' must be a whole number, not {type(value).__name__}"
        )
    if isinstance(value, int):
        return value
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    if not finite:
        raise AdapterValueError(f"{where}: 'quantity' is {value}")
    if value != int(value):
        raise AdapterValueError(
            f"{where}: 'quantity' is {value}; Talon.One counts whole units (send the "
            "weight or length as an item attribute, quantity 1)"
        )
    return int(value)


def json_attributes(attributes: Any, where: str) -> dict[str, Any]:
    """Session or profile attributes as a JSON object."""
    if not isinstance(attributes, dict):
        raise AdapterValueError(f"{where}: attributes must be a dict, not {type(attributes)}")
    result: dict[str, Any] = json_value(attributes, where)
    return result


def _normalised(method: _F, convert: Callable[[Any, Any, Any], Any]) -> _F:
    """Wrap an adapter hook so what it returns is converted by ``convert(value, adapter,
    subject)`` (``subject``: the hook's cart or user, for the cart's currency)."""
    if getattr(method, "_talon_normalised", False):
        return method

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        subject = args[0] if args else next(iter(kwargs.values()), None)
        return convert(method(self, *args, **kwargs), self, subject)

    wrapper._talon_normalised = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _cart_json_items(items: Any, adapter: TalonAdapter, cart: Any) -> list[dict[str, Any]]:
    """``cart_items(cart)`` as JSON, prices rounded to the minor unit of the currency of the
    cart's Application (``application_for_cart``): the currency the quote rounds them to."""
    return json_cart_items(
        items, lambda: str(talon_settings.config.currency_of(adapter.application_for_cart(cart)))
    )


#: The hooks whose results become payloads, with their converter (see ``__init_subclass__``).
_NORMALISED_HOOKS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "cart_items": _cart_json_items,
    "cart_attributes": lambda value, adapter, cart: json_attributes(value, "cart_attributes"),
    "profile_attributes": lambda value, adapter, user: json_attributes(value, "profile_attributes"),
}


class TalonAdapter:
    """The default adapter. Every method can be overridden in a subclass.

    The defaults fit the common shape ``Cart(user) <- CartItem(cart, sku, name, price,
    quantity, category)`` and ``Order(cart, user, status)``; the line's and the order's
    link to the cart may have any name (their foreign key to a ``CART_MODELS`` model).

    ``cart_items``, ``cart_attributes`` and ``profile_attributes`` (yours too: a subclass's
    overrides are wrapped when the class is created) return plain JSON: Decimals, dates,
    UUIDs, lazy strings and tuples are converted by :func:`json_value`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, convert in _NORMALISED_HOOKS.items():
            if name in cls.__dict__:
                setattr(cls, name, _normalised(cls.__dict__[name], convert))

    # -- customers ------------------------------------------------------------------------
    def integration_id(self, user: Any) -> str:
        """Stable Talon.One id for a user: ``user-<pk>``. Never the e-mail (it changes, it leaks)."""
        return f"user-{user.pk}"

    def profile_attributes(self, user: Any) -> dict[str, Any]:
        """Profile attributes sent to Talon.One. Empty by default: custom attributes must exist
        in the Campaign Manager first, so the shop opts in explicitly."""
        return {}

    # -- carts ----------------------------------------------------------------------------
    def cart_key(self, cart: Any) -> str | None:
        """The cart's stable key ``'<app_label.model>:<pk>'``, or None while it has none.

        None (an unsaved cart: django-oscar hands every cookie-less visitor an unsaved
        ``Basket()``) means "no cart": no session is looked up, created or updated for it,
        so two visitors never share one. Override only when the pk is not the cart's
        identity; never return a key that two live carts could share.
        """
        if cart is None or cart.pk is None:
            return None
        return f"{cart._meta.label_lower}:{cart.pk}"

    def cart_is_open(self, cart: Any) -> bool:
        """May this cart still change its Talon.One session? True by default; when the cart
        has an ``is_open`` attribute or method, its truth value.

        Return False for a finished cart (submitted / ordered, frozen for payment, merged
        into another): a finished cart never opens or updates a session, so saving it after
        the order was placed does not open a phantom session with the ordered items. A
        cart's session is closed by its order (``order_session_state``), not by this hook.
        """
        value = getattr(cart, "is_open", True)
        return bool(value() if callable(value) else value)

    def cart_merged_into(self, cart: Any) -> Any | None:
        """For a finished cart that the shop merged into another (e.g. the guest's cart
        into the customer's at login), the cart it was merged into; else None (default).

        When the receivers see a finished cart (``cart_is_open`` False) for which this
        returns a cart, the finished cart's coupon codes and referral code move to that
        cart's session (:func:`django_talon.services.merge_carts`). Shops that merge by hand
        can call ``merge_carts`` themselves instead.
        """
        return None

    def cart_for_user(self, user: Any) -> Any | None:
        """The customer's own open cart at login, when the shop keeps one per customer and
        merges the guest's cart into it (django-oscar); None (default) when the guest's cart
        simply becomes the customer's.

        At login (``ATTACH_ON_LOGIN``) the guest's session codes move to this cart's
        session (:func:`django_talon.services.merge_carts`); with None the guest's session
        is attached to the customer's profile. May create the cart (it must have a key).
        """
        return None

    def cart_items(self, cart: Any) -> list[dict[str, Any]]:
        """The cart as Talon.One ``CartItem`` dicts (sku, name, price, quantity, category, ...).

        Uses ``cart.talon_cart_items()`` when the cart defines it, else iterates the cart's
        lines: ``cart.items`` when it is a manager, else the rows of the one
        ``CART_ITEM_MODELS`` model whose foreign key points at the cart, whatever its name
        (``cart.lines``; none found or several: no lines, and the check
        ``django_talon.W011`` says so). Reads ``sku``, ``name``, ``price``, ``quantity``,
        ``category`` (missing optional ones skipped). Lines with a quantity below 1 are left
        out: Talon.One refuses them, and one such line would make the whole session write
        fail (a dead letter, no discount for the cart).
        """
        custom = getattr(cart, "talon_cart_items", None)
        if callable(custom):
            return list(custom())
        # Read where the shop writes: a read replica does not see its transaction yet.
        lines = cart_lines(cart)
        rows = lines.all() if lines is not None else []
        items: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            missing = [name for name in ("sku", "price", "quantity") if not hasattr(row, name)]
            if missing:  # e.g. the SKU lives on line.product: say so, not an AttributeError
                raise AdapterValueError(
                    f"cart_items[{index}]: the line {type(row).__name__} has no "
                    f"{', '.join(repr(name) for name in missing)}, which the default "
                    "cart_items() reads; override cart_items() in your adapter"
                )
            quantity = int(row.quantity)
            if quantity < 1:
                continue
            item: dict[str, Any] = {
                "sku": str(row.sku),
                "name": str(getattr(row, "name", "") or row.sku),
                "quantity": quantity,
                # Rounded by the wrapper to the cart's currency (json_cart_items).
                "price": Decimal(str(row.price)),
            }
            category = getattr(row, "category", None)
            if category:
                item["category"] = str(category)
            attributes = getattr(row, "talon_attributes", None)
            if isinstance(attributes, dict) and attributes:
                item["attributes"] = attributes
            items.append(item)
        return items

    def cart_user(self, cart: Any) -> Any | None:
        """The owner of a cart (``cart.user``) or None for an anonymous cart."""
        user = getattr(cart, "user", None)
        if user is not None and getattr(user, "is_authenticated", True) and user.pk:
            return user
        return None

    def cart_user_id(self, cart: Any) -> Any | None:
        """The primary key of the cart's owner (None: anonymous), read on every cart change.

        Why a hook of its own: the session only needs to know *whose* cart it is, and
        loading the user for that is a query per cart change. The default reads the
        foreign key column (``cart.user_id``) when :meth:`cart_user` is the default one and
        the cart has that column; otherwise it is ``cart_user(cart).pk``. Override it
        together with :meth:`cart_user` (django-oscar: ``basket.owner_id``).
        """
        if type(self).cart_user is TalonAdapter.cart_user:
            column = foreign_key_value(cart, "user")
            if column is not NO_COLUMN:
                return column or None
        user = self.cart_user(cart)
        return None if user is None else user.pk

    def cart_attributes(self, cart: Any) -> dict[str, Any]:
        """Session attributes (must exist in the Campaign Manager). Empty by default."""
        return {}

    def additional_costs(self, cart: Any) -> dict[str, Decimal]:
        """Cart-level additional costs, name -> price (``{"shipping": Decimal("4.90")}``).

        Sent as the session's ``additionalCosts``; the names must exist as additional costs
        in the Campaign Manager. Uses ``cart.talon_additional_costs()`` when the cart defines
        it, else none. Per-item costs travel in the cart item dicts instead
        (``"additionalCosts": {"handling": {"price": 1.5}}``, the price per unit).
        """
        custom = getattr(cart, "talon_additional_costs", None)
        return dict(custom()) if callable(custom) else {}

    def loyalty_cards(self, cart: Any) -> list[str]:
        """The loyalty card the cart's points go to in a card-based program
        (``["CARD-0001"]``), sent as the session's ``loyaltyCards``; at most one (Talon.One
        takes one per session). Uses ``cart.talon_loyalty_cards()`` when the cart defines
        it, else none (a program on customer profiles needs no card). A card once sent
        stays on the Talon.One session until another is sent."""
        custom = getattr(cart, "talon_loyalty_cards", None)
        return [str(card) for card in custom()] if callable(custom) else []

    def add_free_item(self, cart: Any, effect: Any) -> bool:
        """Put the free item of an ``addFreeItem`` effect (``effect.sku``,
        ``effect.desired_quantity``) into ``cart`` at price 0; return whether a line was added.

        Called only with ``TALON["ADD_FREE_ITEMS"] = True``, once per campaign and SKU and
        session (a line the shopper removes is not added again). ``effect.desired_quantity``
        is already checked (``services.free_items``): 1..10,000 units that fit in the cart
        under the API's per-session limit (1 when Talon.One sent none); other grants never
        reach this hook. The default adds nothing: the shop knows what its products are.
        """
        return False

    def remove_free_item(self, cart: Any, sku: str) -> bool:
        """Take a free line this app added back out of ``cart`` once Talon.One no longer
        grants it (the cart fell below the threshold); return whether a line was removed.
        Called only with ``TALON["ADD_FREE_ITEMS"]``. The default removes nothing."""
        return False

    def cart_for_key(self, key: str) -> Any | None:
        """The cart whose :meth:`cart_key` is ``key`` (None when gone), for work done after
        Talon.One answered (adding a free item). The default reads ``'<app_label.model>:<pk>'``;
        override together with :meth:`cart_key`."""
        from django.apps import apps

        label, pk = split_model_key(key)
        if not label or not pk:
            return None
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            return None
        return on_write_alias(model._default_manager.filter(pk=pk)).first()

    def cart_for_item(self, item: Any) -> Any | None:
        """The cart a cart-item row belongs to: the item's one foreign key to a
        ``CART_MODELS`` model, whatever its name (``line.basket``); ``item.cart`` when it
        has none or several (the check ``django_talon.W006`` says so). Override when the
        line reaches its cart another way."""
        return linked_cart(item)

    def new_session_id(self, cart: Any) -> str:
        """Integration id for a NEW Talon.One session of this cart: a random UUID by default,
        so a cart reused after an order gets a fresh session."""
        return uuid.uuid4().hex

    def cart_for_request(self, request: HttpRequest) -> Any | None:
        """The current cart of a request, or None when the adapter cannot tell.

        The default returns None and :func:`django_talon.services.session_for_request` then
        falls back to ``request.session[REQUEST_SESSION_KEY]`` and the user's newest open
        session. Override when the shop keeps its cart id somewhere else.
        """
        return None

    # -- orders ---------------------------------------------------------------------------
    def order_session_state(self, order: Any) -> str | None:
        """Talon.One session state for an order: ``closed`` (paid/placed), ``cancelled``, or
        None (no change yet). Reads ``order.status`` (or ``order.state``)."""
        status = getattr(order, "status", None) or getattr(order, "state", None)
        if not status:
            return None
        status = str(status).lower()
        if status in CLOSED_ORDER_STATES:
            return "closed"
        if status in CANCELLED_ORDER_STATES:
            return "cancelled"
        return None

    def order_charged_quote(self, order: Any, quote: Any) -> Any:
        """The quote ``order`` was really charged, recorded in the order ledger at placement
        (and what the close sends): ``quote`` (the cart's) by default, which shops charging
        ``quote.total`` charge.

        A shop whose own pricing can leave Talon.One's discounts out (django-oscar with the
        Talon.One offer suspended) returns ``services.uncharged_quote(quote, why)``: the
        ledger then says the order was charged full price, the close sends no codes, and
        whatever Talon.One still books is a recorded difference, never "charged".
        """
        return quote

    def order_cart(self, order: Any) -> Any | None:
        """The cart an order was placed from: the order's one foreign key to a
        ``CART_MODELS`` model, whatever its name (``order.basket``); ``order.cart`` when it
        has none or several (the check ``django_talon.W007`` says so). Without it the
        order never closes or cancels its session (no ledger, codes never redeemed)."""
        return linked_cart(order)

    def order_session_id(self, order: Any) -> str | None:
        """The session integration id recorded on the order (``order.talon_session_id``), if any.

        Shops that delete carts after checkout should store the id on the order (see
        :func:`django_talon.services.session_for_cart`)."""
        value = getattr(order, "talon_session_id", None)
        return str(value) if value else None

    # -- products, events (docs/catalog.md) -------------------------------------------------
    def catalog_queryset(self) -> Any:
        """The products ``talon_sync_catalog`` sends: every row of ``TALON["PRODUCT_MODEL"]``.
        Override to narrow it (``.filter(active=True)``); the sync pages it by primary key."""
        from django.apps import apps
        from django.core.exceptions import ImproperlyConfigured

        if not talon_settings.PRODUCT_MODEL:
            raise ImproperlyConfigured(
                "TALON['PRODUCT_MODEL'] is not set: name the product model "
                "('app_label.Model') or override the adapter's catalog_queryset()"
            )
        return apps.get_model(talon_settings.PRODUCT_MODEL)._default_manager.all()

    def product_sku(self, product: Any) -> str:
        """The product's SKU in Talon.One (``product.sku``): the catalog item and the key of
        its best prior price."""
        return str(product.sku)

    def catalog_item(self, product: Any) -> dict[str, Any] | None:
        """The product as a catalog item ``{"sku", "price", "attributes"}``, or None to leave
        it out. Attributes are empty by default: they must exist in the Campaign Manager."""
        item: dict[str, Any] = {"sku": self.product_sku(product)}
        price = getattr(product, "price", None)
        if price is not None:
            item["price"] = _money(price)  # the catalog's prices: the default Application's
        return item

    def product_for_sku(self, sku: str) -> Any | None:
        """The product of a SKU (None: unknown, or no product model configured), for the
        REST endpoint of its prior price: only the shop's own SKUs cost a Talon.One call."""
        from django.core.exceptions import ImproperlyConfigured

        try:
            products = self.catalog_queryset()
        except ImproperlyConfigured:
            return None
        if not any(f.name == "sku" for f in products.model._meta.get_fields()):
            return None
        return products.filter(sku=sku).first()

    def event_user(self, instance: Any) -> Any | None:
        """The customer of a model event of ``TALON["EVENT_RECEIVERS"]`` (``instance.user``)."""
        return self.cart_user(instance)

    def event_attributes(self, event_type: str, instance: Any) -> dict[str, Any]:
        """Attributes of a model event (empty: event attributes exist in the Campaign
        Manager first)."""
        return {}

    # -- several Applications (TALON["APPLICATIONS"]; docs/integrating.md) -----------------
    def application_for_cart(self, cart: Any) -> str:
        """The name of the Talon.One Application a new session for ``cart`` goes to (asked
        once, when the session is created; every later write of that session goes there).
        Default: the only (or ``"default"``) Application. A EUR/USD shop answers from the
        cart's currency, e.g. ``"usd" if cart.currency == "USD" else "eur"``."""
        return talon_settings.default_application

    def application_for_user(self, user: Any) -> str:
        """The Application a new profile of ``user`` is written through (profile updates,
        reservations). Default: the only (or ``"default"``) Application."""
        return talon_settings.default_application


for _name, _convert in _NORMALISED_HOOKS.items():
    setattr(TalonAdapter, _name, _normalised(getattr(TalonAdapter, _name), _convert))


@lru_cache(maxsize=8)
def _load_adapter(path: str) -> TalonAdapter:
    cls = import_string(path)
    adapter = cls()
    if not isinstance(adapter, TalonAdapter):
        raise TypeError(
            f"TALON['ADAPTER'] {path!r} must subclass django_talon.adapters.TalonAdapter"
        )
    return adapter


def get_adapter() -> TalonAdapter:
    """The configured adapter instance (one per dotted path, cached)."""
    return _load_adapter(talon_settings.ADAPTER)
