"""System checks (``manage.py check``), each documented in docs/checks.md.

Errors stop ``runserver``/``migrate``; warnings are printed. IDs are stable: silence one with
``SILENCED_SYSTEM_CHECKS = ["django_talon.W002"]``.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from django_talon import application_checks, database_checks
from django_talon.conf import CHOICES, DEFAULTS, TalonConfig, talon_settings

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "testserver"})
MODEL_SETTINGS = ("CART_MODELS", "CART_ITEM_MODELS", "ORDER_MODELS")


def _error(msg: str, hint: str, id_: str) -> checks.CheckMessage:
    return checks.Error(msg, hint=hint, id=f"django_talon.{id_}")


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """All django-talon checks (one entry point so the order of messages is stable)."""
    raw = getattr(settings, "TALON", None)
    if raw is not None and not isinstance(raw, dict):
        return [
            _error(
                "settings.TALON must be a dict.",
                "Write TALON = {'BASE_URL': ..., 'API_KEY': ...}.",
                "E007",
            )
        ]
    config = talon_settings.config
    return [
        *_connection(config),
        *_adapter(config),
        *_choices_and_models(config),
        *_cart_owner(config),
        *_cart_links(config),
        *_cart_lines(config),
        *database_checks.check_databases(config, _adapter_class(config)),
        *_values(),
        *_cache(config),
        *_base_url_in_production(config),
        *_throttling(config),
        *_rest_authentication(config),
        *_catalog_and_events(config),
        *application_checks.check_applications(config),
    ]


def _connection(config: TalonConfig) -> list[checks.CheckMessage]:
    """E001/E002/E003: what an enabled app needs to call Talon.One at all."""
    messages: list[checks.CheckMessage] = []
    # APPLICATIONS given but unusable (E009 says so) is not "no API key" or "no URL".
    per_application = bool(config.APPLICATIONS) or "APPLICATIONS" in talon_settings.invalid_values()
    if config.ENABLED and not config.BASE_URL.strip() and not per_application:
        messages.append(
            _error(
                "TALON['BASE_URL'] is not set.",
                "Set it to your Talon.One deployment URL, e.g. https://mycompany.talon.one "
                "(or the local emulator's URL in development), or set TALON['ENABLED'] = False.",
                "E001",
            )
        )
    # With APPLICATIONS each entry's key and URL are checked instead (E016).
    if config.ENABLED and not config.API_KEY.strip() and not per_application:
        messages.append(
            _error(
                "TALON['API_KEY'] is not set.",
                "Create an Integration API key for your Application in the Campaign Manager "
                "and read it from the environment.",
                "E002",
            )
        )
    if config.DELIVERY == "celery" and importlib.util.find_spec("celery") is None:
        messages.append(
            _error(
                "TALON['DELIVERY'] is 'celery' but Celery is not installed.",
                "pip install 'django-talon[celery]', or use DELIVERY 'auto' or 'sync'.",
                "E003",
            )
        )
    else:
        messages.extend(_celery_broker(config))
    return messages


def _celery_broker(config: TalonConfig) -> list[checks.CheckMessage]:
    """W010: DELIVERY "celery" while the current Celery app has no broker and is not eager.

    Why: Celery then falls back to ``amqp://guest@localhost//``; where nothing listens
    there, every write waits in the outbox with no worker and no beat to deliver it, and
    nothing said so (a broker set under the wrong namespace looks the same).
    """
    if config.DELIVERY != "celery":
        return []
    from celery import current_app

    conf = current_app.conf
    if conf.task_always_eager or conf.broker_write_url:
        return []
    return [
        checks.Warning(
            "TALON['DELIVERY'] is 'celery' but the current Celery app "
            f"({current_app.main or 'default'!r}) has no broker URL: Celery falls back to "
            "amqp://guest@localhost//, and where nothing listens there every write waits in "
            "the outbox, with no worker and no beat to deliver it.",
            hint="Set CELERY_BROKER_URL (with config_from_object(..., namespace='CELERY')) and "
            "import the app in your project's __init__.py (from .celery import app as "
            "celery_app), or use DELIVERY 'auto' (Celery only with a broker) or 'sync'.",
            id="django_talon.W010",
        )
    ]


def _adapter(config: TalonConfig) -> list[checks.CheckMessage]:
    """E004: the adapter can be imported and is a ``TalonAdapter``."""
    try:
        from django_talon.adapters import TalonAdapter

        adapter_cls = import_string(config.ADAPTER)
        if not (isinstance(adapter_cls, type) and issubclass(adapter_cls, TalonAdapter)):
            raise TypeError("not a subclass of django_talon.adapters.TalonAdapter")
    except (ImportError, TypeError, ValueError) as exc:
        return [
            _error(
                f"TALON['ADAPTER'] {config.ADAPTER!r} cannot be used: {exc}.",
                "Give the dotted path of a subclass of django_talon.adapters.TalonAdapter.",
                "E004",
            )
        ]
    return []


def _adapter_class(config: TalonConfig) -> Any | None:
    """The configured adapter class, or None when it cannot be used (E004 says so)."""
    from django_talon.adapters import TalonAdapter

    try:
        adapter_cls = import_string(config.ADAPTER)
    except (ImportError, ValueError):
        return None
    if not (isinstance(adapter_cls, type) and issubclass(adapter_cls, TalonAdapter)):
        return None
    return adapter_cls


def _installed_models(labels: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """``(label, model)`` for each label that names an installed model; the others are
    left to E006, which says so."""
    for label in labels:
        try:
            yield label, apps.get_model(label)
        except (LookupError, ValueError):
            continue


def _cart_owner(config: TalonConfig) -> list[checks.CheckMessage]:
    """W005: a ``CART_MODELS`` model without ``user`` while the adapter keeps the default
    ``cart_user``, which reads ``cart.user``: every such cart would go to Talon.One anonymous
    (no profile, no loyalty points, no reserved coupons), without any error to notice.

    Only ``cart_user`` silences it: it decides the session's customer profile. An override
    of ``cart_user_id`` alone (the owner's id, compared on each cart change) left every
    logged-in cart anonymous, and this check used to stay quiet about it; an override of
    ``cart_user`` alone is enough, since the default ``cart_user_id`` then asks it."""
    from django_talon.adapters import TalonAdapter

    adapter_cls = _adapter_class(config)
    if adapter_cls is None:
        return []
    if adapter_cls.cart_user is not TalonAdapter.cart_user:
        return []  # the shop says who owns a cart
    only_id = adapter_cls.cart_user_id is not TalonAdapter.cart_user_id
    messages: list[checks.CheckMessage] = []
    for label, model in _installed_models(config.CART_MODELS):
        if hasattr(model, "user"):
            continue
        messages.append(
            checks.Warning(
                f"TALON['CART_MODELS'] names {label!r}, which has no 'user', and the adapter "
                "keeps the default cart_user()"
                + (" (it overrides cart_user_id() only)" if only_id else "")
                + ": every cart of it is sent to Talon.One anonymous (no customer profile, "
                "no loyalty points, no reserved coupons).",
                hint="Override both cart_user() and cart_user_id() in your adapter, e.g. "
                "return cart.customer and cart.customer_id: cart_user() decides the "
                "customer profile (docs/adapters.md, Hooks).",
                obj=model,
                id="django_talon.W005",
            )
        )
    return messages


#: W006 / W007: the setting, the adapter hook whose default follows the foreign key, what
#: the shop loses when that default finds no cart, and an override for the hint.
_CART_LINKS = (
    (
        "CART_ITEM_MODELS",
        "cart_for_item",
        "W006",
        "saving or deleting one of its rows updates no Talon.One session (the cart's items "
        "never reach Talon.One, no discounts)",
        "return item.basket",
    ),
    (
        "ORDER_MODELS",
        "order_cart",
        "W007",
        "its orders never close or cancel their Talon.One session (no order ledger, "
        "coupons and loyalty points never redeemed)",
        "return order.basket",
    ),
)


def _cart_links(config: TalonConfig) -> list[checks.CheckMessage]:
    """W006/W007: a ``CART_ITEM_MODELS`` / ``ORDER_MODELS`` model for which the default
    ``cart_for_item`` / ``order_cart`` finds no cart: no foreign key to a ``CART_MODELS``
    model (and no ``cart``), or several. Such a shop used to get no session updates, or
    sessions never closed, while ``manage.py check`` said nothing."""
    from django_talon.adapters import TalonAdapter

    adapter_cls = _adapter_class(config)
    if adapter_cls is None:
        return []
    messages: list[checks.CheckMessage] = []
    for setting, hook, id_, loss, example in _CART_LINKS:
        if getattr(adapter_cls, hook) is not getattr(TalonAdapter, hook):
            continue  # the shop says where the cart is
        if hook == "order_cart" and (
            adapter_cls.order_session_id is not TalonAdapter.order_session_id
        ):
            continue  # the shop finds the order's session by its stored id
        for label, model in _installed_models(getattr(config, setting)):
            if hook == "order_cart" and hasattr(model, "talon_session_id"):
                # The default order_session_id reads it, and session_for_order asks it
                # before order_cart: the documented session-cart shop's orders do close.
                continue
            problem = _cart_link_problem(model, config, hook)
            if problem is None:
                continue
            what, fix = problem
            messages.append(
                checks.Warning(
                    f"TALON[{setting!r}] names {label!r}, which {what}: {loss}.",
                    hint=f"Override {hook}() in your adapter (e.g. {example}){fix} "
                    "(docs/adapters.md, Hooks).",
                    obj=model,
                    id=f"django_talon.{id_}",
                )
            )
    return messages


def _cart_lines(config: TalonConfig) -> list[checks.CheckMessage]:
    """W011: a ``CART_MODELS`` model whose lines the default ``cart_items`` cannot find: no
    ``talon_cart_items()``, no ``items`` manager, and not exactly one foreign key to it from
    a ``CART_ITEM_MODELS`` model. Every cart of it went to Talon.One empty (no items, no
    item discounts), with no error and nothing in ``manage.py check``."""
    from django_talon.adapters import TalonAdapter
    from django_talon.cart_links import cart_line_links

    adapter_cls = _adapter_class(config)
    if adapter_cls is None or adapter_cls.cart_items is not TalonAdapter.cart_items:
        return []  # the shop says what is in a cart
    messages: list[checks.CheckMessage] = []
    for label, model in _installed_models(config.CART_MODELS):
        if callable(getattr(model, "talon_cart_items", None)) or _has_items_manager(model):
            continue
        links = cart_line_links(model, config.CART_ITEM_MODELS)
        if len(links) == 1:
            continue
        if links:
            names = ", ".join(f"'{f.model._meta.label_lower}.{f.name}'" for f in links)
            what = f"several foreign keys from TALON['CART_ITEM_MODELS'] models ({names})"
        else:
            what = "no foreign key from a TALON['CART_ITEM_MODELS'] model"
        messages.append(
            checks.Warning(
                f"TALON['CART_MODELS'] names {label!r}, which has no 'items' and {what}, "
                "and the adapter keeps the default cart_items(): every cart of it is sent "
                "to Talon.One empty (no items, no item discounts).",
                hint="Override cart_items() in your adapter (or define talon_cart_items() "
                "on the cart model) to return the cart's lines, or list the line model "
                "whose foreign key points at the cart in TALON['CART_ITEM_MODELS'] "
                "(docs/adapters.md, Hooks).",
                obj=model,
                id="django_talon.W011",
            )
        )
    return messages


def _has_items_manager(model: Any) -> bool:
    """Does ``cart.items`` give the default ``cart_items`` a manager? A reverse foreign key
    or many-to-many named ``items`` does; a field of another kind does not; any other
    ``items`` (a property, a method) is trusted, as it may return one."""
    if not hasattr(model, "items"):
        return False
    try:
        field = model._meta.get_field("items")
    except FieldDoesNotExist:
        return True
    return bool(field.one_to_many or field.many_to_many)


def _cart_link_problem(model: Any, config: TalonConfig, hook: str) -> tuple[str, str] | None:
    """What is wrong with ``model``'s link to its cart for the default ``hook`` (and a
    second way to fix it), or None: one foreign key to a ``CART_MODELS`` model, or none
    but a ``cart`` attribute (a property, or a foreign key to a cart the receivers do not
    watch: a shop wiring only its orders), which the default reads."""
    from django_talon.cart_links import cart_foreign_keys

    links = cart_foreign_keys(model, config.CART_MODELS)
    if len(links) == 1 or (not links and hasattr(model, "cart")):
        return None
    if links:
        names = ", ".join(repr(field.name) for field in links)
        return (
            f"has several foreign keys to TALON['CART_MODELS'] models ({names}), and the "
            f"default {hook}() cannot tell which one is the cart (it reads 'cart')",
            "",
        )
    return (
        "has no foreign key to a TALON['CART_MODELS'] model (and no 'cart'), and the "
        f"adapter keeps the default {hook}()",
        ", or list the model its foreign key points at in TALON['CART_MODELS']",
    )


def _choices_and_models(config: TalonConfig) -> list[checks.CheckMessage]:
    """E005/E006: values from a fixed set, and model labels of installed models."""
    messages: list[checks.CheckMessage] = []
    for key, allowed in CHOICES.items():
        value = getattr(config, key)
        if value not in allowed:
            messages.append(
                _error(
                    f"TALON[{key!r}] is {value!r}.",
                    f"Use one of: {', '.join(repr(a) for a in allowed)}.",
                    "E005",
                )
            )
    for key in MODEL_SETTINGS:
        for label in getattr(config, key):
            try:
                apps.get_model(label)
            except (LookupError, ValueError):
                messages.append(
                    _error(
                        f"TALON[{key!r}] names {label!r}, which is not an installed model.",
                        "Use 'app_label.ModelName' of an installed app.",
                        "E006",
                    )
                )
    return messages


def _values() -> list[checks.CheckMessage]:
    """E009/W001: values of the wrong type, and keys this version does not know."""
    messages: list[checks.CheckMessage] = [
        _error(
            f"TALON[{key!r}] is {problem}; its default {DEFAULTS[key]!r} is used.",
            "See docs/configuration.md for the type each setting takes.",
            "E009",
        )
        for key, problem in talon_settings.invalid_values().items()
    ]
    for key in talon_settings.unknown_keys():
        close = difflib.get_close_matches(key, DEFAULTS.keys(), n=1)
        hint = f"Did you mean {close[0]!r}?" if close else "See docs/configuration.md."
        messages.append(
            checks.Warning(
                f"TALON[{key!r}] is not a django-talon setting and is ignored.",
                hint=hint,
                id="django_talon.W001",
            )
        )
    return messages


def _cache(config: TalonConfig) -> list[checks.CheckMessage]:
    """E008/W003: the cache holding the breaker and the kill switch exists and is shared."""
    alias = config.CACHE_ALIAS
    caches_setting = getattr(settings, "CACHES", {}) or {}
    if alias not in caches_setting:
        return [
            _error(
                f"TALON['CACHE_ALIAS'] is {alias!r}, which is not in settings.CACHES.",
                "Name a configured cache; it holds the circuit breaker and the kill switch.",
                "E008",
            )
        ]
    backend = str(caches_setting[alias].get("BACKEND", ""))
    if backend.endswith(("locmem.LocMemCache", "dummy.DummyCache")) and not settings.DEBUG:
        return [
            checks.Warning(
                f"TALON['CACHE_ALIAS'] {alias!r} uses {backend.rsplit('.', 1)[-1]}: the "
                "circuit breaker and the run-time kill switch are per process.",
                hint="Use a cache shared by all processes (Redis, Memcached, database) "
                "or accept per-process breakers.",
                id="django_talon.W003",
            )
        ]
    return []


def _base_url_in_production(config: TalonConfig) -> list[checks.CheckMessage]:
    """W002: the emulator or this machine as ``BASE_URL`` while ``DEBUG`` is off."""
    if not (config.ENABLED and config.BASE_URL) or settings.DEBUG:
        return []
    host = (urlsplit(config.BASE_URL).hostname or "").lower()
    if host in LOCAL_HOSTS or "emulator" in host:
        return [
            checks.Warning(
                f"TALON['BASE_URL'] points at {host!r} (the emulator or this machine) "
                "while DEBUG is False.",
                hint="In production point BASE_URL at your Talon.One deployment.",
                id="django_talon.W002",
            )
        ]
    return []


def _throttling(config: TalonConfig) -> list[checks.CheckMessage]:
    """E010/E011: the code attempt budgets parse, and the client IP settings can be used."""
    from django_talon.throttling import parse_rate

    messages: list[checks.CheckMessage] = []
    for key in ("CODE_ATTEMPT_RATE", "CODE_ATTEMPT_RATE_PER_IP"):
        try:
            parse_rate(getattr(config, key), key)
        except ValueError as exc:
            messages.append(
                _error(f"{exc}.", "Write '<n>/second', '/minute', '/hour' or '/day'.", "E010")
            )
    if config.TRUSTED_PROXY_COUNT < 0:
        messages.append(
            _error(
                f"TALON['TRUSTED_PROXY_COUNT'] is {config.TRUSTED_PROXY_COUNT}.",
                "Give the number of reverse proxies in front of Django (0: none).",
                "E010",
            )
        )
    if config.CLIENT_IP_FUNCTION:
        try:
            if not callable(import_string(config.CLIENT_IP_FUNCTION)):
                raise TypeError("not callable")
        except (ImportError, TypeError, ValueError) as exc:
            messages.append(
                _error(
                    f"TALON['CLIENT_IP_FUNCTION'] {config.CLIENT_IP_FUNCTION!r} cannot be "
                    f"used: {exc}.",
                    "Give the dotted path of a function taking the request and returning "
                    "the client's IP address, or leave it empty.",
                    "E011",
                )
            )
    return messages


def _rest_authentication(config: TalonConfig) -> list[checks.CheckMessage]:
    """E012: the REST views' authentication classes are DRF authentication classes."""
    try:
        from rest_framework.authentication import BaseAuthentication
    except ImportError:  # the REST API is not usable without DRF anyway
        return []

    messages: list[checks.CheckMessage] = []
    for path in config.REST_AUTHENTICATION_CLASSES:
        try:
            cls = import_string(path)
            if not (isinstance(cls, type) and issubclass(cls, BaseAuthentication)):
                raise TypeError("not a subclass of rest_framework's BaseAuthentication")
        except (ImportError, TypeError, ValueError) as exc:
            messages.append(
                _error(
                    f"TALON['REST_AUTHENTICATION_CLASSES'] names {path!r}, which cannot be "
                    f"used: {exc}.",
                    "List dotted paths of DRF authentication classes, e.g. "
                    "'rest_framework.authentication.SessionAuthentication'.",
                    "E012",
                )
            )
    return messages


def _catalog_and_events(config: TalonConfig) -> list[checks.CheckMessage]:
    """E013/E014/E015: the product model, the event sources and the audience groups."""
    messages: list[checks.CheckMessage] = []
    if config.PRODUCT_MODEL:
        try:
            apps.get_model(config.PRODUCT_MODEL)
        except (LookupError, ValueError):
            messages.append(
                _error(
                    f"TALON['PRODUCT_MODEL'] names {config.PRODUCT_MODEL!r}, which is not an "
                    "installed model.",
                    "Use 'app_label.ModelName' of the shop's product model.",
                    "E013",
                )
            )
    from django_talon.optional_receivers import event_source

    for source, event_type in config.EVENT_RECEIVERS.items():
        try:
            event_source(source)
            if not event_type.strip():
                raise ValueError("the event type is empty")
        except (ImportError, LookupError, TypeError, ValueError) as exc:
            messages.append(
                _error(
                    f"TALON['EVENT_RECEIVERS'] entry {source!r} cannot be used: {exc}.",
                    "Map the dotted path of a django.dispatch.Signal, or "
                    "'app_label.ModelName:created', to a Talon.One event type.",
                    "E014",
                )
            )
    if config.AUDIENCE_GROUPS and not hasattr(apps.get_model(settings.AUTH_USER_MODEL), "groups"):
        messages.append(
            _error(
                "TALON['AUDIENCE_GROUPS'] is set, but the user model has no groups.",
                "Use a user model with django.contrib.auth's PermissionsMixin, or remove it.",
                "E015",
            )
        )
    return messages


def register() -> None:
    """Register the checks (called from ``AppConfig.ready``)."""
    checks.register(check_settings, "django_talon")
