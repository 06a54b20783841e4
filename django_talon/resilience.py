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
* Several Applications (``TALON["APPLICATIONS"]``): each has its own client, circuit
  breaker and run-time kill switch (``application=`` of :func:`get_client`,
  :func:`breaker_for`, :func:`set_kill_switch`, :func:`guarded`); one Application's outage
  never stops the other's calls. ``None`` is the default Application, whose cache keys are
  those of a single-Application shop.
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
import os
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

_clients: dict[tuple[str, bool], TalonClient] = {}
_clients_lock = threading.Lock()


def reset_clients() -> None:
    """Forget cached clients (called when ``settings.TALON`` changes)."""
    with _clients_lock:
        _clients.clear()


conf.reload_hooks.append(reset_clients)


def _forget_clients_in_child() -> None:
    """After ``fork()``: the child starts without the parent's clients.

    Why: a client's ``requests.Session`` keeps keep-alive sockets. A process that called
    Talon.One before forking its workers (gunicorn's ``preload_app``, a Celery prefork
    parent, a start-up check) would hand the same sockets to every child, and two processes
    writing to and reading from one socket interleave their bytes: one customer's answer
    reaches another process, or a request body arrives garbled. The lock is made anew too:
    another thread of the parent may have held it at the moment of the fork.
    """
    global _clients_lock
    _clients_lock = threading.Lock()
    _clients.clear()  # the sockets stay open for the parent; the child never touches them


if hasattr(os, "register_at_fork"):  # every POSIX system; Windows has no fork
    os.register_at_fork(after_in_child=_forget_clients_in_child)


def application_name(application: str | None = None) -> str:
    """The configured name ``application`` stands for (None and ``"default"``: the default
    Application); ``LookupError`` for a name ``TALON["APPLICATIONS"]`` does not have."""
    return talon_settings.config.application(application).name


def knows_application(application: str) -> bool:
    """Is ``application`` a configured Application (``"default"`` always is)?"""
    return application == conf.DEFAULT_APPLICATION or application in talon_settings.applications


def unknown(application: str) -> str:
    """Why a row or session of an Application no longer configured cannot be sent."""
    return (
        f"no Talon.One Application {application!r} in TALON['APPLICATIONS'] "
        f"(known: {', '.join(talon_settings.applications)})"
    )


def get_client(*, immediate: bool = False, application: str | None = None) -> TalonClient:
    """A configured :class:`~django_talon.client.TalonClient` for ``application`` (None: the
    default one), with that Application's base URL and key.

    ``immediate=True`` returns a copy with the short ``IMMEDIATE_TIMEOUT`` and no retries,
    used for the attempt made while the customer waits for the next page.
    """
    from django_talon.client import RetryPolicy, TalonClient

    app = talon_settings.config.application(application)
    with _clients_lock:
        client = _clients.get((app.name, immediate))
        if client is None:
            base = _clients.get((app.name, False))
            if base is None:
                base = TalonClient(
                    app.BASE_URL,
                    app.API_KEY,
                    timeout=talon_settings.timeout,
                    # The outbox owns retries across minutes; the client only smooths over a
                    # single 409/5xx/reset within one delivery attempt.
                    retry=RetryPolicy(
                        max_attempts=max(1, talon_settings.CLIENT_MAX_ATTEMPTS),
                        backoff_base=0.1,
                        backoff_max=0.5,
                    ),
                    application_id=app.APPLICATION_ID,
                    application_key=app.APPLICATION_KEY or None,
                )
                _clients[(app.name, False)] = base
            client = base
            if immediate:
                client = base.with_options(
                    timeout=talon_settings.immediate_timeout, retry=RetryPolicy.none()
                )
                _clients[(app.name, True)] = client
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


def _scoped(key: str, application: str | None) -> str:
    """``key`` for one Application: the single-Application key for the one named
    ``"default"`` (so a shop that adds ``APPLICATIONS`` later keeps its state), else
    ``key:<name>``. A name no longer configured keeps a key of its own (state is read, never
    a ``LookupError``: pages that only ask "is it down?" must not fail)."""
    known = application is None or knows_application(application)
    name = application_name(application) if known else str(application)
    return key if name == conf.DEFAULT_APPLICATION else f"{key}:{name}"


# -- kill switch ------------------------------------------------------------------------------
def set_kill_switch(on: bool, *, application: str | None = None) -> None:
    """Stop (``True``) or resume (``False``) Talon.One calls in every process sharing the
    cache: all of them, or only those to ``application`` (a name of ``APPLICATIONS``)."""
    key = _KILL_KEY if application is None else _scoped(_KILL_KEY, application)
    where = "" if application is None else f" to Application {application_name(application)!r}"
    if on:
        _cache().set(key, True, None)
        logger.warning(
            "django-talon kill switch ON: no Talon.One calls%s until it is turned off", where
        )
    elif _cache().get(key):
        _cache().delete(key)
        logger.warning("django-talon kill switch off: Talon.One calls%s resume", where)


def is_enabled(application: str | None = None) -> bool:
    """False when ``TALON["ENABLED"]`` is off or the run-time kill switch is on (the one for
    every Application, or, given ``application``, that Application's own)."""
    if not talon_settings.ENABLED:
        return False
    if application is None:
        return not bool(_cache().get(_KILL_KEY))
    found = _cache().get_many([_KILL_KEY, _scoped(_KILL_KEY, application)])
    return not any(found.values())


# -- circuit breaker --------------------------------------------------------------------------
class CircuitBreaker:
    """Counts consecutive failures in the cache; opens, then lets one trial call through.

    One per Application (``application``; None: the default one, resolved at each call, so
    the module's :data:`breaker` follows settings changes)."""

    def __init__(self, application: str | None = None) -> None:
        self.application = application

    def _keys(self) -> tuple[str, str, str]:
        """(failures, open until, trial) cache keys of this breaker's Application."""
        return (
            _scoped(_FAILURES_KEY, self.application),
            _scoped(_OPEN_UNTIL_KEY, self.application),
            _scoped(_TRIAL_KEY, self.application),
        )

    def state(self) -> str:
        """``closed`` (calls allowed), ``open`` (refused) or ``half_open`` (one trial allowed)."""
        open_until = _cache().get(self._keys()[1])
        if open_until is None:
            return "closed"
        return "open" if time.time() < float(open_until) else "half_open"

    def open_until(self) -> float | None:
        value = _cache().get(self._keys()[1])
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
            _cache().add(self._keys()[2], True, max(1, math.ceil(talon_settings.BREAKER_COOLDOWN)))
        )

    def record_success(self) -> None:
        """Forget the failures. One cache read when there are none (the usual case: every
        successful call comes here, so a shared cache is not written each time)."""
        cache = _cache()
        keys = list(self._keys())
        found = cache.get_many(keys)
        if not found:
            return
        if found.get(keys[1]) is not None:
            logger.info("Talon.One answered again: circuit closed")
        cache.delete_many(keys)

    def record_failure(self) -> None:
        cache = _cache()
        failures_key, open_until_key, trial_key = self._keys()
        cache.add(failures_key, 0, None)
        try:
            failures = cache.incr(failures_key)
        except ValueError:  # evicted between add and incr
            cache.set(failures_key, 1, None)
            failures = 1
        if failures >= talon_settings.BREAKER_THRESHOLD:
            until = time.time() + talon_settings.BREAKER_COOLDOWN
            cache.set(open_until_key, until, None)
            cache.delete(trial_key)
            logger.warning(
                "Talon.One (Application %r) failed %d times in a row: circuit open for %.0fs",
                application_name(self.application),
                failures,
                talon_settings.BREAKER_COOLDOWN,
            )

    def reset(self) -> None:
        _cache().delete_many(list(self._keys()))


#: The default Application's breaker (a single-Application shop's only one).
breaker = CircuitBreaker()


def breaker_for(application: str | None) -> CircuitBreaker:
    """The circuit breaker of ``application`` (None: the default one, :data:`breaker`)."""
    return breaker if application is None else CircuitBreaker(application)


def reset_breakers() -> None:
    """Close every Application's circuit (the operator says Talon.One is back)."""
    for name in talon_settings.applications:
        breaker_for(name).reset()


def can_call(application: str | None = None) -> bool:
    """Kill switch off and circuit not open (for ``application``; None: the default one)."""
    name = application_name(application)
    return is_enabled(name) and breaker_for(name).allow()


def is_outage(exc: BaseException) -> bool:
    """Errors that say "Talon.One is unreachable or broken" (they feed the breaker)."""
    from django_talon.client.errors import TalonConnectionError, TalonServerError

    return isinstance(exc, TalonConnectionError | TalonServerError)


def describe(exc: BaseException) -> str:
    """A log/admin-safe one-line description of an error (never includes the API key)."""
    return redact(f"{type(exc).__name__}: {exc}")[:2000]


def health() -> dict[str, Any]:
    """A snapshot for admin pages and ``talon_check`` (the default Application's breaker;
    with ``APPLICATIONS``, ``"applications"`` holds each one's)."""
    snapshot: dict[str, Any] = {
        "enabled": is_enabled(),
        "breaker": breaker.state(),
        "open_until": breaker.open_until(),
    }
    if talon_settings.APPLICATIONS:
        snapshot["applications"] = {
            name: {
                "enabled": is_enabled(name),
                "breaker": breaker_for(name).state(),
                "open_until": breaker_for(name).open_until(),
                "currency": app.CURRENCY,
            }
            for name, app in talon_settings.config.applications.items()
        }
    return snapshot


# -- the guarded call path --------------------------------------------------------------------
@contextmanager
def guarded(
    action: str,
    *,
    immediate: bool = False,
    timeout: float | tuple[float, float] | None = None,
    application: str | None = None,
) -> Iterator[TalonClient]:
    """Call Talon.One the one sanctioned way::

        with resilience.guarded("read the inventory") as client:
            answer = client.get_customer_inventory(integration_id)

    * Refuses with :class:`~django_talon.exceptions.TalonUnavailableError` when the kill
      switch is on or the circuit is open (no client is built, nothing is sent).
    * ``immediate=True`` gives the short-timeout client without retries (a customer waits);
      ``timeout`` overrides the timeout of this call alone (and turns client retries off).
    * ``application``: the Application to call (None: the default one); its own kill switch
      and breaker decide and count.
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

    name = application_name(application)
    if not can_call(name):
        raise TalonUnavailableError(
            f"{action}: Talon.One calls are switched off or the circuit is open"
        )
    client = get_client(immediate=immediate, application=name)
    if timeout is not None:
        client = client.with_options(timeout=timeout, retry=RetryPolicy.none())
    try:
        yield client
    except TalonError as exc:
        raise translate(exc, action, application=name) from exc
    breaker_for(name).record_success()


def translate(
    exc: BaseException, action: str, *, application: str | None = None
) -> TalonUnavailableError:
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
        breaker_for(application).record_failure()
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
    """``text`` with every configured API key (and application key) replaced by ``***``."""
    secrets = [talon_settings.API_KEY, talon_settings.APPLICATION_KEY]
    for app in talon_settings.config.applications.values():
        secrets += [app.API_KEY, app.APPLICATION_KEY]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
