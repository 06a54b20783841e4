"""The one ``TALON = {...}`` settings dict: defaults, typed access, reset on ``setting_changed``.

Every module reads configuration through :data:`talon_settings` instead of
``django.conf.settings.TALON`` so that defaults live in one place, typos are caught by the
system checks (``django_talon.W001``) and tests that override ``TALON`` with
``override_settings`` / the pytest ``settings`` fixture see the new values at once.

The values are a frozen :class:`TalonConfig` dataclass built from :data:`DEFAULTS` and the
user's dict, so ``talon_settings.MAX_ATTEMPTS`` is an ``int`` to mypy and at run time: call
sites need no ``int(...)`` or ``cast``. A value of the wrong type (``"MAX_ATTEMPTS": "ten"``)
never crashes an import: the default is used and the system check ``django_talon.E009``
names the key.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed

Timeout = float | tuple[float, float]

#: The name of the one Application of a shop without ``TALON["APPLICATIONS"]`` (and the
#: value every session, profile and outbox row written before several were possible has).
DEFAULT_APPLICATION = "default"


@dataclasses.dataclass(frozen=True)
class ApplicationConfig:
    """One Talon.One Application: where to call, with which key, in which currency.

    Built from an entry of ``TALON["APPLICATIONS"]`` (a missing ``BASE_URL`` is the top-level
    one: Applications of one deployment share it), or from the top-level keys for the
    ``"default"`` Application. The key never appears in a repr.
    """

    name: str
    BASE_URL: str
    API_KEY: str = dataclasses.field(repr=False)
    CURRENCY: str
    APPLICATION_ID: int | None = None
    APPLICATION_KEY: str = dataclasses.field(default="", repr=False)


@dataclasses.dataclass(frozen=True)
class TalonConfig:
    """Every supported key with its type and default; docs/configuration.md documents each."""

    # Connection
    BASE_URL: str = ""
    API_KEY: str = dataclasses.field(default="", repr=False)
    APPLICATION_ID: int | None = None
    APPLICATION_KEY: str = dataclasses.field(default="", repr=False)
    TIMEOUT: Timeout = (3.05, 10.0)
    IMMEDIATE_TIMEOUT: float = 1.5
    CLIENT_MAX_ATTEMPTS: int = 2
    CURRENCY: str = "EUR"
    RESPONSE_CONTENT: tuple[str, ...] = ("customerSession", "customerProfile")
    # Switches
    ENABLED: bool = True
    DELIVERY: str = "auto"
    IMMEDIATE_ATTEMPT: bool = True
    ORDER_PLACEMENT: str = "fail_open"
    PLACEMENT_TIMEOUT: float = 5.0  # the whole fail-closed confirmation (a deadline)
    CLOSE_UNCONFIRMED: str = "without_codes"
    ADD_FREE_ITEMS: bool = False  # put addFreeItem's item into the cart (adapter.add_free_item)
    # Outbox
    MAX_ATTEMPTS: int = 8
    RETRY_BACKOFF: float = 2.0
    RETRY_BACKOFF_MAX: float = 600.0
    RELAY_BATCH_SIZE: int = 100
    SYNC_RELAY_INTERVAL: float = 30.0
    SWEEP_AFTER: float = 300.0
    DONE_RETENTION: float = 7 * 24 * 3600.0
    # Resilience
    BREAKER_THRESHOLD: int = 5
    BREAKER_COOLDOWN: float = 30.0
    CACHE_ALIAS: str = "default"
    EFFECTS_MAX_AGE: float = 24 * 3600.0
    # Adapters and automatic wiring
    ADAPTER: str = "django_talon.adapters.TalonAdapter"
    CART_MODELS: tuple[str, ...] = ()
    CART_ITEM_MODELS: tuple[str, ...] = ()
    ORDER_MODELS: tuple[str, ...] = ()
    SYNC_PROFILES_ON_SAVE: bool = True
    ATTACH_ON_LOGIN: bool = True
    ERASE_ON_USER_DELETE: bool = True
    # Bulk sync, management commands, emulator (used by tasks and commands)
    SYNC_BATCH_SIZE: int = 1000
    EMULATOR_CAMPAIGNS: str | None = None
    EMULATOR_HOST: str = "127.0.0.1"
    EMULATOR_PORT: int = 9100
    # Loyalty (balances, history, paying with points): docs/loyalty.md
    LOYALTY_PROGRAM_ID: int | None = None
    LOYALTY_REDEEM_ATTRIBUTE: str = "pointsToRedeem"
    LOYALTY_CACHE_SECONDS: float = 300.0
    LOYALTY_EXPIRING_DAYS: int = 30
    # Display layer (promotions, template tags, REST API): docs/messages.md, docs/rest-api.md
    REJECTION_MESSAGES: dict[str, str] = dataclasses.field(default_factory=dict)
    CODE_ATTEMPT_RATE: str = "10/minute"
    CODE_ATTEMPT_RATE_PER_IP: str = ""  # off; e.g. "30/minute" (docs/rest-api.md#throttling)
    TRUSTED_PROXY_COUNT: int = 0
    CLIENT_IP_FUNCTION: str = ""
    REST_AUTHENTICATION_CLASSES: tuple[str, ...] = (
        "rest_framework.authentication.SessionAuthentication",
    )
    REFERRAL_CAMPAIGN_ID: int | None = None
    # Catalog sync, best prior price, events, audiences: docs/catalog.md
    PRODUCT_MODEL: str = ""  # "app_label.Model" of the products talon_sync_catalog sends
    CATALOG_ID: int | None = None
    PRIOR_PRICE_TIMEFRAME_DAYS: int = 30
    PRIOR_PRICE_CACHE_SECONDS: float = 3600.0
    PRIOR_PRICE_RETRY_SECONDS: float = 60.0  # how long a failed lookup is not repeated
    EVENT_RECEIVERS: dict[str, str] = dataclasses.field(default_factory=dict)
    AUDIENCE_GROUPS: dict[str, int] = dataclasses.field(default_factory=dict)
    # Several Applications (one per currency, say): docs/configuration.md#applications
    APPLICATIONS: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    # Values that need normalising, named for what the caller wants.
    @property
    def timeout(self) -> Timeout:
        """``TIMEOUT`` as the client expects it: one float or a (connect, read) pair."""
        return self.TIMEOUT

    @property
    def immediate_timeout(self) -> float:
        return self.IMMEDIATE_TIMEOUT

    @property
    def fail_closed(self) -> bool:
        return self.ORDER_PLACEMENT == "fail_closed"

    @functools.cached_property
    def applications(self) -> dict[str, ApplicationConfig]:
        """Every Application by name, in settings order: ``APPLICATIONS``' entries, or one
        ``"default"`` built from the top-level ``BASE_URL`` / ``API_KEY`` / ``CURRENCY``."""
        if not self.APPLICATIONS:
            return {
                DEFAULT_APPLICATION: ApplicationConfig(
                    name=DEFAULT_APPLICATION,
                    BASE_URL=self.BASE_URL,
                    API_KEY=self.API_KEY,
                    CURRENCY=self.CURRENCY,
                    APPLICATION_ID=self.APPLICATION_ID,
                    APPLICATION_KEY=self.APPLICATION_KEY,
                )
            }
        return {
            name: ApplicationConfig(
                name=name,
                BASE_URL=str(entry.get("BASE_URL") or self.BASE_URL),
                API_KEY=str(entry.get("API_KEY") or ""),
                CURRENCY=str(entry.get("CURRENCY") or ""),
                APPLICATION_ID=entry.get("APPLICATION_ID"),
                APPLICATION_KEY=str(entry.get("APPLICATION_KEY") or ""),
            )
            for name, entry in self.APPLICATIONS.items()
        }

    @property
    def default_application(self) -> str:
        """``"default"`` when there is one of that name (always, without ``APPLICATIONS``),
        else the first one listed: what the adapter's hooks answer unless overridden."""
        names = list(self.APPLICATIONS) or [DEFAULT_APPLICATION]
        return DEFAULT_APPLICATION if DEFAULT_APPLICATION in names else names[0]

    def is_configured(self, name: str) -> bool:
        """Whether ``name`` names a configured Application (``"default"`` always does)."""
        try:
            self.application(name)
        except LookupError:
            return False
        return True

    def currency_of(self, name: str) -> str:
        """The currency of Application ``name``; the top-level ``CURRENCY`` for a name no
        longer configured (a page shows its stored promotions instead of failing)."""
        try:
            return self.application(name).CURRENCY
        except LookupError:
            return self.CURRENCY

    def application(self, name: str | None = None) -> ApplicationConfig:
        """The Application called ``name`` (None: the default one). ``"default"`` names the
        default Application also when none is called so (rows written before
        ``APPLICATIONS`` was set say ``"default"``). An unknown name raises ``LookupError``."""
        apps = self.applications
        if name is None or (name == DEFAULT_APPLICATION and name not in apps):
            name = self.default_application
        try:
            return apps[name]
        except KeyError:
            raise LookupError(
                f"no Talon.One Application {name!r} in TALON['APPLICATIONS'] "
                f"(known: {', '.join(apps)})"
            ) from None


_FIELDS = {f.name: f for f in dataclasses.fields(TalonConfig)}


def _default(name: str) -> Any:
    f = _FIELDS[name]
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


#: Every supported key with its default (the values :class:`TalonConfig` starts from).
DEFAULTS: dict[str, Any] = {name: _default(name) for name in _FIELDS}

#: Keys whose value must be one of a fixed set (checked by ``django_talon.E005``).
CHOICES: dict[str, tuple[str, ...]] = {
    "DELIVERY": ("auto", "celery", "sync"),
    "ORDER_PLACEMENT": ("fail_open", "fail_closed"),
    "CLOSE_UNCONFIRMED": ("without_codes", "with_codes"),
}


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a number is needed, not a bool")
    return float(value)


def _as_positive_float(value: Any) -> float:
    number = _as_float(value)
    if not number > 0:
        raise TypeError("a number of seconds above 0 is needed")
    return number


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError("a whole number is needed")
    return int(value)


def _as_optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else _as_int(value)


def _as_str(value: Any) -> str:
    if value is None:  # os.environ.get() of an unset variable: "not set", as the default
        return ""
    if not isinstance(value, str):
        raise TypeError("a string is needed")
    return value


def _as_optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _as_bool(value: Any) -> bool:
    if not isinstance(value, bool | int):
        raise TypeError("True or False is needed")
    return bool(value)


def _as_strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise TypeError("a list of strings is needed")
    return tuple(str(v) for v in value)


def _as_timeout(value: Any) -> Timeout:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise TypeError("a number or a (connect, read) pair is needed")
        return (_as_float(value[0]), _as_float(value[1]))
    return _as_float(value)


def _as_mapping(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("a dict is needed")
    return {str(k): str(v) for k, v in value.items()}


def _as_positive_int(value: Any) -> int:
    number = _as_int(value)
    if number < 1:
        raise TypeError("a whole number of at least 1 is needed")
    return number


def _as_id_mapping(value: Any) -> dict[str, int]:
    """``{"name": id}`` with whole-number ids (``AUDIENCE_GROUPS``: group name -> audience)."""
    if not isinstance(value, dict):
        raise TypeError("a dict of name -> id is needed")
    return {str(k): _as_positive_int(v) for k, v in value.items()}


#: The keys an entry of ``APPLICATIONS`` may have (others are reported by the checks).
APPLICATION_KEYS = ("BASE_URL", "API_KEY", "CURRENCY", "APPLICATION_ID", "APPLICATION_KEY")


def _as_applications(value: Any) -> dict[str, dict[str, Any]]:
    """``{"name": {"API_KEY": ..., "CURRENCY": ...}}``: the shape only; what is missing or
    wrong inside an entry is reported by ``django_talon.E016``-``E019``."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise TypeError("a dict of application name -> dict of settings is needed")
    apps = {str(name): dict(entry) for name, entry in value.items()}
    for entry in apps.values():
        entry["APPLICATION_ID"] = _as_optional_int(entry.get("APPLICATION_ID"))
    return apps


#: The settings (top level and in an ``APPLICATIONS`` entry) that are secrets: never shown
#: in a repr, a check message or a log line.
SECRET_KEYS = ("API_KEY", "APPLICATION_KEY")


def redacted(name: str, value: Any) -> Any:
    """``value`` of the setting ``name`` as it may be shown: a secret is ``'***'`` (whatever
    its type: a key given as bytes is still a key), and so is every secret inside an
    ``APPLICATIONS`` mapping, however malformed the mapping is."""
    if name in SECRET_KEYS:
        return "***" if value else value
    if name == "APPLICATIONS" and isinstance(value, dict):
        return {
            app: (
                {k: redacted(str(k), v) for k, v in entry.items()}
                if isinstance(entry, dict)
                else entry
            )
            for app, entry in value.items()
        }
    return value


_COERCE: dict[str, Callable[[Any], Any]] = {
    "BASE_URL": _as_str,
    "API_KEY": _as_str,
    "APPLICATION_ID": _as_optional_int,
    "APPLICATION_KEY": _as_str,
    "TIMEOUT": _as_timeout,
    "IMMEDIATE_TIMEOUT": _as_float,
    "CLIENT_MAX_ATTEMPTS": _as_int,
    "CURRENCY": _as_str,
    "RESPONSE_CONTENT": _as_strings,
    "ENABLED": _as_bool,
    "DELIVERY": _as_str,
    "IMMEDIATE_ATTEMPT": _as_bool,
    "ORDER_PLACEMENT": _as_str,
    "PLACEMENT_TIMEOUT": _as_positive_float,
    "CLOSE_UNCONFIRMED": _as_str,
    "ADD_FREE_ITEMS": _as_bool,
    "MAX_ATTEMPTS": _as_int,
    "RETRY_BACKOFF": _as_float,
    "RETRY_BACKOFF_MAX": _as_float,
    "RELAY_BATCH_SIZE": _as_int,
    "SYNC_RELAY_INTERVAL": _as_float,
    "SWEEP_AFTER": _as_float,
    "DONE_RETENTION": _as_float,
    "BREAKER_THRESHOLD": _as_int,
    "BREAKER_COOLDOWN": _as_float,
    "CACHE_ALIAS": _as_str,
    "EFFECTS_MAX_AGE": _as_float,
    "ADAPTER": _as_str,
    "CART_MODELS": _as_strings,
    "CART_ITEM_MODELS": _as_strings,
    "ORDER_MODELS": _as_strings,
    "SYNC_PROFILES_ON_SAVE": _as_bool,
    "ATTACH_ON_LOGIN": _as_bool,
    "ERASE_ON_USER_DELETE": _as_bool,
    "SYNC_BATCH_SIZE": _as_int,
    "EMULATOR_CAMPAIGNS": _as_optional_str,
    "EMULATOR_HOST": _as_str,
    "EMULATOR_PORT": _as_int,
    "LOYALTY_PROGRAM_ID": _as_optional_int,
    "LOYALTY_REDEEM_ATTRIBUTE": _as_str,
    "LOYALTY_CACHE_SECONDS": _as_float,
    "LOYALTY_EXPIRING_DAYS": _as_int,
    "REJECTION_MESSAGES": _as_mapping,
    "CODE_ATTEMPT_RATE": _as_str,
    "CODE_ATTEMPT_RATE_PER_IP": _as_str,
    "TRUSTED_PROXY_COUNT": _as_int,
    "CLIENT_IP_FUNCTION": _as_str,
    "REST_AUTHENTICATION_CLASSES": _as_strings,
    "REFERRAL_CAMPAIGN_ID": _as_optional_int,
    "PRODUCT_MODEL": _as_str,
    "CATALOG_ID": _as_optional_int,
    "PRIOR_PRICE_TIMEFRAME_DAYS": _as_positive_int,
    "PRIOR_PRICE_CACHE_SECONDS": _as_positive_float,
    "PRIOR_PRICE_RETRY_SECONDS": _as_positive_float,
    "EVENT_RECEIVERS": _as_mapping,
    "AUDIENCE_GROUPS": _as_id_mapping,
    "APPLICATIONS": _as_applications,
}
assert set(_COERCE) == set(_FIELDS), "every TalonConfig field needs a coercion"


def build_config(user: dict[str, Any]) -> tuple[TalonConfig, dict[str, str]]:
    """The typed config for a user dict, and ``{key: problem}`` for values it could not use
    (those keep their default; ``django_talon.E009`` reports them). Unknown keys are ignored
    here (``django_talon.W001`` reports them)."""
    values: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    for name, raw in user.items():
        coerce = _COERCE.get(name)
        if coerce is None:
            continue
        try:
            values[name] = coerce(raw)
        except (TypeError, ValueError) as exc:
            invalid[name] = f"{redacted(name, raw)!r} cannot be used ({exc})"
    return TalonConfig(**values), invalid


if TYPE_CHECKING:
    _Typed = TalonConfig
else:
    _Typed = object


class TalonSettings(_Typed):
    """Attribute access to the current :class:`TalonConfig` (``settings.TALON`` over defaults).

    ``talon_settings.BASE_URL`` returns the user's value or the default, typed; unknown
    attribute names raise ``AttributeError`` (a typo in code fails loudly, a typo in settings
    is reported by the checks). The config is cached and dropped on ``setting_changed``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._config: TalonConfig | None = None
        self._invalid: dict[str, str] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        """The raw ``settings.TALON`` dict (empty when unset)."""
        value = getattr(settings, "TALON", None) or {}
        if not isinstance(value, dict):
            raise TypeError("settings.TALON must be a dict")
        return value

    @property
    def config(self) -> TalonConfig:
        """The current typed, frozen config."""
        config = self._config
        if config is None:
            with self._lock:
                config, self._invalid = build_config(self.user_settings)
                self._config = config
        return config

    def as_dict(self) -> dict[str, Any]:
        """The current values as a dict (a copy; safe to mutate)."""
        config = self.config
        return {name: getattr(config, name) for name in _FIELDS}

    def unknown_keys(self) -> list[str]:
        """Keys in ``settings.TALON`` that this version does not know (likely typos)."""
        return sorted(k for k in self.user_settings if k not in _FIELDS)

    def invalid_values(self) -> dict[str, str]:
        """``{key: problem}`` for values of the wrong type (their default is used instead)."""
        _ = self.config
        return dict(self._invalid)

    def reload(self) -> None:
        """Forget the config; the next access reads ``settings.TALON`` again."""
        with self._lock:
            self._config = None
            self._invalid = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or (name not in _FIELDS and not hasattr(TalonConfig, name)):
            raise AttributeError(f"unknown TALON setting {name!r}")
        return getattr(self.config, name)

    def __repr__(self) -> str:
        # Never show the API key or the application key.
        data = {name: redacted(name, value) for name, value in self.as_dict().items()}
        return f"<TalonSettings {data!r}>"


talon_settings = TalonSettings()

#: Called with no arguments after ``settings.TALON`` changed (modules that cache objects
#: built from the settings, e.g. the resilience module's clients, register here, so this
#: module imports none of them).
reload_hooks: list[Callable[[], None]] = []


def _reload_talon_settings(*, setting: str, **kwargs: Any) -> None:
    """Drop the cached config (and what was built from it) when a test overrides TALON."""
    if setting == "TALON":
        talon_settings.reload()
        for hook in list(reload_hooks):
            hook()


setting_changed.connect(_reload_talon_settings, dispatch_uid="django_talon.conf.reload")
