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
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django_talon.adapters import get_adapter
from django_talon.client.effects import AddFreeItem, Effect
from django_talon.conf import talon_settings
from django_talon.models import CustomerSession

logger = logging.getLogger("django_talon.services")

__all__ = ["grant_key", "sync_free_items"]


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


def sync_free_items(session: CustomerSession, effects: Iterable[Effect]) -> list[str]:
    """Add the free items an answer grants and remove those it no longer grants.

    Returns the SKUs added. Does nothing unless ``TALON["ADD_FREE_ITEMS"]`` is on, the
    session is open and belongs to a cart the adapter can find.
    """
    if not talon_settings.ADD_FREE_ITEMS or session.state != "open" or not session.cart_key:
        return []
    granted = {grant_key(e): e for e in effects if isinstance(e, AddFreeItem) and e.sku}
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
            adapter.remove_free_item(cart, sku)
        done.remove(key)
    for effect in to_add:
        if adapter.add_free_item(cart, effect):
            done.append(grant_key(effect))
            added.append(effect.sku)
    if done != list(session.free_items_added or []):
        CustomerSession.objects.filter(pk=session.pk).update(free_items_added=done)
        session.free_items_added = done
    return added
