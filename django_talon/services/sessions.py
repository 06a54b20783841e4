"""Carts and orders -> Talon.One customer sessions (data flows 1 and 2 in DESIGN.md)."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

from django_talon import outbox
from django_talon.adapters import REQUEST_SESSION_KEY, _money, cart_key, get_adapter
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession
from django_talon.promotions.codes import clean_code, find_code, same_code
from django_talon.services.handlers import (
    SESSION_STATE,
    SESSION_UPDATE,
    session_key,
)
from django_talon.services.ledger import prepare_close
from django_talon.services.profiles import profile_for_user
from django_talon.services.routing import checked_application

if TYPE_CHECKING:
    from django.http import HttpRequest

    from django_talon.client.effects import Effect

logger = logging.getLogger("django_talon.services")

# Plain strings (the values of CustomerSession.State) so comparisons type-check cleanly.
OPEN = "open"
CLOSED = "closed"
CANCELLED = "cancelled"
PARTIALLY_RETURNED = "partially_returned"

SessionOrCart = Any  # a CustomerSession or a shop cart object


class SessionStateError(ValueError):
    """The session is not in a state that allows this change (e.g. a return on an open
    session). Raised before anything is saved or queued."""


class FailClosedOutsideTransactionError(TransactionManagementError):
    """Fail-closed order placement was asked for outside the caller's transaction.

    Fail-closed means "no confirmation from Talon.One, no order": that only holds when the
    refusal rolls the shop's order back with the session's change, so the call must run
    inside the shop's ``transaction.atomic()`` (or ``ATOMIC_REQUESTS``) on the database alias
    django-talon writes to, ``'default'``: a ``transaction.atomic(using="other")`` does not
    hold django-talon's writes (the check ``django_talon.E021`` flags an order routed
    there). Outside one, the order row would already be committed while the customer is
    told "not placed"; this error is raised instead, before the session is changed or
    anything is queued. It is a programming error, not an outage: it is not a
    :class:`~django_talon.exceptions.TalonServiceError`.
    """


def _outside_transaction_message(what: str) -> str:
    """The :class:`FailClosedOutsideTransactionError` text: it names the alias, since a
    shop whose orders live on another database wraps them in that one's transaction and
    was told to wrap what it had already wrapped."""
    return (
        f"fail-closed: {what} outside a transaction on the database alias "
        f"{DEFAULT_DB_ALIAS!r}, where django-talon writes; wrap the order's save/payment in "
        f"transaction.atomic() on {DEFAULT_DB_ALIAS!r} (one on another alias does not hold "
        "django-talon's writes: docs/adapters.md#several-databases)"
    )


# -- finding sessions -------------------------------------------------------------------------
def _sessions(*, lock: bool = False) -> QuerySet[CustomerSession]:
    """Sessions with their profile; ``lock``: ``SELECT ... FOR UPDATE`` of the session rows
    only (inside a transaction; see :func:`_locked`)."""
    qs: QuerySet[CustomerSession] = CustomerSession.objects.select_related("profile")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs


def session_for_cart(
    cart: Any, *, create: bool = True, open_only: bool = True, lock: bool = False
) -> CustomerSession | None:
    """The newest (open) session mirroring ``cart``; created when ``create`` and none is open.

    One open session per cart is enforced by a unique constraint, so two processes racing to
    create it end with the same row. ``lock`` (inside a transaction) reads the row
    ``SELECT ... FOR UPDATE``, in the same query.

    A cart without a key (unsaved, or the adapter's ``cart_key`` says None) has no session:
    None, no query. A finished cart (adapter ``cart_is_open`` False) never gets a new one.
    """
    key = cart_key(cart)
    if key is None:
        return None
    qs = _sessions(lock=lock).filter(cart_key=key)
    if open_only:
        qs = qs.filter(state=OPEN)
    session: CustomerSession | None = qs.order_by("-id").first()
    if session is not None or not create:
        return session
    adapter = get_adapter()
    if not adapter.cart_is_open(cart):
        return None
    try:
        with transaction.atomic():
            created: CustomerSession = CustomerSession.objects.create(
                integration_id=adapter.new_session_id(cart),
                cart_key=key,
                application=checked_application(
                    adapter.application_for_cart(cart), "application_for_cart"
                ),
            )
            return created
    except IntegrityError:
        found: CustomerSession | None = (
            _sessions(lock=lock).filter(cart_key=key, state=OPEN).order_by("-id").first()
        )
        return found


def session_for_request(request: HttpRequest, *, create: bool = False) -> CustomerSession | None:
    """The current customer's session: adapter cart -> ``request.session`` id -> user's newest
    open session. Costs one or two queries; never calls the API.

    A cart without a key (an unsaved cart, as django-oscar gives every new visitor) is no
    cart: the lookup goes on with ``request.session``, so two visitors never share a session.
    """
    adapter = get_adapter()
    cart = adapter.cart_for_request(request)
    if cart is not None and cart_key(cart) is not None:
        return session_for_cart(cart, create=create)
    stored = remembered_session(request)
    if stored is not None:
        return stored
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    if authenticated:
        found: CustomerSession | None = (
            CustomerSession.objects.select_related("profile")
            .filter(profile__user=user, state=OPEN)
            .order_by("-updated_at", "-id")
            .first()
        )
        if found is not None or not create:
            return found
    if not create:
        return None
    # No cart known (e.g. a coupon typed before anything was added): a session of its own,
    # remembered in request.session; update_cart() for a cart never reuses it.
    created: CustomerSession = CustomerSession.objects.create(
        integration_id=uuid.uuid4().hex,
        profile=profile_for_user(user) if authenticated else None,
    )
    remember_session(request, created)
    return created


def remembered_session(request: HttpRequest) -> CustomerSession | None:
    """The session whose id :func:`remember_session` stored in ``request.session`` (one
    query; None when nothing is remembered or the row is gone)."""
    store = getattr(request, "session", None)
    session_id = store.get(REQUEST_SESSION_KEY) if store is not None else None
    if not session_id:
        return None
    stored: CustomerSession | None = (
        CustomerSession.objects.select_related("profile").filter(integration_id=session_id).first()
    )
    return stored


def remember_session(request: HttpRequest, session: CustomerSession) -> None:
    """Store the session id in ``request.session`` so anonymous visitors find their cart."""
    store = getattr(request, "session", None)
    if session.pk is None:  # nothing stored (an empty or keyless cart): nothing to remember
        return
    if store is not None and store.get(REQUEST_SESSION_KEY) != session.integration_id:
        store[REQUEST_SESSION_KEY] = session.integration_id


def _resolve(target: SessionOrCart, *, create: bool = True) -> CustomerSession:
    if isinstance(target, CustomerSession):
        return target
    session = session_for_cart(target, create=create)
    if session is None:
        raise CustomerSession.DoesNotExist(f"no open Talon.One session for {cart_key(target)}")
    return session


def _locked(session: CustomerSession) -> CustomerSession:
    """Re-read ``session`` in place under ``SELECT ... FOR UPDATE`` (inside the caller's
    transaction), so a local change starts from the committed state and no other process
    changes the row until the change commits.

    Why: a change is read-modify-write (append a code, replace the cart); two requests of
    one cart that both start from their own stale copy undo each other ("lost coupon"). With
    the lock they are serialized and each outbox row holds everything committed before it, so
    the newest row (delivered last, rows of one key go in order) carries every change. The
    delivery never waits for this lock during its HTTP call (see ``deliver_session``). On
    SQLite (no row locks) the database serializes writers instead. An unsaved session is
    returned as it is.
    """
    if session.pk is not None:
        # ``refresh_from_db(from_queryset=...)`` does this on Django >= 5.1; 4.2 has no such
        # argument, so the locked row's values are copied over (its profile included).
        fresh = _sessions(lock=True).get(pk=session.pk)
        for field in CustomerSession._meta.concrete_fields:
            setattr(session, field.attname, getattr(fresh, field.attname))
        if fresh.profile_id is not None:
            session.profile = fresh.profile
    return session


def _resolve_locked(target: SessionOrCart, *, create: bool = True) -> CustomerSession:
    """:func:`_resolve` with the row locked (call inside a transaction): a session is
    re-read under the lock, a cart's session is looked up under it (one query).

    Raises :class:`SessionStateError` for a session that is no longer open once locked:
    the shopper's other tab placed the order meanwhile. Changing its codes then would
    record codes Talon.One did not close with (it redeemed the old ones) and queue an
    update Talon.One refuses for a closed session (a dead letter)."""
    if isinstance(target, CustomerSession):
        session = _locked(target)
        if session.pk is not None and session.state != OPEN:
            raise SessionStateError(
                f"session {session.integration_id} is {session.state}: its codes can no "
                "longer change (the order was placed)"
            )
        return session
    found = session_for_cart(target, create=create, lock=True)
    if found is None:
        raise CustomerSession.DoesNotExist(f"no open Talon.One session for {cart_key(target)}")
    return found


# -- payloads ---------------------------------------------------------------------------------
def session_payload(session: CustomerSession) -> dict[str, Any]:
    """The ``NewCustomerSessionV2`` body for the session's full local state.

    Coupon codes and the referral code are always sent: the local state is the truth and an
    empty list / empty string clears what Talon.One stored earlier. ``additionalCosts`` is
    sent when the cart has any (a shop drops a cost by sending its price as 0), so the body
    of a shop without additional costs is unchanged.
    """
    body: dict[str, Any] = {
        "profileId": session.profile_integration_id,
        "state": session.state,
        "cartItems": list(session.cart_items or []),
        "couponCodes": list(session.coupon_codes or []),
        "referralCode": session.referral_code or "",
    }
    if session.additional_costs:
        body["additionalCosts"] = dict(session.additional_costs)
    if session.loyalty_cards:  # card-based programs: adapter.loyalty_cards(cart)
        body["loyaltyCards"] = list(session.loyalty_cards)
    attributes = dict(session.attributes or {})
    if session.points_to_redeem is not None:  # services.redeem_points: the shopper's wish
        attributes[talon_settings.LOYALTY_REDEEM_ATTRIBUTE] = session.points_to_redeem
    if attributes:
        body["attributes"] = attributes
    return body


def additional_costs_payload(
    costs: dict[str, Any],
    *,
    previous: dict[str, Any] | None = None,
    currency: str | None = None,
) -> dict[str, dict[str, float]]:
    """``adapter.additional_costs(cart)`` (name -> price) as ``additionalCosts``
    (``{name: {"price": number}}``); a price may also be given as ``{"price": ...}``.

    Each price is rounded half up to the minor unit of ``currency`` (the session's
    Application currency; None: the default Application's), as the item prices and the
    quote are: 0.995 KWD shipping used to be sent (and charged) as 1.00, and 4.985 EUR went
    as 4.98 (half to even) while a 4.985 item went as 4.99.

    A cost sent before (``previous``) that the cart no longer has is sent at price 0:
    Talon.One keeps the additional costs an update leaves out, so dropping it from the body
    would leave the old shipping on the session.
    """
    out: dict[str, dict[str, float]] = {name: {"price": 0.0} for name in previous or {}}
    for name, price in (costs or {}).items():
        value = price.get("price", 0) if isinstance(price, dict) else price
        out[str(name)] = {"price": _money(value, currency)}
    return out


def loyalty_cards_payload(cards: list[str] | None) -> list[str]:
    """``adapter.loyalty_cards(cart)`` as ``loyaltyCards``: identifiers as strings, empty
    ones dropped. Talon.One takes one card per session (``maxItems: 1``, a longer list is
    refused with 400): the first is sent and the rest logged as the adapter's mistake (a
    cart save must not fail for it)."""
    out = [str(card) for card in cards or [] if str(card)]
    if len(out) > 1:
        logger.warning(
            "adapter.loyalty_cards(cart) returned %d cards; Talon.One takes one per session, "
            "sending only %r",
            len(out),
            out[0],
        )
    return out[:1]


#: The fields of the session's state that a push sends (and may save).
STATE_FIELDS = (
    "cart_items",
    "additional_costs",
    "loyalty_cards",
    "coupon_codes",
    "referral_code",
    "attributes",
    "state",
    "profile",
)


def _push(
    session: CustomerSession,
    *,
    fields: tuple[str, ...] = STATE_FIELDS,
    operation: str = SESSION_UPDATE,
    immediate: bool = True,
    deliver: bool = True,
    extra_fields: tuple[str, ...] = (),
) -> bool:
    """Queue the session's state if it changed. Returns whether a row was written.

    Saves only ``fields`` (the ones the caller changed; all state fields by default) plus
    the fingerprint: the session should have been read with :func:`_locked`, so the queued
    body is the committed state plus this change, and no other field is written back from
    an in-memory copy.
    """
    body = session_payload(session)
    fp = outbox.fingerprint(body)
    if operation == SESSION_UPDATE and fp == session.fingerprint and not extra_fields:
        return False
    session.fingerprint = fp
    if session.pk is None:
        session.save()
    else:
        session.save(update_fields=["fingerprint", *fields, "updated_at", *extra_fields])
    outbox.enqueue(
        operation,
        session_key(session.integration_id),
        {"session_id": session.integration_id, "customerSession": body},
        fingerprint_value=fp,
        immediate=immediate,
        deliver=deliver,
        application=session.application,
    )
    return True


# -- carts (update_cart, clear_cart, merge_carts: services/carts.py) ---------------------
def evaluate_cart(target: SessionOrCart) -> list[Effect]:
    """Dry-run the cart now (``dry=true``: Talon.One persists nothing) and return the effects.

    Synchronous, through :func:`~django_talon.resilience.guarded` with the short timeout:
    raises :class:`~django_talon.exceptions.TalonUnavailableError` when the kill switch or
    the circuit breaker stops calls or Talon.One is unreachable, and
    :class:`~django_talon.exceptions.TalonRequestFailedError` for an error answer. Nothing
    is stored.
    """
    from django_talon import resilience

    if isinstance(target, CustomerSession):
        session = target
    else:
        session = session_for_cart(target, create=False) or CustomerSession(
            integration_id=get_adapter().new_session_id(target),
            application=get_adapter().application_for_cart(target),
        )
        session.cart_items = get_adapter().cart_items(target)
        session.attributes = get_adapter().cart_attributes(target)
        session.additional_costs = additional_costs_payload(
            get_adapter().additional_costs(target),
            currency=talon_settings.config.currency_of(session.application),
        )
        session.loyalty_cards = loyalty_cards_payload(get_adapter().loyalty_cards(target))
    with resilience.guarded(
        "evaluate the cart", immediate=True, application=session.application
    ) as client:
        state = client.update_customer_session_v2(
            session.integration_id, session_payload(session), dry=True
        )
    return list(state.effects)


def apply_coupon(target: SessionOrCart, code: str) -> CustomerSession:
    """Add a coupon code to the session and queue the update (delivered right after commit).

    A rejected code comes back as a ``rejectCoupon`` effect, is dropped from ``coupon_codes``
    and fires :data:`django_talon.signals.coupon_rejected`. A code already applied in
    another case (``welcome10`` after ``WELCOME10``) is the same code for Talon.One: it is
    not added twice (:func:`~django_talon.promotions.codes.find_code`).
    """
    code = clean_code(code)
    if not code:
        raise ValueError("coupon code must not be empty")
    with transaction.atomic(savepoint=False):
        session = _resolve_locked(target)
        if find_code(session.coupon_codes, code) is None:
            session.coupon_codes = [*session.coupon_codes, code]
        _push(session, fields=("coupon_codes",))
    return _refreshed(session)


def remove_coupon(target: SessionOrCart, code: str) -> CustomerSession:
    """Remove a coupon code, in any case (sends the remaining list; ``[]`` clears them)."""
    with transaction.atomic(savepoint=False):
        session = _resolve_locked(target)
        session.coupon_codes = [c for c in session.coupon_codes if not same_code(c, code)]
        _push(session, fields=("coupon_codes",))
    return _refreshed(session)


def apply_referral(target: SessionOrCart, code: str) -> CustomerSession:
    """Set the session's referral code (one per session) and queue the update."""
    code = clean_code(code)
    if not code:
        raise ValueError("referral code must not be empty")
    with transaction.atomic(savepoint=False):
        session = _resolve_locked(target)
        session.referral_code = code
        _push(session, fields=("referral_code",))
    return _refreshed(session)


def remove_referral(target: SessionOrCart) -> CustomerSession:
    """Clear the session's referral code."""
    with transaction.atomic(savepoint=False):
        session = _resolve_locked(target)
        session.referral_code = ""
        _push(session, fields=("referral_code",))
    return _refreshed(session)


def _refreshed(session: CustomerSession) -> CustomerSession:
    """Outside a transaction the immediate attempt already ran: return the stored answer."""
    if not transaction.get_connection().in_atomic_block:
        session.refresh_from_db()
    return session


def attach_session_to_user(session: CustomerSession, user: Any) -> CustomerSession:
    """Login: the anonymous cart's session now belongs to the customer's profile."""
    profile = profile_for_user(user)
    if session.profile_id == profile.pk:
        return session
    with transaction.atomic(savepoint=False):
        _locked(session).profile = profile
        _push(session, fields=("profile",))
    return session


# -- orders -----------------------------------------------------------------------------------
def _change_state(
    session: CustomerSession, state: str, *, fail_closed: bool | None = None
) -> CustomerSession:
    from django_talon import resilience
    from django_talon.exceptions import OrderRefusedError

    if fail_closed is None:
        fail_closed = talon_settings.fail_closed
    if fail_closed and not transaction.get_connection().in_atomic_block:
        raise FailClosedOutsideTransactionError(
            _outside_transaction_message(f"{state} session {session.integration_id}")
        )
    with transaction.atomic(savepoint=False):
        _locked(session).state = state
        _push(
            session,
            fields=("state",),
            operation=SESSION_STATE,
            immediate=True,
            deliver=not fail_closed,
        )
    if fail_closed:
        # Inside the caller's transaction: a failure here rolls the order back with it.
        try:
            outbox.deliver_key(session_key(session.integration_id), force=True, raise_errors=True)
        except Exception as exc:
            logger.warning(
                "fail-closed: refusing order for session %s: %s",
                session.integration_id,
                resilience.describe(exc),
            )
            raise OrderRefusedError(cause=resilience.describe(exc)) from exc
        session.refresh_from_db()
    return _refreshed(session)


def close_session(target: SessionOrCart, *, fail_closed: bool | None = None) -> CustomerSession:
    """Order placed/paid: close the session (budgets and redemptions are consumed).

    ``fail_closed`` (default: ``TALON["ORDER_PLACEMENT"] == "fail_closed"``) delivers at once
    inside the caller's transaction and raises :class:`~django_talon.exceptions.OrderRefusedError`
    when Talon.One does not confirm; otherwise the close is queued and never lost.

    The close sends what the order was charged (``services.record_order``): the quoted cart
    lines, and without the codes the shopper did not get (``TALON["CLOSE_UNCONFIRMED"]``,
    docs/reconciliation.md). Nothing changes when no charged quote was recorded.
    """
    session = _resolve(target, create=False)
    refuses = fail_closed if fail_closed is not None else talon_settings.fail_closed
    if not refuses or transaction.get_connection().in_atomic_block:
        prepare_close(session)  # fail-closed outside a transaction writes nothing
    return _change_state(session, CLOSED, fail_closed=fail_closed)


def cancel_session(target: SessionOrCart, *, fail_closed: bool | None = None) -> CustomerSession:
    """Order cancelled: Talon.One rolls back the effects of a closed session."""
    return _change_state(_resolve(target, create=False), CANCELLED, fail_closed=fail_closed)


def session_for_order(order: Any) -> CustomerSession | None:
    """The session of an order: ``adapter.order_session_id(order)`` or the order's cart."""
    adapter = get_adapter()
    session_id = adapter.order_session_id(order)
    if session_id:
        found: CustomerSession | None = (
            CustomerSession.objects.select_related("profile")
            .filter(integration_id=session_id)
            .first()
        )
        return found
    cart = adapter.order_cart(order)
    if cart is None:
        return None
    return session_for_cart(cart, create=False, open_only=False)


def sync_order(order: Any, *, fail_closed: bool | None = None) -> CustomerSession | None:
    """Apply an order's state to its session: paid/placed -> closed, cancelled -> cancelled.

    Idempotent: a session already in the target state is left alone, so saving an order twice
    never closes or cancels twice.
    """
    state = get_adapter().order_session_state(order)
    if state is None:
        return None
    session = session_for_order(order)
    if session is None or session.state == state:
        return session
    if state == CLOSED and session.state != OPEN:
        return session
    if state == CANCELLED and session.state == CANCELLED:
        return session
    if state == CLOSED:
        return close_session(session, fail_closed=fail_closed)
    return _change_state(session, state, fail_closed=fail_closed)
