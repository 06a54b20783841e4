"""Free items (``addFreeItem``) put into the shop's cart, once, when the shop opts in.

Talon.One only *says* a cart earned a free item; the shop has to add the line (at price 0),
as Talon.One's own commercetools and SFCC connectors do. With ``TALON["ADD_FREE_ITEMS"]``
the outbox handler calls :func:`sync_free_items` after storing an answer, and it asks the
adapter to add the line (``adapter.add_free_item(cart, effect)``). The line then travels
to Talon.One with the cart at price 0, so the quote shows it, the order charges nothing for
it and the ledger records it with the cart lines.

Each grant is remembered on the session (``CustomerSession.free_items_added``, as
``"<campaign id>:<sku>"``): a line the shopper removes is not added again for the same
effect in the same session. When the effect is gone (the cart fell below the threshold) the
adapter is asked to remove the line again (``adapter.remove_free_item``) and the grant is
forgotten, so earning it again adds it again.

The adapter gets the effect with a checked ``desired_quantity`` (1 when Talon.One sent
none): a grant of ``0``, ``-3`` or ``10**12`` units, or one that would take the cart past
the 10,000 units the API lets a session hold, is refused. It is not added, and it is
recorded as a :class:`~django_talon.models.SyncProblem` of the cart (``talon_check``
counts it) rather than raised: this runs inside the delivery of an answer Talon.One already
has, so an exception would only re-send that write, and a 10**12-unit line would make every
later cart update fail the client's validation. An adapter hook that raises is recorded the
same way, rolled back to its own savepoint.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from django_talon.adapters import get_adapter
from django_talon.client.effects import AddFreeItem, Effect
from django_talon.client.validation import MAX_TOTAL_QUANTITY
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession
from django_talon.promotions.building import free_item_quantity
from django_talon.promotions.money import UnusableAmountError
from django_talon.services.problems import record_problem

logger = logging.getLogger("django_talon.services")

__all__ = ["FreeItemRefusedError", "grant_key", "sync_free_items"]


class FreeItemRefusedError(ValueError):
    """An ``addFreeItem`` grant the shop does not put into the cart (recorded, not raised)."""


def grant_key(effect: AddFreeItem) -> str:
    """``"<campaign id>:<sku>"``: one grant per campaign and item."""
    return f"{effect.campaign_id}:{effect.sku}"


def _free_lines(session: CustomerSession) -> set[str]:
    """SKUs in the cart at price 0 (the lines this app may have added)."""
    return {
        str(item.get("sku"))
        for item in session.cart_items or []
        if isinstance(item, dict) and not float(item.get("price") or 0)
    }


def _problem(session: CustomerSession, exc: BaseException) -> None:
    """Record a refused grant or a failed adapter hook as a problem of the session's cart."""
    record_problem("cart", session.cart_key, exc)  # SyncProblem.Stage.CART


def _refuse(session: CustomerSession, effect: AddFreeItem, why: str) -> None:
    _problem(
        session,
        FreeItemRefusedError(
            f"addFreeItem of campaign {effect.campaign_id} for {effect.sku!r} not added: {why}"
        ),
    )


def _usable_grants(session: CustomerSession, effects: Iterable[Effect]) -> dict[str, AddFreeItem]:
    """The answer's grants by :func:`grant_key`, each with its checked quantity; a grant whose
    quantity is unusable is recorded and left out (it grants nothing)."""
    granted: dict[str, AddFreeItem] = {}
    for effect in effects:
        if not isinstance(effect, AddFreeItem) or not effect.sku:
            continue
        try:
            quantity = free_item_quantity(effect)
        except UnusableAmountError as exc:
            _refuse(session, effect, str(exc))
            continue
        granted[grant_key(effect)] = dataclasses.replace(effect, desired_quantity=quantity)
    return granted


def _units(session: CustomerSession) -> int:
    """Units in the cart as last queued (what the API's per-session limit counts)."""
    total = 0
    for item in session.cart_items or []:
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            total += quantity
    return total


def _hook(session: CustomerSession, call: Callable[[], Any]) -> bool:
    """Run an adapter hook in its own savepoint; a hook that raises is recorded (the
    delivery that called it has succeeded and must not fail)."""
    try:
        with transaction.atomic():
            return bool(call())
    except Exception as exc:
        logger.exception("free items for session %s: the adapter failed", session.integration_id)
        _problem(session, exc)
        return False


def sync_free_items(session: CustomerSession, effects: Iterable[Effect]) -> list[str]:
    """Add the free items an answer grants and remove those it no longer grants.

    Returns the SKUs added. Does nothing unless ``TALON["ADD_FREE_ITEMS"]`` is on, the
    session is open and belongs to a cart the adapter can find. Never raises: a grant with
    an unusable quantity and an adapter hook that fails are recorded as sync problems.
    """
    if not talon_settings.ADD_FREE_ITEMS or session.state != "open" or not session.cart_key:
        return []
    granted = _usable_grants(session, effects)
    done = list(session.free_items_added or [])
    in_cart = {str(i.get("sku")) for i in session.cart_items or [] if isinstance(i, dict)}
    to_add = [e for key, e in granted.items() if key not in done and e.sku not in in_cart]
    # A grant already recorded while its line is in the cart needs nothing.
    gone = [key for key in done if key not in granted]
    if not to_add and not gone:
        return []
    adapter = get_adapter()
    cart = adapter.cart_for_key(session.cart_key)
    if cart is None:
        logger.info("free items for session %s: its cart is gone", session.integration_id)
        return []
    added: list[str] = []
    free_lines = _free_lines(session)
    for key in gone:
        sku = key.partition(":")[2]
        if sku in free_lines and not any(e.sku == sku for e in granted.values()):
            _hook(session, functools.partial(adapter.remove_free_item, cart, sku))
        done.remove(key)
    units = _units(session)
    for effect in to_add:
        quantity = effect.desired_quantity or 1
        if units + quantity > MAX_TOTAL_QUANTITY:
            _refuse(
                session,
                effect,
                f"{quantity} more units would take the cart ({units} units) past the "
                f"{MAX_TOTAL_QUANTITY} units the API lets a session hold",
            )
            continue
        if _hook(session, functools.partial(adapter.add_free_item, cart, effect)):
            done.append(grant_key(effect))
            added.append(effect.sku)
            units += quantity
    if done != list(session.free_items_added or []):
        CustomerSession.objects.filter(pk=session.pk).update(free_items_added=done)
        session.free_items_added = done
    return added
