"""Shop carts -> their Talon.One sessions: mirror, clear, adopt a cart-less session, merge.

The adapter contract these functions keep (docs/adapters.md):

* a cart without a key (unsaved: django-oscar's ``Basket()`` for every new visitor) never
  maps to a session, so two visitors never share one;
* a finished cart (``cart_is_open`` False: ordered, frozen, merged) never opens or updates a
  session, so saving it after the order does not open a phantom session;
* a coupon typed into an empty cart lives in a cart-less session; the customer's first cart
  adopts it (the request's ``request.session`` id, from ``request=`` or
  :class:`~django_talon.middleware.TalonRequestMiddleware`; for a logged-in customer, their
  profile's cart-less session);
* a merge carries the codes of one cart's session into another's (:func:`merge_carts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models.signals import post_delete

from django_talon.adapters import REQUEST_SESSION_KEY, TalonAdapter, cart_key, get_adapter
from django_talon.conf import talon_settings
from django_talon.middleware import current_request
from django_talon.models import CustomerSession
from django_talon.services.profiles import profile_for_user
from django_talon.services.sessions import (
    OPEN,
    SessionOrCart,
    _locked,
    _push,
    _sessions,
    additional_costs_payload,
    loyalty_cards_payload,
    remember_session,
    session_for_cart,
)
from django_talon.transaction_memo import transaction_memo

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = ["clear_cart", "mark_unmirrored", "merge_carts", "update_cart"]

#: The fields a cart mirror changes (what :func:`update_cart` saves).
MIRROR_FIELDS = ("cart_items", "additional_costs", "loyalty_cards", "attributes", "profile")

#: ``CustomerSession.fingerprint`` of an open session whose cart changed without the change
#: reaching it (a receiver's mirroring failed: the adapter raised). Never a real fingerprint
#: (those are hex digests), so the quote reads the cart again instead of trusting the mirror,
#: and the next successful mirror replaces it (it differs from every state).
UNMIRRORED = "unmirrored"


def _no_session(cart: Any, key: str | None) -> CustomerSession:
    """The unsaved stand-in returned for a cart that has (and gets) no session."""
    return CustomerSession(cart_key=key or "")


def update_cart(
    cart: Any,
    *,
    request: HttpRequest | None = None,
    immediate: bool = True,
    _lines_as_mirrored: bool = False,
) -> CustomerSession:
    """Mirror a shop cart into its Talon.One session (creating it) and queue the update.

    Unchanged cart -> no write and no API call. Otherwise one outbox row, delivered right after
    commit with the short timeout (``immediate``). A new, empty cart has nothing to evaluate:
    no session row is written and an unsaved session (``pk is None``) is returned; so is a
    cart without a key, and a finished cart (adapter ``cart_is_open`` False) changes nothing
    (its newest session is returned, or an unsaved one). A cart-less session of the same
    customer (a coupon typed into an empty cart) is adopted as the cart's session: the one
    remembered in ``request.session`` of ``request`` (default: the request
    :class:`~django_talon.middleware.TalonRequestMiddleware` serves), or for a logged-in
    owner, their profile's newest.

    A cart is looked up and locked once per transaction: a later call for the same cart in
    the same transaction (the line's save, then the cart's own ``updated_at`` save) reuses
    the session it mirrored (see :func:`_mirrored`) and costs only the adapter's
    ``cart_items`` query. The owner is compared by id (adapter ``cart_user_id``), so the
    user is loaded only when the session gets a profile. Query cost: see docs/services.md.

    ``_lines_as_mirrored`` (the receiver of a cart save that wrote only ``auto_now``
    timestamps): the lines cannot have changed since this transaction mirrored them, so
    those are reused and ``cart_items`` is not called; attributes, costs and loyalty cards
    are read again. Without a mirror in this transaction it changes nothing.
    """
    adapter = get_adapter()
    key = cart_key(cart)
    if key is None:
        return _no_session(cart, key)
    if not adapter.cart_is_open(cart):
        found = session_for_cart(cart, create=False, open_only=False)
        return found if found is not None else _no_session(cart, key)
    request = request if request is not None else current_request()
    owner = adapter.cart_user_id(cart)
    with transaction.atomic(savepoint=False):
        session = _mirrored(key)
        items = None
        if session is not None and _lines_as_mirrored:
            items = session.cart_items
        if session is None:
            session = session_for_cart(cart, create=False, lock=True)
        if session is None:
            session = _adopt_cartless_session(request, cart, key, owner)
        if items is None:
            items = adapter.cart_items(cart)
        if session is None:
            if not items:
                return _no_session(cart, key)
            session = session_for_cart(cart, create=True, lock=True)
            if session is None:  # the adapter closed the cart meanwhile
                return _no_session(cart, key)
        _mirror(session, cart, adapter, owner=owner, items=items)
        never_pushed = not session.fingerprint
        empty = not (session.cart_items or session.coupon_codes or session.referral_code)
        if not (never_pushed and empty):
            _push(session, fields=MIRROR_FIELDS, immediate=immediate)
        if session.pk is not None:
            _remember_mirrored(key, session)
    if request is not None and _same_customer(request, owner):
        remember_session(request, session)
    return session


def _mirror(
    session: CustomerSession,
    cart: Any,
    adapter: TalonAdapter,
    *,
    owner: Any,
    items: list[dict[str, Any]] | None = None,
) -> None:
    """Copy the cart's items, attributes and owner (``owner``: the user's pk) onto
    ``session`` (not saved). The user is loaded only when the session's profile changes."""
    if owner is not None and (session.profile is None or session.profile.user_id != owner):
        user = adapter.cart_user(cart)
        if user is not None:
            session.profile = profile_for_user(user)
    session.cart_items = items if items is not None else adapter.cart_items(cart)
    session.attributes = adapter.cart_attributes(cart)
    session.additional_costs = additional_costs_payload(
        adapter.additional_costs(cart),
        previous=session.additional_costs,
        currency=talon_settings.config.currency_of(session.application),
    )
    session.loyalty_cards = loyalty_cards_payload(adapter.loyalty_cards(cart))


# -- one lookup per cart and transaction ------------------------------------------------------
def _mirror_memo(*, create: bool = True) -> dict[str, CustomerSession] | None:
    """The sessions :func:`update_cart` locked and mirrored in the current transaction, by
    cart key (None outside a transaction). Forgotten when the transaction ends or a savepoint
    it was written in rolls back (:func:`~django_talon.transaction_memo.transaction_memo`);
    a save of the session through another instance (a coupon applied in the same
    transaction, a delivery storing its answer) drops the entry (:func:`forget_mirrored`).
    """
    return transaction_memo("mirrored", dict, create=create)


def _mirrored(key: str) -> CustomerSession | None:
    """The open session of cart ``key`` this transaction already locked and mirrored."""
    memo = _mirror_memo()
    session = memo.get(key) if memo is not None else None
    if session is None or session.state != OPEN or session.cart_key != key:
        return None
    return session


def _remember_mirrored(key: str, session: CustomerSession) -> None:
    memo = _mirror_memo()
    if memo is not None:
        memo[key] = session


def forget_mirrored(sender: Any, instance: CustomerSession, **kwargs: Any) -> None:
    """``post_save`` / ``post_delete`` of a session (connected in ``apps.ready``): a session
    written through another instance than the one remembered is looked up again."""
    memo = _mirror_memo(create=False)
    if not memo:
        return
    deleted = kwargs.get("signal") is post_delete
    for key, session in list(memo.items()):
        if session.pk == instance.pk and (deleted or session is not instance):
            del memo[key]


def mark_unmirrored(cart: Any) -> None:
    """A receiver could not mirror a change of ``cart`` (its work was rolled back and recorded
    as a ``SyncProblem``): mark the cart's open session as behind the cart, creating it when
    the cart has none yet, so that :func:`~django_talon.services.quote_for_cart` reads the
    cart through the adapter (and quotes it ``unavailable`` while that fails) instead of
    quoting the mirror's old lines ``confirmed`` (docs/services.md, "The mirror is the
    cart"). The lines this transaction mirrored earlier are forgotten too, so a later save of
    the cart in it reads them again. Two queries, only on such a failure."""
    key = cart_key(cart)
    if key is None:
        return
    memo = _mirror_memo(create=False)
    if memo:
        memo.pop(key, None)
    with transaction.atomic(savepoint=False):
        marked = CustomerSession.objects.filter(cart_key=key, state=OPEN)
        if marked.update(fingerprint=UNMIRRORED):
            return
        session = session_for_cart(cart, create=True)
        if session is not None:
            CustomerSession.objects.filter(pk=session.pk).update(fingerprint=UNMIRRORED)


def _same_customer(request: HttpRequest, owner: Any) -> bool:
    """Does the cart (its owner's pk ``owner``) belong to the visitor of ``request``? A staff
    member saving someone's cart in the admin must not hand the customer their own session."""
    visitor = getattr(request, "user", None)
    signed_in = visitor is not None and visitor.is_authenticated
    if owner is None:
        return not signed_in
    return bool(signed_in and getattr(visitor, "pk", None) == owner)


def _adopt_cartless_session(
    request: HttpRequest | None, cart: Any, key: str, owner: Any
) -> CustomerSession | None:
    """A session created before the cart existed (a coupon typed into an empty cart) becomes
    the cart's session, so its codes are kept: the one in ``request.session`` when the
    request is the cart owner's, else (no request) the logged-in owner's newest one."""
    found: CustomerSession | None = None
    candidates = _sessions(lock=True).filter(state=OPEN, cart_key="")
    if request is not None and _same_customer(request, owner):
        store = getattr(request, "session", None)
        session_id = store.get(REQUEST_SESSION_KEY) if store is not None else None
        if session_id:
            found = candidates.filter(integration_id=session_id).first()
    elif request is None and owner is not None:
        found = candidates.filter(profile__user_id=owner).order_by("-updated_at", "-id").first()
    if found is not None:
        found.cart_key = key
        found.save(update_fields=["cart_key", "updated_at"])
    return found


def clear_cart(cart: Any) -> CustomerSession | None:
    """The shop deleted a cart: send an empty cart for its open session (if any)."""
    with transaction.atomic(savepoint=False):
        session = session_for_cart(cart, create=False, lock=True)
        if session is None:
            return None
        session.cart_items = []
        _push(session, fields=("cart_items",))
    return session


def merge_carts(source: SessionOrCart, target: Any) -> CustomerSession | None:
    """The shop merged ``source`` (a cart, or a session such as the guest's cart-less one)
    into the cart ``target``: ``source``'s coupon codes and referral code move to
    ``target``'s session (created if needed; a referral already on the target wins), and
    the source session is emptied (no cart, no codes), so no code is held by two sessions.

    Call it where the shop merges carts (django-oscar: where baskets are merged at login),
    or let the receivers call it: adapter ``cart_for_user`` at login, ``cart_merged_into``
    when a merged cart is saved. Returns the target's session (None when the target has no
    key or is finished). The target's items are mirrored too, so one write carries all.
    """
    adapter = get_adapter()
    with transaction.atomic(savepoint=False):
        origin = _source_session(source)
        destination = session_for_cart(target, create=True, lock=True)
        if destination is None or origin is None or origin.pk == destination.pk:
            return destination
        codes = [*destination.coupon_codes]
        codes += [code for code in origin.coupon_codes if code not in codes]
        destination.coupon_codes = codes
        destination.referral_code = destination.referral_code or origin.referral_code
        if destination.profile is None and origin.profile is not None:
            destination.profile = origin.profile
        _mirror(destination, target, adapter, owner=adapter.cart_user_id(target))
        _push(destination, fields=(*MIRROR_FIELDS, "coupon_codes", "referral_code"))
        if origin.coupon_codes or origin.referral_code or origin.cart_items:
            origin.coupon_codes, origin.referral_code, origin.cart_items = [], "", []
            _push(origin, fields=("coupon_codes", "referral_code", "cart_items"))
    return destination


def _source_session(source: SessionOrCart) -> CustomerSession | None:
    """The open session to merge from, locked (a cart's, or ``source`` itself)."""
    if isinstance(source, CustomerSession):
        return _locked(source) if source.is_open and source.pk is not None else None
    return session_for_cart(source, create=False, lock=True)
