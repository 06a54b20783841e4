"""Talon.One slow or down: clients with timeouts, a shared circuit breaker and a kill switch.

* Timeouts: ``TALON["TIMEOUT"]`` for background delivery, ``TALON["IMMEDIATE_TIMEOUT"]`` (no
  retries) for the one attempt made right after a cart change is committed;
  ``TALON["PLACEMENT_TIMEOUT"]`` bounds a fail-closed placement as a whole (the outbox
  passes each call what is left of that deadline through :func:`guarded`'s ``timeout``).
* Circuit breaker: after ``BREAKER_THRESHOLD`` consecutive connection failures/timeouts/5xx the
  circuit opens for ``BREAKER_COOLDOWN`` seconds and no process calls Talon.One; then one
  trial call is allowed (half-open). The state lives in Django's cache
  (``TALON["CACHE_ALIAS"]``), so it is shared by every process that shares that cache (Redis,
  Memcached, database cache). With the default ``LocMemCache`` it is per process.
* Kill switch: ``TALON["ENABLED"] = False`` in settings, or :func:`set_kill_switch` at run
  time (stored in the same cache), stops every API call; writes wait in the outbox.
* The guarded call path, :func:`guarded`: the one way the Django side calls Talon.One. It
  checks the kill switch and the breaker, hands out the client, records the outcome for the
  breaker and turns the client's errors into :mod:`django_talon.exceptions`. Inside the
  ``with`` block code speaks the client's language (it may catch ``TalonNotFound`` and call
  that a result); outside it, callers see only ``TalonUnavailableError`` and
  ``TalonRequestFailedError``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.core.cache import caches

from django_talon import conf
from django_talon.conf import talon_settings
from django_talon.exceptions import TalonRequestFailedError, TalonUnavailableError

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache

    from django_talon.client import TalonClient

logger = logging.getLogger("django_talon.resilience")

_FAILURES_KEY = "django_talon:breaker:failures"
_OPEN_UNTIL_KEY = "django_talon:breaker:open_until"
_TRIAL_KEY = "django_talon:breaker:trial"
_KILL_KEY = "django_talon:kill_switch"

_clients: dict[str, TalonClient] = {}
_clients_lock = threading.Lock()


def reset_clients() -> None:
    """Forget cached clients (called when ``settings.TALON`` changes)."""
    with _clients_lock:
        _clients.clear()


conf.reload_hooks.append(reset_clients)


def get_client(*, immediate: bool = False) -> TalonClient:
    """A configured :class:`~django_talon.client.TalonClient`.

    ``immediate=True`` returns a copy with the short ``IMMEDIATE_TIMEOUT`` and no retries,
    used for the attempt made while the customer waits for the next page.
    """
    from django_talon.client import RetryPolicy, TalonClient

    name = "immediate" if immediate else "default"
    with _clients_lock:
        client = _clients.get(name)
        if client is None:
            base = _clients.get("default")
            if base is None:
                base = TalonClient(
                    talon_settings.BASE_URL,
                    talon_settings.API_KEY,
                    timeout=talon_settings.timeout,
                    # The outbox owns retries across minutes; the client only smooths over a
                    # single 409/5xx/reset within one delivery attempt.
                    retry=RetryPolicy(
                        max_attempts=max(1, talon_settings.CLIENT_MAX_ATTEMPTS),
                        backoff_base=0.1,
                        backoff_max=0.5,
                    ),
                    application_id=talon_settings.APPLICATION_ID,
                    application_key=talon_settings.APPLICATION_KEY or None,
                )
                _clients["default"] = base
            client = base
            if immediate:
                client = base.with_options(
                    timeout=talon_settings.immediate_timeout, retry=RetryPolicy.none()
                )
                _clients["immediate"] = client
    return client


def within(seconds: float) -> tuple[float, float]:
    """The (connect, read) timeout of a call that must end within ``seconds`` (a deadline's
    remainder, for :func:`guarded`'s ``timeout``): ``TIMEOUT``'s parts, shortened so that
    together they stay within ``seconds`` (connecting gets at most a quarter of it).
    ``requests`` applies each part on its own, so ``seconds`` as one float would allow
    twice as long."""
    configured = talon_settings.timeout
    connect_cfg, read_cfg = configured if isinstance(configured, tuple) else (configured,) * 2
    connect = min(connect_cfg, seconds / 4)
    return (connect, min(read_cfg, seconds - connect))


def _cache() -> BaseCache:
    return caches[talon_settings.CACHE_ALIAS]


# -- kill switch ------------------------------------------------------------------------------
def set_kill_switch(on: bool) -> None:
    """Stop (``True``) or resume (``False``) all Talon.One calls in every process sharing the cache."""
    if on:
        _cache().set(_KILL_KEY, True, None)
        logger.warning("django-talon kill switch ON: no Talon.One calls until it is turned off")
    elif _cache().get(_KILL_KEY):
        _cache().delete(_KILL_KEY)
        logger.warning("django-talon kill switch off: Talon.One calls resume")


def is_enabled() -> bool:
    """False when ``TALON["ENABLED"]`` is off or the run-time kill switch is on."""
    if not talon_settings.ENABLED:
        return False
    return not bool(_cache().get(_KILL_KEY))


# -- circuit breaker --------------------------------------------------------------------------
class CircuitBreaker:
    """Counts consecutive failures in the cache; opens, then lets one trial call through."""

    def state(self) -> str:
        """``closed`` (calls allowed), ``open`` (refused) or ``half_open`` (one trial allowed)."""
        open_until = _cache().get(_OPEN_UNTIL_KEY)
        if open_until is None:
            return "closed"
        return "open" if time.time() < float(open_until) else "half_open"

    def open_until(self) -> float | None:
        value = _cache().get(_OPEN_UNTIL_KEY)
        return float(value) if value is not None else None

    def allow(self) -> bool:
        """May this process call Talon.One now?"""
        state = self.state()
        if state == "closed":
            return True
        if state == "open":
            return False
        # Half-open: exactly one caller (across processes) gets the trial.
        return bool(
            _cache().add(_TRIAL_KEY, True, max(1, math.ceil(talon_settings.BREAKER_COOLDOWN)))
        )

    def record_success(self) -> None:
        """Forget the failures. One cache read when there are none (the usual case: every
        successful call comes here, so a shared cache is not written each time)."""
        cache = _cache()
        keys = [_FAILURES_KEY, _OPEN_UNTIL_KEY, _TRIAL_KEY]
        found = cache.get_many(keys)
        if not found:
            return
        if found.get(_OPEN_UNTIL_KEY) is not None:
            logger.info("Talon.One answered again: circuit closed")
        cache.delete_many(keys)

    def record_failure(self) -> None:
        cache = _cache()
        cache.add(_FAILURES_KEY, 0, None)
        try:
            failures = cache.incr(_FAILURES_KEY)
        except ValueError:  # evicted between add and incr
            cache.set(_FAILURES_KEY, 1, None)
            failures = 1
        if failures >= talon_settings.BREAKER_THRESHOLD:
            until = time.time() + talon_settings.BREAKER_COOLDOWN
            cache.set(_OPEN_UNTIL_KEY, until, None)
            cache.delete(_TRIAL_KEY)
            logger.warning(
                "Talon.One failed %d times in a row: circuit open for %.0fs",
                failures,
                talon_settings.BREAKER_COOLDOWN,
            )

    def reset(self) -> None:
        _cache().delete_many([_FAILURES_KEY, _OPEN_UNTIL_KEY, _TRIAL_KEY])


breaker = CircuitBreaker()


def can_call() -> bool:
    """Kill switch off and circuit not open."""
    return is_enabled() and breaker.allow()


def is_outage(exc: BaseException) -> bool:
    """Errors that say "Talon.One is unreachable or broken" (they feed the breaker)."""
    from django_talon.client.errors import TalonConnectionError, TalonServerError

    return isinstance(exc, TalonConnectionError | TalonServerError)


def describe(exc: BaseException) -> str:
    """A log/admin-safe one-line description of an error (never includes the API key)."""
    return redact(f"{type(exc).__name__}: {exc}")[:2000]


def health() -> dict[str, Any]:
    """A snapshot for admin pages and ``talon_check``."""
    return {
        "enabled": is_enabled(),
        "breaker": breaker.state(),
        "open_until": breaker.open_until(),
    }


# -- the guarded call path --------------------------------------------------------------------
@contextmanager
def guarded(
    action: str,
    *,
    immediate: bool = False,
    timeout: float | tuple[float, float] | None = None,
) -> Iterator[TalonClient]:
    """Call Talon.One the one sanctioned way::

        with resilience.guarded("read the inventory") as client:
            answer = client.get_customer_inventory(integration_id)

    * Refuses with :class:`~django_talon.exceptions.TalonUnavailableError` when the kill
      switch is on or the circuit is open (no client is built, nothing is sent).
    * ``immediate=True`` gives the short-timeout client without retries (a customer waits);
      ``timeout`` overrides the timeout of this call alone (and turns client retries off).
    * A block that ends normally counts as a success for the breaker. An outage (no answer,
      timeout, 5xx) counts as a failure and is raised as ``TalonUnavailableError``; any
      other client error (4xx, undecodable answer, input refused before sending) is raised
      as :class:`~django_talon.exceptions.TalonRequestFailedError` with the status and
      Talon.One's message. Both chain the client's error (``__cause__``) and carry a
      redacted one-line description starting with ``action``.
    * Exceptions that are not the client's (database errors, a handler's own errors) pass
      through untouched.
    """
    from django_talon.client import RetryPolicy
    from django_talon.client.errors import TalonError

    if not can_call():
        raise TalonUnavailableError(
            f"{action}: Talon.One calls are switched off or the circuit is open"
        )
    client = get_client(immediate=immediate)
    if timeout is not None:
        client = client.with_options(timeout=timeout, retry=RetryPolicy.none())
    try:
        yield client
    except TalonError as exc:
        raise translate(exc, action) from exc
    breaker.record_success()


def translate(exc: BaseException, action: str) -> TalonUnavailableError:
    """The Django-side error for a client error (and the breaker's bookkeeping for it).

    :func:`guarded` is its one caller; it is public so that tests and a shop's own code
    that holds a client error can see what the Django side would make of it.
    """
    from django_talon.client.errors import (
        TalonAPIError,
        TalonBadRequest,
        TalonDecodeError,
        TalonNotFound,
        TalonValidationError,
    )

    text = f"{action}: {describe(exc)}" if action else describe(exc)
    if is_outage(exc):
        breaker.record_failure()
        return TalonUnavailableError(text)
    status: int | None = None
    api_message = ""
    errors: list[dict[str, Any]] = []
    if isinstance(exc, TalonAPIError):
        status, api_message, errors = exc.status, redact(exc.message), exc.errors
    elif isinstance(exc, TalonDecodeError):
        status = exc.status or None
    return TalonRequestFailedError(
        text,
        status=status,
        api_message=api_message,
        errors=errors,
        permanent=isinstance(exc, TalonBadRequest | TalonNotFound | TalonValidationError),
    )


def redact(text: str) -> str:
    """``text`` with the configured API key (and application key) replaced by ``***``."""
    for secret in (talon_settings.API_KEY, talon_settings.APPLICATION_KEY):
        if secret:
            text = text.replace(secret, "***")
    return text
