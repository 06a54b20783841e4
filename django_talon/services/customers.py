"""Reads about one customer: the Talon.One inventory (live) and referral codes (mirror).

The inventory (coupons, referrals, loyalty balances) is not mirrored locally, so reading it
is one of the few places where django-talon calls Talon.One synchronously. Callers are pages
and API views a customer is waiting on, so every failure is mapped to the app's own
exceptions (:class:`~django_talon.exceptions.TalonUnavailableError` and its subclass
:class:`~django_talon.exceptions.TalonRequestFailedError`, by way of
:func:`~django_talon.resilience.guarded`): a shop catches one exception and shows "not
available right now" instead of answering a 500.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django_talon.exceptions import TalonUnavailableError
from django_talon.models import CustomerProfile, Referral
from django_talon.promotions import (
    LoyaltyBalance,
    loyalty_balances_from_inventory,
    remember_inventory,
)

logger = logging.getLogger("django_talon.services")

__all__ = ["CustomerInventory", "customer_inventory", "referrals_for_user"]


@dataclass(frozen=True)
class CustomerInventory:
    """A customer's Talon.One inventory, as far as it was requested.

    ``found`` is False when Talon.One (or django-talon) does not know the customer yet: a
    normal state for a new customer, shown as an empty inventory. The lists hold Talon.One's
    JSON objects as sent (``coupons[i]["value"]``, ``referrals[i]["code"]``, ...);
    ``loyalty_balances`` are the parsed per-programme balances.
    """

    integration_id: str
    found: bool = True
    coupons: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    loyalty: dict[str, Any] | None = None
    loyalty_balances: list[LoyaltyBalance] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _existing_profile(user: Any) -> CustomerProfile | None:
    try:
        profile: CustomerProfile | None = user.talon_profile
    except CustomerProfile.DoesNotExist:
        return None
    if profile is not None and profile.erased_at is not None:
        return None
    return profile


def customer_inventory(
    user: Any,
    *,
    coupons: bool = True,
    loyalty: bool = True,
    referrals: bool = True,
    timeout: float | None = None,
) -> CustomerInventory:
    """Fetch ``user``'s inventory from Talon.One now (one API call, synchronous).

    ``timeout`` (seconds, no retries) bounds the wait for a page render; by default the
    background ``TALON["TIMEOUT"]`` with its retries is used. A user without a local profile
    or unknown to Talon.One gives an empty inventory (``found=False``) without an error. The
    loyalty balances are remembered (``TALON["CACHE_ALIAS"]``, a day) so that
    ``{% talon_loyalty %}`` can show them later without an API call.

    Raises :class:`~django_talon.exceptions.TalonUnavailableError` when the kill switch or
    the circuit breaker stops calls or Talon.One is unreachable/slow/5xx (these count against
    the breaker), and :class:`~django_talon.exceptions.TalonRequestFailedError` (a subclass,
    with the ``status``) for any other error answer.
    """
    from django_talon import resilience
    from django_talon.client.errors import TalonNotFound

    if user is None or not getattr(user, "is_authenticated", False):
        return CustomerInventory(integration_id="", found=False)
    profile = _existing_profile(user)
    if profile is None:
        return CustomerInventory(integration_id="", found=False)
    integration_id = profile.integration_id
    try:
        with resilience.guarded(
            "read the inventory", timeout=timeout, application=profile.application
        ) as client:
            try:
                answer = client.get_customer_inventory(
                    integration_id, coupons=coupons, referrals=referrals, loyalty=loyalty
                )
            except TalonNotFound:  # Talon.One does not know the customer yet: a result
                return CustomerInventory(integration_id=integration_id, found=False)
    except TalonUnavailableError as exc:
        if exc.__cause__ is not None:  # a failed call, not calls switched off
            logger.warning("Inventory of %s failed: %s", integration_id, exc)
        raise
    raw = dict(getattr(answer, "raw", None) or {})
    if loyalty:
        remember_inventory(integration_id, raw)
    return CustomerInventory(
        integration_id=integration_id,
        coupons=_objects(raw.get("coupons")),
        referrals=_objects(raw.get("referrals")),
        loyalty=raw.get("loyalty") if isinstance(raw.get("loyalty"), dict) else None,
        loyalty_balances=loyalty_balances_from_inventory(raw) if loyalty else [],
        raw=raw,
    )


def _objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list from an answer; anything of another shape is dropped."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def referrals_for_user(user: Any) -> list[Referral]:
    """The referral codes ``user`` created (local mirror, newest first; one query, no API call).

    Codes are mirrored by :func:`~django_talon.services.create_referral`; an anonymous user
    has none.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return list(
        Referral.objects.filter(advocate__user=user, advocate__erased_at__isnull=True).order_by(
            "-created_at", "-pk"
        )
    )
