"""System checks of the database aliases ``DATABASE_ROUTERS`` choose (E021, W008, W009;
docs/checks.md, docs/adapters.md#several-databases), and of the database they are on (E022).

django-talon runs its transactions, savepoints, row locks and ``on_commit`` hooks on the
default connection (``transaction.atomic()`` without ``using``). That holds the shop's cart,
lines and orders only when they are written there too: a cart on another alias was rolled
back while django-talon's session change stayed committed and reached Talon.One, and
fail-closed placement refused an order placed inside that alias's ``transaction.atomic()``.
A read replica has the same effect on reads made inside the shop's transaction: it does not
see it yet, so Talon.One got the previous cart. These checks say so at ``manage.py check``
instead of the silent divergence. Kept apart from :mod:`django_talon.checks` because it is
one idea: where the rows django-talon works with are written and read.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections, router

from django_talon.conf import TalonConfig

MODEL_SETTINGS = ("CART_MODELS", "CART_ITEM_MODELS", "ORDER_MODELS")
DOCS = "docs/adapters.md#several-databases"


def check_databases(config: TalonConfig, adapter_cls: Any | None) -> list[checks.CheckMessage]:
    """E021, W009 and W008 (``adapter_cls``: the configured adapter class, None when it
    cannot be used: E004 says so, and W008 is not checked)."""
    return [
        *_own_models(),
        *_database_vendor(),
        *_shop_models(config),
        *_shop_line_reads(config, adapter_cls),
    ]


#: the database backends django-talon's tables are created and tested on
SUPPORTED_VENDORS = ("postgresql", "sqlite")


def _database_vendor() -> list[checks.CheckMessage]:
    """E022: django-talon's tables on MySQL/MariaDB (or another database it does not know).

    Why an error before ``migrate`` (which runs the system checks): its identifiers are
    Talon.One's, up to 1,000 characters, and they are indexed (unique sessions and profiles,
    the outbox's ordering key): with ``utf8mb4`` that is 4,000 bytes and more per index,
    beyond InnoDB's 3,072, so the migration stopped half-way with "Specified key was too
    long". Only the backend's ``vendor`` is read: no connection is opened.
    """
    alias = DEFAULT_DB_ALIAS
    try:
        vendor = connections[alias].vendor
    except Exception:  # no such alias, a backend that cannot be loaded: Django says so
        return []
    if vendor in SUPPORTED_VENDORS:
        return []
    if vendor == "mysql":
        why = (
            "its Talon.One identifiers of up to 1,000 characters are indexed, beyond "
            "InnoDB's 3,072 bytes per index with utf8mb4 (the migration fails with "
            '"Specified key was too long")'
        )
    else:
        why = "its locking, upserts and migrations are built and tested for PostgreSQL and SQLite"
    return [
        checks.Error(
            f"The database {alias!r} is {vendor}: django-talon's tables are supported on "
            f"PostgreSQL and SQLite only; {why}.",
            hint="Use PostgreSQL (or SQLite) for the default database (docs/installation.md).",
            id="django_talon.E022",
        )
    ]


def _installed(label: str) -> Any | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None  # E006 says so


def _by_alias(aliases: dict[str, str]) -> dict[str, list[str]]:
    """Model labels grouped by the alias they map to, leaving out the default alias."""
    grouped: dict[str, list[str]] = {}
    for label, alias in aliases.items():
        if alias != DEFAULT_DB_ALIAS:
            grouped.setdefault(alias, []).append(label)
    return grouped


def _own_models() -> list[checks.CheckMessage]:
    """E021 (writes) / W009 (reads): django-talon's own models on another alias.

    Its reads matter too: inside the shop's transaction a replica does not see the session
    django-talon created a moment ago (``session_for_cart`` answered None), and after the
    commit a lagging one shows the session before the coupon was applied.
    """
    models = list(apps.get_app_config("django_talon").get_models())
    writes = {m._meta.label: router.db_for_write(m) for m in models}
    reads = {m._meta.label: router.db_for_read(m) for m in models}
    messages: list[checks.CheckMessage] = [
        checks.Error(
            f"DATABASE_ROUTERS send the writes of django-talon's models ({', '.join(labels)}) "
            f"to {alias!r}: django-talon writes them in the transaction of the database "
            f"alias {DEFAULT_DB_ALIAS!r}.",
            hint=f"Route the writes of the django_talon app's models to {DEFAULT_DB_ALIAS!r} "
            f"({DOCS}).",
            id="django_talon.E021",
        )
        for alias, labels in _by_alias(writes).items()
    ]
    messages.extend(
        checks.Warning(
            f"DATABASE_ROUTERS send the reads of django-talon's models ({', '.join(labels)}) "
            f"to {alias!r}, which does not see the transaction django-talon writes them in "
            f"on {DEFAULT_DB_ALIAS!r}: a session created or changed a moment ago is not "
            "found, or found as it was.",
            hint=f"Route the reads of the django_talon app's models to {DEFAULT_DB_ALIAS!r} "
            "in your router, e.g. first thing in db_for_read: if model._meta.app_label == "
            f"'django_talon': return {DEFAULT_DB_ALIAS!r} ({DOCS}).",
            id="django_talon.W009",
        )
        for alias, labels in _by_alias(reads).items()
        if alias not in _by_alias(writes)  # E021 says it already
    )
    return messages


def _shop_models(config: TalonConfig) -> list[checks.CheckMessage]:
    """E021: a ``CART_MODELS`` / ``CART_ITEM_MODELS`` / ``ORDER_MODELS`` model written to
    another alias than django-talon's, one message per model."""
    messages: list[checks.CheckMessage] = []
    for setting in MODEL_SETTINGS:
        for label in getattr(config, setting):
            model = _installed(label)
            alias = None if model is None else router.db_for_write(model)
            if model is None or alias == DEFAULT_DB_ALIAS:
                continue
            messages.append(
                checks.Error(
                    f"TALON[{setting!r}] names {label!r}, whose writes DATABASE_ROUTERS send "
                    f"to {alias!r}: django-talon writes its sessions and outbox in the "
                    f"transaction of the database alias {DEFAULT_DB_ALIAS!r}, not of "
                    f"{alias!r}, so a change the shop rolls back still reaches Talon.One "
                    "and fail-closed placement cannot roll an order back.",
                    hint=f"Route the writes of {label!r} to {DEFAULT_DB_ALIAS!r}: "
                    f"django-talon supports one write database, the default one ({DOCS}).",
                    obj=model,
                    id="django_talon.E021",
                )
            )
    return messages


def _line_reader(config: TalonConfig, adapter_cls: Any) -> str | None:
    """Who reads the cart's lines with the shop's own query: the adapter's ``cart_items``
    override, or a cart model's ``talon_cart_items()`` (which the default calls); None when
    the default ``cart_items`` reads them (on the write alias)."""
    from django_talon.adapters import TalonAdapter

    if adapter_cls.cart_items is not TalonAdapter.cart_items:
        return "the adapter's cart_items()"
    carts = [model for model in map(_installed, config.CART_MODELS) if model is not None]
    custom = [m._meta.label for m in carts if callable(getattr(m, "talon_cart_items", None))]
    return f"{', '.join(custom)}.talon_cart_items()" if custom else None


def _shop_line_reads(config: TalonConfig, adapter_cls: Any | None) -> list[checks.CheckMessage]:
    """W008: a ``CART_ITEM_MODELS`` model read from another alias than it is written to (a
    read replica) while the shop's own query reads the lines. That query runs inside the
    shop's uncommitted transaction, so through the router it read the replica's previous
    cart and every Talon.One session was one change behind."""
    reader = None if adapter_cls is None else _line_reader(config, adapter_cls)
    if reader is None:
        return []
    messages: list[checks.CheckMessage] = []
    for label in config.CART_ITEM_MODELS:
        model = _installed(label)
        if model is None:
            continue
        read, write = router.db_for_read(model), router.db_for_write(model)
        if read == write:
            continue
        messages.append(
            checks.Warning(
                f"TALON['CART_ITEM_MODELS'] names {label!r}, which DATABASE_ROUTERS read "
                f"from {read!r} but write to {write!r}, and {reader} reads the lines "
                f"itself: a query through the router reads {read!r}, which does not see "
                "the shop's uncommitted cart change, so Talon.One gets the previous cart.",
                hint="Read the lines on the write alias, e.g. cart.items.using("
                f"router.db_for_write({model.__name__}, instance=cart)) (from django.db "
                f"import router); {DOCS}.",
                obj=model,
                id="django_talon.W008",
            )
        )
    return messages
