"""Signal handlers: user, cart and order changes -> services (connected in ``apps.ready``).

* user created/updated -> :func:`~django_talon.services.sync_profile` (``SYNC_PROFILES_ON_SAVE``)
* login -> the anonymous cart's session is attached to the customer (``ATTACH_ON_LOGIN``)
* ``CART_MODELS`` / ``CART_ITEM_MODELS`` saved or deleted -> session update
* ``ORDER_MODELS`` saved -> record the charged quote in the order ledger when placed
  (:func:`~django_talon.services.record_placement`), then close / cancel the session
  (adapter ``order_session_state``)
* user deleted -> erasure (``ERASE_ON_USER_DELETE``)

Handlers never raise into the shop's save, except fail-closed order placement, which raises
:class:`~django_talon.exceptions.OrderRefusedError` on purpose.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save, pre_delete

from django_talon.conf import talon_settings

logger = logging.getLogger("django_talon.receivers")

_DISPATCH = "django_talon"


def _labels(setting: str) -> set[str]:
    return {label.lower() for label in getattr(talon_settings, setting)}


def on_user_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw or not talon_settings.SYNC_PROFILES_ON_SAVE:
        return
    from django_talon.services import sync_profile

    try:
        sync_profile(instance)
    except Exception:
        logger.exception("queueing the Talon.One profile of user %s failed", instance.pk)


def on_user_logged_in(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if not talon_settings.ATTACH_ON_LOGIN or request is None:
        return
    from django_talon.services import attach_session_to_user, session_for_request

    try:
        session = session_for_request(request)
        if session is not None and session.is_open and session.profile_id is None:
            attach_session_to_user(session, user)
    except Exception:
        logger.exception("attaching the anonymous Talon.One session to user %s failed", user.pk)


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


def on_cart_changed(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw or _owner_erased_here(instance):
        return
    from django_talon.services import update_cart

    try:
        update_cart(instance)
    except Exception:
        logger.exception("queueing the Talon.One session of cart %s failed", instance.pk)


def on_cart_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    if _owner_erased_here(instance):
        return
    from django_talon.services import clear_cart

    try:
        clear_cart(instance)
    except Exception:
        logger.exception("clearing the Talon.One session of cart %s failed", instance.pk)


def on_cart_item_changed(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    from django_talon.adapters import get_adapter
    from django_talon.services import update_cart

    try:
        cart = get_adapter().cart_for_item(instance)
        if cart is not None and not _owner_erased_here(cart):
            update_cart(cart)
    except Exception:
        logger.exception("queueing the Talon.One session for cart item %s failed", instance.pk)


def on_order_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    if raw:
        return
    from django_talon.exceptions import OrderRefusedError
    from django_talon.services import (
        FailClosedOutsideTransactionError,
        record_placement,
        sync_order,
    )

    try:
        record_placement(instance)  # the order ledger: what the order was charged
    except Exception:
        logger.exception("recording the charged quote of order %s failed", instance.pk)
    try:
        sync_order(instance)
    except (OrderRefusedError, FailClosedOutsideTransactionError):
        raise  # fail-closed: the shop's order save must fail
    except Exception:
        logger.exception("queueing the Talon.One state of order %s failed", instance.pk)


def on_model_saved(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    """Routes saves of the configured cart / cart-item / order models (read at call time, so
    ``override_settings(TALON=...)`` takes effect without reconnecting)."""
    label = sender._meta.label_lower
    if label in _labels("CART_MODELS"):
        on_cart_changed(sender, instance, raw=raw)
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
    user_logged_in.connect(on_user_logged_in, dispatch_uid=f"{_DISPATCH}:login")
    post_save.connect(on_model_saved, dispatch_uid=f"{_DISPATCH}:model_saved")
    post_delete.connect(on_model_deleted, dispatch_uid=f"{_DISPATCH}:model_deleted")
