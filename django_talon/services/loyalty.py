"""A customer's loyalty points and achievements, read from Talon.One and remembered a while.

Talon.One keeps the ledger (what was earned, is pending, was spent, expires); django-talon
mirrors none of it. A page or API view showing it therefore reads it live, through
:func:`~django_talon.resilience.guarded` (one call path, the breaker, the app's own errors),
and the answer is remembered per customer in ``TALON["CACHE_ALIAS"]`` for
``TALON["LOYALTY_CACHE_SECONDS"]``, so a page re-rendered (or three tags on one page) costs
no further call. The remembered answers are keyed by the customer's last finished order
(the newest closed, cancelled or returned session): the moment a close, cancel or return
may have moved the ledger, the next read asks Talon.One again.

Spending points (:func:`redeem_points`) is the other half: the wish is stored on the local
session (``CustomerSession.points_to_redeem``) and sent with every session update as the
attribute ``TALON["LOYALTY_REDEEM_ATTRIBUTE"]``; the campaign's ``deductLoyaltyPoints`` rule
reads it and answers a discount, which the quote charges like any other. The close books
the deduction; a cancel or return gives the points back (Talon.One's rollback).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from django_talon.client.loyalty_models import (
    Achievement,
    LoyaltyBalance,
    LoyaltyPoints,
    LoyaltyTransaction,
)
from django_talon.conf import talon_settings
from django_talon.models import CustomerProfile, CustomerSession
from django_talon.moments import parse_for_shop
from django_talon.services.sessions import (
    OPEN,
    SessionOrCart,
    SessionStateError,
    _push,
    _resolve_locked,
)

logger = logging.getLogger("django_talon.services")

__all__ = [
    "ExpiringPoints",
    "LoyaltyHistory",
    "PointsBalance",
    "RedemptionError",
    "clear_redemption",
    "customer_achievements",
    "forget_loyalty",
    "join_loyalty_program",
    "known_balance",
    "loyalty_balance",
    "loyalty_cards",
    "loyalty_history",
    "redeem_points",
]

T = TypeVar("T")
_ZERO = Decimal(0)
_KEY = "django_talon:loyalty:{what}:{profile}:{version}"


class RedemptionError(ValueError):
    """The points cannot be spent as asked (not a whole number >= 0, more than the active
    balance, no signed-in customer, a finished cart). ``str(error)`` is a sentence a shop
    can show the shopper; nothing was saved or queued."""


@dataclass(frozen=True)
class ExpiringPoints:
    """Active points of one transaction that expire soon (within ``LOYALTY_EXPIRING_DAYS``).

    ``expiry_date`` follows the shop's ``USE_TZ`` like its model fields: aware, or naive
    local time (``TIME_ZONE``) under ``USE_TZ = False``."""

    amount: Decimal
    expiry_date: datetime


@dataclass(frozen=True)
class PointsBalance:
    """A customer's points in one program, as Talon.One answered (main ledger).

    ``found`` is False for a customer Talon.One does not know (yet) or who is not a member:
    shown as zero points, not an error. ``expiring`` are the active points that expire
    within ``TALON["LOYALTY_EXPIRING_DAYS"]``, soonest first; ``expiring_points`` their sum.
    """

    program_id: int
    found: bool = True
    active: Decimal = _ZERO
    pending: Decimal = _ZERO
    spent: Decimal = _ZERO
    expired: Decimal = _ZERO
    negative: Decimal = _ZERO
    expiring: tuple[ExpiringPoints, ...] = ()

    @property
    def expiring_points(self) -> Decimal:
        return sum((e.amount for e in self.expiring), _ZERO)

    @property
    def next_expiry(self) -> datetime | None:
        return self.expiring[0].expiry_date if self.expiring else None


@dataclass(frozen=True)
class LoyaltyHistory:
    """One page of a customer's ledger history, newest first (``has_more``: ask with a
    larger ``skip``)."""

    program_id: int
    entries: list[LoyaltyTransaction] = field(default_factory=list)
    has_more: bool = False
    found: bool = True


# -- who, which program, which cache entry ----------------------------------------------------
def _profile(user: Any) -> CustomerProfile | None:
    """The signed-in user's profile (None: anonymous, no profile yet, or erased)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        profile: CustomerProfile | None = user.talon_profile
    except CustomerProfile.DoesNotExist:
        return None
    if profile is None or profile.erased_at is not None:
        return None
    return profile


def _program(program_id: int | None) -> int:
    chosen = program_id if program_id is not None else talon_settings.LOYALTY_PROGRAM_ID
    if chosen is None:
        raise ImproperlyConfigured(
            "Set TALON['LOYALTY_PROGRAM_ID'] (or pass program_id=) to read or spend loyalty points"
        )
    return int(chosen)


def _version(profile: CustomerProfile) -> str:
    """What the remembered answers depend on: the customer's newest finished session (one
    query; a close, cancel, return or reopen changes it) and the customer's generation
    (:func:`forget_loyalty` bumps it)."""
    newest = (
        CustomerSession.objects.filter(profile=profile)
        .exclude(state=OPEN)
        .aggregate(at=Max("updated_at"))["at"]
    )
    generation = caches[talon_settings.CACHE_ALIAS].get(_generation_key(profile), 0)
    return f"{newest.isoformat() if newest is not None else 'none'}:{generation}"


def _generation_key(profile: CustomerProfile) -> str:
    return f"django_talon:loyalty:generation:{profile.pk}"


def _cache_key(what: str, profile: CustomerProfile) -> str:
    raw = _KEY.format(what=what, profile=profile.integration_id, version=_version(profile))
    return "django_talon:loyalty:" + hashlib.sha256(raw.encode()).hexdigest()


def _remembered(what: str, profile: CustomerProfile, fresh: bool, read: Callable[[], T]) -> T:
    """``read()`` once per customer and ledger version, then from the cache."""
    cache = caches[talon_settings.CACHE_ALIAS]
    key = _cache_key(what, profile)
    if not fresh:
        hit = cache.get(key)
        if hit is not None:
            remembered: T = hit
            return remembered
    value = read()
    cache.set(key, value, talon_settings.LOYALTY_CACHE_SECONDS)
    return value


def forget_loyalty(user: Any) -> None:
    """Drop what is remembered of ``user``'s loyalty (balance, history, achievements, cards).

    Needed only after a change django-talon does not see (points added by hand in the
    Campaign Manager, a join); closes, cancels and returns are seen by the cache key."""
    profile = _profile(user)
    if profile is None:
        return
    cache = caches[talon_settings.CACHE_ALIAS]
    key = _generation_key(profile)
    cache.set(key, int(cache.get(key, 0)) + 1, None)


# -- reads ------------------------------------------------------------------------------------
def _moment(text: str | None) -> datetime | None:
    """A timestamp of an answer (None for ``unlimited``, ``immediate``, ``on_action``), in
    the shop's convention: comparable with ``timezone.now()`` and shown in local time under
    ``USE_TZ = False`` too (an aware value there was a ``TypeError`` against the naive now)."""
    return parse_for_shop(text)


def known_balance(user: Any, *, program_id: int | None = None) -> PointsBalance | None:
    """The balance :func:`loyalty_balance` remembered for ``user``, or None: never an API
    call (one query for the cache key). For the pages every shopper sees (the cart's "use
    my points"): a read there that fails during an outage would count against the breaker
    the cart's own writes go through."""
    pid = _program(program_id)
    profile = _profile(user)
    if profile is None:
        return PointsBalance(program_id=pid, found=False)
    hit = caches[talon_settings.CACHE_ALIAS].get(_cache_key(f"balance:{pid}", profile))
    return hit if isinstance(hit, PointsBalance) else None


def loyalty_balance(
    user: Any, *, program_id: int | None = None, timeout: float | None = None, fresh: bool = False
) -> PointsBalance:
    """``user``'s points in the program (``TALON["LOYALTY_PROGRAM_ID"]`` by default).

    Two API calls when not remembered (the balances, and the active points to find the ones
    expiring soon), none when remembered; ``fresh`` skips the cache (spending points reads
    the balance fresh). An anonymous user, a user without a profile or unknown to Talon.One
    gets zero points (``found=False``), no error and no call. ``timeout`` (seconds, no
    retries) bounds the wait for a page.

    Raises :class:`~django_talon.exceptions.TalonUnavailableError` (calls switched off,
    breaker open, Talon.One unreachable or 5xx) and its subclass
    :class:`~django_talon.exceptions.TalonRequestFailedError` (another error answer).
    """
    pid = _program(program_id)
    profile = _profile(user)
    if profile is None:
        return PointsBalance(program_id=pid, found=False)
    return _remembered(
        f"balance:{pid}",
        profile,
        fresh,
        lambda: _read_balance(pid, profile.integration_id, timeout, profile.application),
    )


def _read_balance(
    program_id: int, integration_id: str, timeout: float | None, application: str | None = None
) -> PointsBalance:
    from django_talon import resilience
    from django_talon.client.errors import TalonNotFound

    with resilience.guarded(
        "read the loyalty balance", timeout=timeout, application=application
    ) as client:
        try:
            balances = client.get_loyalty_balances(program_id, integration_id)
            points = client.get_loyalty_program_profile_points(
                program_id, integration_id, status="active", sort="expiryDate", page_size=50
            )
        except TalonNotFound:  # not a member (yet), or not known to Talon.One: a result
            return PointsBalance(program_id=program_id, found=False)
    return points_balance(program_id, balances.balance, points.data)


def points_balance(
    program_id: int, ledger: LoyaltyBalance, active_points: Iterable[LoyaltyPoints]
) -> PointsBalance:
    """A :class:`PointsBalance` from a ledger's balance (a profile's or a card's) and its
    active points sorted by expiry: the points expiring within ``LOYALTY_EXPIRING_DAYS``."""
    horizon = timezone.now() + timedelta(days=talon_settings.LOYALTY_EXPIRING_DAYS)
    expiring = []
    for entry in active_points:
        expires = _moment(entry.expiry_date)
        if expires is not None and expires <= horizon and entry.amount > 0:
            expiring.append(ExpiringPoints(amount=entry.amount, expiry_date=expires))
    return PointsBalance(
        program_id=program_id,
        active=ledger.active_points,
        pending=ledger.pending_points,
        spent=ledger.spent_points,
        expired=ledger.expired_points,
        negative=ledger.negative_points,
        expiring=tuple(sorted(expiring, key=lambda e: e.expiry_date)),
    )


def loyalty_history(
    user: Any,
    *,
    program_id: int | None = None,
    page_size: int = 50,
    skip: int = 0,
    timeout: float | None = None,
    fresh: bool = False,
) -> LoyaltyHistory:
    """One page of ``user``'s ledger history, newest first (one API call when not
    remembered). Raises as :func:`loyalty_balance`."""
    pid = _program(program_id)
    profile = _profile(user)
    if profile is None:
        return LoyaltyHistory(program_id=pid, found=False)
    integration_id = profile.integration_id

    def read() -> LoyaltyHistory:
        from django_talon import resilience
        from django_talon.client.errors import TalonNotFound

        with resilience.guarded(
            "read the loyalty history", timeout=timeout, application=profile.application
        ) as client:
            try:
                page = client.get_loyalty_program_profile_transactions(
                    pid, integration_id, page_size=page_size, skip=skip
                )
            except TalonNotFound:
                return LoyaltyHistory(program_id=pid, found=False)
        return LoyaltyHistory(program_id=pid, entries=list(page.data), has_more=page.has_more)

    return _remembered(f"history:{pid}:{page_size}:{skip}", profile, fresh, read)


def customer_achievements(
    user: Any, *, timeout: float | None = None, fresh: bool = False
) -> list[Achievement]:
    """The achievements ``user`` can work on, each with their progress (one API call when
    not remembered; an unknown customer has none). Raises as :func:`loyalty_balance`."""
    profile = _profile(user)
    if profile is None:
        return []
    integration_id = profile.integration_id

    def read() -> list[Achievement]:
        from django_talon import resilience
        from django_talon.client.errors import TalonNotFound

        with resilience.guarded(
            "read the achievements", timeout=timeout, application=profile.application
        ) as client:
            try:
                page = client.get_customer_achievements(integration_id)
            except TalonNotFound:
                return []
        return list(page.data)

    return _remembered("achievements", profile, fresh, read)


def loyalty_cards(user: Any, *, timeout: float | None = None, fresh: bool = False) -> list[Any]:
    """The loyalty cards linked to ``user`` (card-based programs), as
    :class:`~django_talon.client.loyalty_models.LoyaltyCard` with their ledger (one
    inventory call when not remembered)."""
    from django_talon.client.loyalty_models import LoyaltyCard

    profile = _profile(user)
    if profile is None:
        return []
    integration_id = profile.integration_id

    def read() -> list[Any]:
        from django_talon import resilience
        from django_talon.client.errors import TalonNotFound

        with resilience.guarded(
            "read the loyalty cards", timeout=timeout, application=profile.application
        ) as client:
            try:
                answer = client.get_customer_inventory(
                    integration_id, coupons=False, referrals=False, loyalty=True
                )
            except TalonNotFound:
                return []
        raw = dict(getattr(answer, "raw", None) or {})
        loyalty = raw.get("loyalty") if isinstance(raw.get("loyalty"), dict) else {}
        cards = loyalty.get("cards") if isinstance(loyalty, dict) else None
        return [LoyaltyCard.from_json(c) for c in cards or [] if isinstance(c, dict)]

    return _remembered("cards", profile, fresh, read)


def join_loyalty_program(user: Any, *, program_id: int | None = None) -> bool:
    """Make ``user`` a member of the program now (one synchronous, repeatable call: the
    customer is waiting for "you are in"). Returns False for a user without a profile.

    Not queued in the outbox: joining twice is a no-op for Talon.One, and the shop wants the
    verdict on the page. Raises as :func:`loyalty_balance`.
    """
    from django_talon import resilience

    pid = _program(program_id)
    profile = _profile(user)
    if profile is None:
        return False
    with resilience.guarded("join the loyalty program", application=profile.application) as client:
        client.join_loyalty_program(pid, profile.integration_id)
    forget_loyalty(user)
    return True


# -- spending points at checkout --------------------------------------------------------------
#: Points of 10**18 or more are refused before they are made an ``int`` (no balance holds
#: them; Talon.One's balances are numbers well below that).
MAX_POINTS_DIGITS = 18


def _whole_points(points: Any) -> int:
    if isinstance(points, bool) or not isinstance(points, int | str | Decimal):
        raise RedemptionError(_("Enter a whole number of points (0 or more)."))
    try:
        number = Decimal(str(points).strip())
    except ArithmeticError as exc:
        raise RedemptionError(_("Enter a whole number of points (0 or more).")) from exc
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise RedemptionError(_("Enter a whole number of points (0 or more)."))
    if number.adjusted() >= MAX_POINTS_DIGITS:
        # Refused before ``int()``: "1e999999" from the shop's points form was a
        # million-digit int, half a minute of CPU in the request, before any balance check.
        raise RedemptionError(_("That is more points than any balance holds."))
    return int(number)


def redeem_points(
    target: SessionOrCart, points: Any, *, program_id: int | None = None
) -> CustomerSession:
    """Ask to spend ``points`` on the cart (a shop cart or its ``CustomerSession``).

    The points must be a whole number >= 0 and at most the customer's active balance (read
    fresh from Talon.One: one or two API calls); 0 clears the wish. The wish is saved on the
    session and queued like any cart change, so Talon.One's ``deductLoyaltyPoints`` rule sees
    it in the attribute ``TALON["LOYALTY_REDEEM_ATTRIBUTE"]`` and answers the discount the
    quote then charges; the close spends the points. Raises :class:`RedemptionError` (with a
    sentence for the shopper) and, when the balance cannot be read,
    :class:`~django_talon.exceptions.TalonUnavailableError`.
    """
    wanted = _whole_points(points)
    if wanted == 0:
        return clear_redemption(target)
    preview = _preview(target)
    user = preview.profile.user if preview.profile is not None else None
    if user is None:
        raise RedemptionError(_("Sign in to pay with your points."))
    balance = loyalty_balance(user, program_id=program_id, fresh=True)
    if wanted > balance.active:
        active = balance.active.normalize()
        raise RedemptionError(
            ngettext(
                "You have %(active)s point to spend; %(wanted)s is more than that.",
                "You have %(active)s points to spend; %(wanted)s is more than that.",
                int(active) if active == active.to_integral_value() else 2,  # 1.5 points
            )
            # The numbers as the page shows the balance ("1.093" in German), not "1093".
            % {"active": number_format(active), "wanted": number_format(wanted)}
        )
    return _store_wish(target, wanted)


def clear_redemption(target: SessionOrCart) -> CustomerSession:
    """Spend no points on the cart: the attribute is sent as 0 (Talon.One keeps an
    attribute an update leaves out, so dropping it would leave the old wish). No API call
    beyond the queued session update; nothing is queued when no wish was ever made."""
    session = _preview(target)
    if session.points_to_redeem is None:
        return session
    return _store_wish(target, 0)


def _preview(target: SessionOrCart) -> CustomerSession:
    """The open session of ``target`` (not locked: for the checks before the write)."""
    if isinstance(target, CustomerSession):
        session = target
    else:
        from django_talon.services.sessions import session_for_cart

        found = session_for_cart(target, create=False)
        if found is None:
            raise RedemptionError(_("Add something to your cart first."))
        session = found
    if session.state != OPEN:
        raise RedemptionError(_("This cart is already checked out."))
    return session


def _store_wish(target: SessionOrCart, points: int) -> CustomerSession:
    with transaction.atomic(savepoint=False):
        session = _resolve_locked(target, create=False)
        if session.state != OPEN:
            raise SessionStateError(f"session {session.integration_id} is {session.state}")
        session.points_to_redeem = points
        _push(session, fields=("points_to_redeem",))
    return session
