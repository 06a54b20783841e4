"""The one ``TALON = {...}`` settings dict: defaults, typed access, reset on ``setting_changed``.

Every module reads configuration through :data:`talon_settings` instead of
``django.conf.settings.TALON`` so that defaults live in one place, typos are caught by the
system checks (``django_talon.W001``) and tests that override ``TALON`` with
``override_settings`` / the pytest ``settings`` fixture see the new values at once.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

#: Every supported key with its default. docs/configuration.md documents each one.
DEFAULTS: dict[str, Any] = {
    # Connection
    "BASE_URL": "",
    "API_KEY": "",
    "APPLICATION_ID": None,
    "APPLICATION_KEY": "",
    "TIMEOUT": (3.05, 10.0),
    "IMMEDIATE_TIMEOUT": 1.5,
    "CLIENT_MAX_ATTEMPTS": 2,
    "CURRENCY": "EUR",
    "RESPONSE_CONTENT": ["customerSession", "customerProfile"],
    # Switches
    "ENABLED": True,
    "DELIVERY": "auto",
    "IMMEDIATE_ATTEMPT": True,
    "ORDER_PLACEMENT": "fail_open",
    # Outbox
    "MAX_ATTEMPTS": 8,
    "RETRY_BACKOFF": 2.0,
    "RETRY_BACKOFF_MAX": 600.0,
    "RELAY_BATCH_SIZE": 100,
    "SYNC_RELAY_INTERVAL": 30.0,
    "SWEEP_AFTER": 300.0,
    "DONE_RETENTION": 7 * 24 * 3600.0,
    # Resilience
    "BREAKER_THRESHOLD": 5,
    "BREAKER_COOLDOWN": 30.0,
    "CACHE_ALIAS": "default",
    "EFFECTS_MAX_AGE": 24 * 3600.0,
    # Adapters and automatic wiring
    "ADAPTER": "django_talon.adapters.TalonAdapter",
    "CART_MODELS": [],
    "CART_ITEM_MODELS": [],
    "ORDER_MODELS": [],
    "SYNC_PROFILES_ON_SAVE": True,
    "ATTACH_ON_LOGIN": True,
    "ERASE_ON_USER_DELETE": True,
    # Bulk sync, management commands, emulator (used by tasks and commands)
    "SYNC_BATCH_SIZE": 1000,
    "EMULATOR_CAMPAIGNS": None,
    "EMULATOR_HOST": "127.0.0.1",
    "EMULATOR_PORT": 9100,
    # Display layer (promotions, template tags, REST API): docs/messages.md, docs/rest-api.md
    "REJECTION_MESSAGES": {},
    "CODE_ATTEMPT_RATE": "10/minute",
    "REFERRAL_CAMPAIGN_ID": None,
}

#: Keys whose value must be one of a fixed set (checked by ``django_talon.E005``).
CHOICES: dict[str, tuple[str, ...]] = {
    "DELIVERY": ("auto", "celery", "sync"),
    "ORDER_PLACEMENT": ("fail_open", "fail_closed"),
}


class TalonSettings:
    """Attribute access to ``settings.TALON`` merged over :data:`DEFAULTS`.

    ``talon_settings.BASE_URL`` returns the user's value or the default; unknown attribute
    names raise ``AttributeError`` (a typo in code fails loudly, a typo in settings is
    reported by the checks). The merged dict is cached and dropped on ``setting_changed``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, Any] | None = None

    @property
    def user_settings(self) -> dict[str, Any]:
        """The raw ``settings.TALON`` dict (empty when unset)."""
        value = getattr(settings, "TALON", None) or {}
        if not isinstance(value, dict):
            raise TypeError("settings.TALON must be a dict")
        return value

    def as_dict(self) -> dict[str, Any]:
        """Defaults merged with the user's values (a copy; safe to mutate)."""
        cached = self._cache
        if cached is None:
            with self._lock:
                merged = dict(DEFAULTS)
                merged.update(self.user_settings)
                self._cache = cached = merged
        return dict(cached)

    def unknown_keys(self) -> list[str]:
        """Keys in ``settings.TALON`` that this version does not know (likely typos)."""
        return sorted(k for k in self.user_settings if k not in DEFAULTS)

    def reload(self) -> None:
        """Forget the merged values; the next access reads ``settings.TALON`` again."""
        with self._lock:
            self._cache = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"unknown TALON setting {name!r}")
        cached = self._cache
        if cached is None:
            cached = self.as_dict()
        return cached[name]

    # Typed helpers for values that need normalising.
    @property
    def timeout(self) -> float | tuple[float, float]:
        """``TIMEOUT`` as the client expects it: one float or a (connect, read) pair."""
        value = self.TIMEOUT
        if isinstance(value, list | tuple):
            return (float(value[0]), float(value[1]))
        return float(value)

    @property
    def immediate_timeout(self) -> float:
        return float(self.IMMEDIATE_TIMEOUT)

    @property
    def fail_closed(self) -> bool:
        return bool(self.ORDER_PLACEMENT == "fail_closed")

    def __repr__(self) -> str:
        # Never show the API key or the application key.
        data = self.as_dict()
        for secret in ("API_KEY", "APPLICATION_KEY"):
            if data.get(secret):
                data[secret] = "***"
        return f"<TalonSettings {data!r}>"


talon_settings = TalonSettings()


@receiver(setting_changed)
def _reload_talon_settings(*, setting: str, **kwargs: Any) -> None:
    """Drop cached values (and clients built from them) when a test overrides TALON."""
    if setting == "TALON":
        talon_settings.reload()
        from django_talon import resilience

        resilience.reset_clients()
