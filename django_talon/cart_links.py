"""How a cart line or an order finds its cart, and reads it where it is written.

The default adapter's links between the shop's models (:class:`~django_talon.adapters.
TalonAdapter`'s ``cart_for_item``, ``order_cart``, ``cart_items``): which foreign key of a
line or an order points at a ``CART_MODELS`` model, whatever its name (and so which lines
a cart has), and how a related row or a line queryset is read on the database alias it is
written to (a read replica does not see the shop's open transaction). The item receiver and the system checks use the same
lookup, so one rule decides what "the cart of this line" is.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, router

from django_talon.conf import talon_settings

#: :func:`foreign_key_value`: the model has no such foreign key.
NO_COLUMN = object()


def foreign_key_value(instance: Any, name: str) -> Any:
    """The stored value of ``instance``'s foreign key ``name`` (its ``<name>_id`` column),
    without loading the related row; :data:`NO_COLUMN` when ``name`` is not a foreign key."""
    meta = getattr(instance, "_meta", None)
    if meta is None:
        return NO_COLUMN
    try:
        field = meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):  # not a field; a stand-in's partial _meta
        return NO_COLUMN
    if not getattr(field, "many_to_one", False) or not getattr(field, "concrete", False):
        return NO_COLUMN
    return getattr(instance, field.attname, None)


def cart_foreign_keys(model: Any, cart_models: Any = None) -> list[Any]:
    """``model``'s foreign keys (and one-to-one fields) to a ``CART_MODELS`` model
    (``cart_models``: labels to use instead of the setting, e.g. a system check's config).

    The one place that says which field links a cart line or an order to its cart: the
    default :meth:`TalonAdapter.cart_for_item` / :meth:`TalonAdapter.order_cart` read it,
    the item receiver detects a line moving to another cart through it, and the checks
    ``django_talon.W006`` / ``W007`` warn when a model has none or several. Why not just
    ``item.cart``: a shop whose line names its cart ``basket`` got no session update at
    all, and one whose order does never closed its session, without any error.
    """
    labels = talon_settings.CART_MODELS if cart_models is None else cart_models
    return list(_cart_foreign_keys(model, frozenset(str(label).lower() for label in labels)))


@lru_cache(maxsize=256)
def _cart_foreign_keys(model: Any, carts: frozenset[str]) -> tuple[Any, ...]:
    """Cached per model and ``CART_MODELS`` (read on every line save)."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if (field.many_to_one or field.one_to_one)
        and not field.remote_field.parent_link
        and field.related_model._meta.label_lower in carts
    )


def linked_cart(instance: Any) -> Any | None:
    """The cart ``instance`` (a cart line or an order) points at: through its one foreign
    key to a ``CART_MODELS`` model, else (none or several such keys, or not a model
    instance) its ``cart`` attribute, as before the foreign key was looked up."""
    if isinstance(instance, models.Model):
        fields = cart_foreign_keys(type(instance))
        if len(fields) == 1:
            return related_on_write_alias(instance, fields[0])
    return getattr(instance, "cart", None)


def cart_line_links(cart_model: Any, item_models: Any = None) -> list[Any]:
    """The foreign keys from ``CART_ITEM_MODELS`` models (``item_models``: labels to use
    instead of the setting, e.g. a system check's config) to ``cart_model``: where the
    default :meth:`TalonAdapter.cart_items` finds a cart's lines when it has no ``items``.

    Why: a shop whose lines point at the cart as ``basket`` (``related_name="lines"``) had
    its lines found for ``cart_for_item`` but read from ``cart.items``, which it has not:
    every cart went to Talon.One empty, silently. Unknown labels are skipped (E006).
    """
    from django.apps import apps

    labels = talon_settings.CART_ITEM_MODELS if item_models is None else item_models
    target = cart_model._meta.concrete_model._meta.label_lower
    links: list[Any] = []
    for label in labels:
        try:
            model = apps.get_model(str(label))
        except (LookupError, ValueError):
            continue
        links.extend(cart_foreign_keys(model, [target]))
    return links


def cart_lines(cart: Any) -> Any | None:
    """The cart's lines as a manager or queryset read on their write alias, or None when
    no lines relation is found.

    ``cart.items`` when it is a manager (or has ``all()``: a stand-in cart), as before;
    else the rows of the one ``CART_ITEM_MODELS`` model pointing at this cart's model
    (:func:`cart_line_links`, through its related manager when it has one, so a
    ``prefetch_related`` is used). None for none or several such foreign keys: the check
    ``django_talon.W011`` says so, as the lines cannot be told apart.
    """
    items = getattr(cart, "items", None)
    if hasattr(items, "all"):
        return on_write_alias(items, cart)
    if not isinstance(cart, models.Model):
        return None
    links = cart_line_links(type(cart))
    if len(links) != 1:
        return None
    field = links[0]
    accessor = field.remote_field.get_accessor_name()  # "...+": hidden, no manager
    if field.many_to_one and accessor and not accessor.endswith("+"):
        rows = getattr(cart, accessor)
    else:  # related_name "+", or a one-to-one field: no related manager to use
        rows = field.model._default_manager.filter(**{field.name: cart})
    return on_write_alias(rows, cart)


def related_on_write_alias(instance: models.Model, field: Any) -> Any | None:
    """``instance``'s related object through ``field``, read where it is written.

    The foreign key's descriptor reads through ``router.db_for_read``: with a read-replica
    router that is the replica, which does not see the shop's transaction yet (the cart it
    changed a moment ago, or created). The related row is read on the write alias instead
    when the two differ (and cached on ``instance``, as the descriptor caches it); with one
    database, or a related object already loaded, nothing changes and no query is added.
    """
    value = getattr(instance, field.attname)
    if value is None or field.is_cached(instance):
        return getattr(instance, field.name)
    model = field.related_model
    alias = router.db_for_write(model, instance=instance)
    if alias == router.db_for_read(model, instance=instance):
        return getattr(instance, field.name)
    related = model._base_manager.using(alias).get(**{field.target_field.attname: value})
    field.set_cached_value(instance, related)
    return related


def on_write_alias(rows: Any, instance: Any = None) -> Any:
    """The manager or queryset ``rows``, reading on the database alias its model is written
    to (``router.db_for_write``, with ``instance`` as the hint), not on its read alias.

    Why: django-talon mirrors the cart inside the shop's transaction, on the write alias; a
    read-replica router sent ``cart.items.all()`` to a replica that does not see that
    transaction yet, so every Talon.One session was one cart change behind. A related
    manager is switched before its queryset is made (``db_manager``), since making it
    already consults the read alias's connection. With one database (no
    ``DATABASE_ROUTERS``) ``rows`` is returned as it is, and so is anything that is neither
    (a stand-in cart's ``items``).
    """
    if not isinstance(rows, (models.Manager, models.QuerySet)):
        return rows
    hints = {"instance": instance} if instance is not None else {}
    alias = router.db_for_write(rows.model, **hints)
    if rows.db == alias:
        return rows
    return rows.db_manager(alias) if isinstance(rows, models.Manager) else rows.using(alias)
