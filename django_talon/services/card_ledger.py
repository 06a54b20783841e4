"""One of a customer's loyalty cards (card-based programs): its points and its history.

In a card-based program Talon.One keeps the points on a card, not on the customer; a
customer sees the cards linked to their profile (:func:`~django_talon.services.loyalty.
loyalty_cards`, from the customer inventory). :func:`loyalty_card` reads one of them in
full. A card identifier comes from the shopper (a URL, a form), so it is only read when the
customer inventory lists it as linked to this customer *and* the card's own answer names
the customer among its profiles: a customer never sees another customer's card, also not
one unlinked a moment ago. Reads are remembered like the other loyalty reads (per customer
and ledger version, ``TALON["LOYALTY_CACHE_SECONDS"]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django_talon.client.loyalty_models import LoyaltyCard, LoyaltyTransaction
from django_talon.services.loyalty import (
    PointsBalance,
    _profile,
    _remembered,
    loyalty_cards,
    points_balance,
)

__all__ = ["CardLedger", "loyalty_card"]


@dataclass(frozen=True)
class CardLedger:
    """A card of the customer: ``card`` (identifier, status, program, linked profiles),
    its ``balance`` (as :class:`~django_talon.services.loyalty.PointsBalance`, of the
    card's program) and one page of its ``history``, newest first (``has_more``: ask with a
    larger ``skip``)."""

    card: LoyaltyCard
    balance: PointsBalance
    history: list[LoyaltyTransaction] = field(default_factory=list)
    has_more: bool = False

    @property
    def identifier(self) -> str:
        return self.card.identifier

    @property
    def program_id(self) -> int:
        return self.balance.program_id


def loyalty_card(
    user: Any,
    card_id: str,
    *,
    page_size: int = 50,
    skip: int = 0,
    timeout: float | None = None,
    fresh: bool = False,
) -> CardLedger | None:
    """``user``'s card ``card_id`` with its balance and history, or None when it is not
    a card linked to ``user`` (anonymous, no profile, unknown card, another's card).

    When not remembered: the inventory (itself remembered, see ``loyalty_cards``) and three
    calls (the card's balances, its active points for the ones expiring soon, its
    transactions). Raises as :func:`~django_talon.services.loyalty.loyalty_balance`.
    """
    profile = _profile(user)
    if profile is None:
        return None
    card = next(
        (c for c in loyalty_cards(user, timeout=timeout, fresh=fresh) if c.identifier == card_id),
        None,
    )
    if card is None or card.program_id is None or not _linked(card, profile.integration_id):
        return None
    program_id, integration_id = card.program_id, profile.integration_id

    def read() -> CardLedger | None:
        return _read_card(
            card, program_id, integration_id, page_size, skip, timeout, profile.application
        )

    return _remembered(f"card:{program_id}:{card_id}:{page_size}:{skip}", profile, fresh, read)


def _linked(card: Any, integration_id: str) -> bool:
    return any(p.integration_id == integration_id for p in getattr(card, "profiles", ()))


def _read_card(
    card: LoyaltyCard,
    program_id: int,
    integration_id: str,
    page_size: int,
    skip: int,
    timeout: float | None,
    application: str | None = None,
) -> CardLedger | None:
    from django_talon import resilience
    from django_talon.client.errors import TalonNotFound

    with resilience.guarded(
        "read a loyalty card", timeout=timeout, application=application
    ) as client:
        try:
            balances = client.get_loyalty_card_balances(program_id, card.identifier)
            if not _linked(balances, integration_id):  # unlinked since the inventory read
                return None
            points = client.get_loyalty_card_points(
                program_id, card.identifier, status="active", sort="expiryDate", page_size=50
            )
            page = client.get_loyalty_card_transactions(
                program_id, card.identifier, page_size=page_size, skip=skip
            )
        except TalonNotFound:  # the card was deleted since the inventory read
            return None
    balance = points_balance(program_id, balances.balance, points.data)
    return CardLedger(card=card, balance=balance, history=list(page.data), has_more=page.has_more)
