"""Signal handlers: user, cart and order changes -> services (connected in ``apps.ready``).

* user created/updated -> :func:`~django_talon.services.sync_profile` (``SYNC_PROFILES_ON_SAVE``)
* login -> the anonymous cart's session is attached to the customer (``ATTACH_ON_LOGIN``),
  after the shop's own ``user_logged_in`` receivers (its guest-cart merge); when the
  adapter's ``cart_for_user`` names the customer's cart, the guest's codes are merged into
  it (:func:`~django_talon.services.merge_carts`)
* ``CART_MODELS`` / ``CART_ITEM_MODELS`` saved or deleted -> session update; a finished cart
  (adapter ``cart_is_open`` False) changes nothing, except that a merged one hands its codes
  to ``cart_merged_into``; an item moved to another cart updates both carts
* ``ORDER_MODELS`` saved -> record the charged quote in the order ledger when placed
  (:func:`~django_talon.services.record_placement`), then close / cancel the session
  (adapter ``order_session_state``)
* user deleted -> erasure (``ERASE_ON_USER_DELETE``)

Handlers never raise into the shop's save, except fail-closed order placement, which raises
:class:`~django_talon.exceptions.OrderRefusedError` on purpose. What they cannot do is rolled
back to a savepoint (the shop's transaction stays usable) and recorded as a
:class:`~django_talon.models.SyncProblem`: the admin shows it and ``talon_check`` counts it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import request_started
from django.db import router, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from django_talon.conf import talon_settings

logger = logging.getLogger("django_talon.receivers")

_DISPATCH = "django_talon"

#: Attribute on a cart item instance: the cart it left (set in ``pre_save``).
_MOVED_FROM = "_django_talon_moved_from"


def _labels(setting: str) -> set[str]:
    return {label.lower() for label in getattr(talon_settings, setting)}


@contextlib.contextmanager
def _recorded(
    stage: str, subject: Callable[[], str], *, on_failure: Callable[[], None] | None = None
) -> Iterator[None]:
    """Run a receiver's work; a failure is rolled back to a savepoint (inside the shop's
    transaction only: outside one, nothing needs it and fail-closed must still see that it
    runs outside) and recorded as a ``SyncProblem``, then ``on_failure`` runs (in a savepoint
    of its own; its own failure is logged). Fail-closed refusals pass through."""
    from django_talon.exceptions import OrderRefusedError
    from django_talon.services import FailClosedOutsideTransactionError

    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            yield
    except (OrderRefusedError, FailClosedOutsideTransactionError):
        raise  # fail-closed: the shop's order save must fail
    except Exception as exc:
        from django_talon.services.problems import record_problem

        logger.exception("django-talon %s of %s failed", stage, subject())
        record_problem(stage, subject(), exc)
        if on_failure is not None:
            _after_failure(on_failure, in_transaction, stage, subject)


def _after_failure(
    action: Callable[[], None], in_transaction: bool, stage: str, subject: Callable[[], str]
) -> None:
    try:
        with transaction.atomic() if in_transaction else contextlib.nullcontext():
            action()
    except Exception:
        logger.exception("django-talon could not mark %s after its %s failed", subject(), stage)


def _subject(obj: Any) -> Callable[[], str]:
    from django_talon.services.problems import subject_of

    return lambda: subject_of(obj)


def on_user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw or not talon_settings.SYNC_PROFILES_ON_SAVE:
        return
    from django_talon.services import sync_profile

    with _recorded("profile", _subject(instance)):
        sync_profile(instance)


#: Dispatch uid of :func:`on_user_logged_in` (tests and benchmarks disconnect it by it).
_LOGIN_UID = f"{_DISPATCH}:login"


def on_user_logged_in(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    """Connected to run after the shop's own ``user_logged_in`` receivers (see
    :func:`login_receiver_last`): it reads the shop's cart through ``cart_for_request``,
    and a shop's ``get_cart(request)`` may remember the customer's own cart in
    ``request.session`` while looking it up, hiding the guest cart from the shop's merge."""
    if not talon_settings.ATTACH_ON_LOGIN or request is None:
        return
    with _recorded("login", _subject(user)):
        _attach_on_login(request, user)


def _attach_on_login(request: Any, user: Any) -> None:
    """The guest's session becomes the customer's; when the adapter knows the customer's own
    cart (``cart_for_user``) and it is another cart, the guest's codes move there.

    The request's session (``session_for_request``, as the shop sees it now: django-oscar
    merges the cookie basket into the customer's right there) gives way to the guest's
    session remembered in ``request.session`` (``login()`` keeps its data) while that one
    still holds something: by the time ``user_logged_in`` is sent, ``request.user`` is the
    customer, and a ``cart_for_request`` that prefers the customer's own cart (the usual
    ``get_cart(request)``) answers that cart, so the guest's codes were never merged. A
    session of another customer is never taken.
    """
    from django_talon.adapters import cart_key, get_adapter
    from django_talon.services import (
        attach_session_to_user,
        merge_carts,
        remember_session,
        remembered_session,
        session_for_request,
    )

    session = session_for_request(request)
    guest = remembered_session(request)
    if guest is not None and guest.is_open and guest.profile_id is None and _holds_something(guest):
        session = guest
    if session is None or not session.is_open or not _guest_or_own(session, user):
        return
    target = get_adapter().cart_for_user(user)
    if target is not None and cart_key(target) not in (None, session.cart_key):
        merged = merge_carts(session, target)
        if merged is not None:
            remember_session(request, merged)
            return
    if session.profile_id is None:
        attach_session_to_user(session, user)


def _guest_or_own(session: Any, user: Any) -> bool:
    """Is ``session`` a guest's (no profile) or ``user``'s own?"""
    return session.profile_id is None or session.profile.user_id == user.pk


def _holds_something(session: Any) -> bool:
    return bool(session.coupon_codes or session.referral_code or session.cart_items)


def login_receiver_last(**kw: Any) -> None:
    """``request_started``: keep :func:`on_user_logged_in` the last ``user_logged_in``
    receiver, so the shop's receivers (its guest-cart merge) run before django-talon looks
    at the carts, whatever the ``INSTALLED_APPS`` order.

    Why here: Django calls receivers in connection order and apps listed after
    ``django_talon`` connect theirs in their ``ready()``, after ours; no hook runs once
    every app is ready, but every web login comes after a ``request_started``. A receiver
    connected later is overtaken on the next request. The check is one list look-up (the
    lock is taken only to move the entry); a
    login receiver disconnected on purpose (tests, benchmarks) is never connected again.
    The entry is moved under the signal's lock, so a login served meanwhile in another
    thread still sees it exactly once.
    """
    signal = user_logged_in
    receivers = signal.receivers
    if not receivers or _uid_of(receivers[-1]) == _LOGIN_UID:
        return  # the usual request: already last, no lock taken
    with signal.lock:
        receivers = signal.receivers
        if not receivers or _uid_of(receivers[-1]) == _LOGIN_UID:
            return
        index = next((i for i, e in enumerate(receivers) if _uid_of(e) == _LOGIN_UID), None)
        if index is None:
            return  # disconnected on purpose: leave it so
        receivers.append(receivers.pop(index))
        signal.sender_receivers_cache.clear()


def _uid_of(entry: Any) -> Any:
    """The dispatch uid of a ``Signal.receivers`` entry (``((uid, sender_id), ref, ...)``
    in every supported Django; anything else is no match)."""
    try:
        return entry[0][0]
    except (TypeError, IndexError, KeyError):
        return None


def on_user_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if not talon_settings.ERASE_ON_USER_DELETE:
        return
    from django_talon.models import CustomerProfile
    from django_talon.services import erase_customer

    # Only customers django-talon knows about; a user never synced has nothing in Talon.One.
    if not CustomerProfile.objects.filter(user=instance).exists():
        return
    erase_customer(instance, requested_by="signal:user_deleted")


def _owner_erased_here(cart: Any) -> bool:
    """Is the cart's owner being erased in this transaction? Django deletes a user's carts
    after the user's ``pre_delete`` (the erasure); mirroring them then would store the
    cart's attributes again for an erased customer. No query unless an erasure ran."""
    from django_talon.outbox.scheduling import erased_in_transaction

    if cart is None or not erased_in_transaction():
        return False
    from django.core.exceptions import ObjectDoesNotExist

    from django_talon.adapters import get_adapter
    from django_talon.services.gdpr import erasing

    try:
        user = get_adapter().cart_user(cart)
    except ObjectDoesNotExist:  # the owner's row is already deleted: the cascade of its delete
        return True
    return user is not None and erasing(user)


def _cart_changed(cart: Any, *, touched_only: bool = False) -> None:
    """Mirror an open cart; a finished one changes nothing, but a merged one hands its codes
    to the cart it was merged into (adapter ``cart_merged_into``). Failures are recorded
    (stage ``cart``, or ``cart_merge`` for the merge). ``touched_only``: the cart's own save
    wrote nothing but its ``auto_now`` timestamps (see :func:`_touched_only`)."""
    from django_talon.adapters import get_adapter
    from django_talon.services import merge_carts, update_cart

    finished = False
    with _recorded("cart", _subject(cart), on_failure=lambda: _mark_unmirrored(cart)):
        if get_adapter().cart_is_open(cart):
            if touched_only:
                update_cart(cart, _lines_as_mirrored=True)
            else:
                update_cart(cart)
        else:
            finished = True
    if not finished:
        return
    with _recorded("cart_merge", _subject(cart)):
        target = get_adapter().cart_merged_into(cart)
        if target is not None:
            merge_carts(cart, target)


def _mark_unmirrored(cart: Any) -> None:
    from django_talon.services.carts import mark_unmirrored

    mark_unmirrored(cart)


def on_cart_changed(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    if raw or _owner_erased_here(instance):
        return
    _cart_changed(instance, touched_only=_touched_only(sender, update_fields))


def _touched_only(model: Any, update_fields: Any) -> bool:
    """Did a save write only the model's ``auto_now`` fields (``cart.save(update_fields=
    ["updated_at"])``, the "the cart changed" touch after a line's save)? Such a save cannot
    change the cart's lines, so :func:`~django_talon.services.update_cart` reuses the lines
    it read for the line's save in the same transaction instead of reading them again (one
    query per change, issue 13). A plain ``save()`` still reads them: it is how a shop
    announces lines changed without a signal (``QuerySet.update()``)."""
    if not update_fields:
        return False
    for name in update_fields:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # Django refuses such a save before post_save anyway
            return False
        if not getattr(field, "auto_now", False):
            return False
    return True


def on_cart_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if _owner_erased_here(instance):
        return
    from django_talon.services import clear_cart

    with _recorded("cart_delete", _subject(instance)):
        clear_cart(instance)


def on_cart_item_changed(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    from django_talon.adapters import get_adapter

    carts = [instance.__dict__.pop(_MOVED_FROM, None)]  # the cart it left, if it moved
    with _recorded("cart", _subject(instance)):
        carts.append(get_adapter().cart_for_item(instance))
    for cart in carts:
        if cart is not None and not _owner_erased_here(cart):
            _cart_changed(cart)


def on_cart_item_saving(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    """``pre_save`` of a cart item: remember the cart it leaves when it moves to another
    cart ("save for later": ``item.cart = other; item.save()``), so both sessions update.

    One query (the stored foreign key) for a saved item, none for a new one or a save whose
    ``update_fields`` leave the cart alone.
    """
    if raw or instance._state.adding or instance.pk is None:
        return
    from django_talon.cart_links import cart_foreign_keys

    fields = cart_foreign_keys(sender)  # the links the default cart_for_item reads too
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    if fields:
        with _recorded("cart", _subject(instance)):
            _remember_old_cart(sender, instance, fields)


def _remember_old_cart(sender: Any, instance: Any, fields: list[Any]) -> None:
    # read on the write alias: a read replica does not see the shop's open transaction
    alias = router.db_for_write(sender, instance=instance)
    stored = (
        sender._base_manager.using(alias)
        .filter(pk=instance.pk)
        .values_list(*[f.attname for f in fields])
        .first()
    )
    for field, old in zip(fields, stored or (), strict=False):
        if old is not None and old != getattr(instance, field.attname):
            model = field.related_model
            previous = (
                model._base_manager.using(router.db_for_write(model, instance=instance))
                .filter(pk=old)
                .first()
            )
            instance.__dict__[_MOVED_FROM] = previous
            return


def on_order_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    from django_talon.services import record_placement, sync_order

    with _recorded("placement", _subject(instance)):
        record_placement(instance)  # the order ledger: what the order was charged
    with _recorded("order", _subject(instance)):
        sync_order(instance)


def on_model_saving(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    """Routes ``pre_save`` of the configured cart-item models (nothing for other models)."""
    if sender._meta.label_lower in _labels("CART_ITEM_MODELS"):
        on_cart_item_saving(sender, instance, raw=raw, update_fields=kw.get("update_fields"))


def on_model_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    """Routes saves of the configured cart / cart-item / order models (read at call time, so
    ``override_settings(TALON=...)`` takes effect without reconnecting)."""
    label = sender._meta.label_lower
    if label in _labels("CART_MODELS"):
        on_cart_changed(sender, instance, raw=raw, update_fields=kw.get("update_fields"))
    elif label in _labels("CART_ITEM_MODELS"):
        on_cart_item_changed(sender, instance, raw=raw)
    elif label in _labels("ORDER_MODELS"):
        on_order_saved(sender, instance, raw=raw)


def on_model_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    label = sender._meta.label_lower
    if label in _labels("CART_MODELS"):
        on_cart_deleted(sender, instance)
    elif label in _labels("CART_ITEM_MODELS"):
        on_cart_item_changed(sender, instance)


def connect() -> None:
    """Connect every receiver (idempotent: fixed dispatch uids)."""
    user_model = get_user_model()
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid=f"{_DISPATCH}:user_saved")
    pre_delete.connect(on_user_deleted, sender=user_model, dispatch_uid=f"{_DISPATCH}:user_deleted")
    user_logged_in.connect(on_user_logged_in, dispatch_uid=_LOGIN_UID)
    request_started.connect(login_receiver_last, dispatch_uid=f"{_DISPATCH}:login_last")
    pre_save.connect(on_model_saving, dispatch_uid=f"{_DISPATCH}:model_saving")
    post_save.connect(on_model_saved, dispatch_uid=f"{_DISPATCH}:model_saved")
    post_delete.connect(on_model_deleted, dispatch_uid=f"{_DISPATCH}:model_deleted")
    # update_cart's once-per-transaction lookup forgets a session written elsewhere.
    from django_talon.models import CustomerSession
    from django_talon.services.carts import forget_mirrored

    for signal in (post_save, post_delete):
        signal.connect(
            forget_mirrored, sender=CustomerSession, dispatch_uid=f"{_DISPATCH}:session_written"
        )
