"""The price history of SKUs and the "best prior price" chosen from it.

The EU's Omnibus directive asks shops to show, next to a reduced price, the lowest price of
the last 30 days; Talon.One answers that from the prices it observed (catalog syncs, cart
items). :class:`PriceHistory` keeps those observations per SKU, at most
:data:`MAX_OBSERVATIONS` each (the oldest go first), and picks the best prior price:

- ``strict``: the lowest price in the ``timeframe`` days before ``timeframeEndDate``;
- ``price``: the window ends where the price valid at ``timeframeEndDate`` started (the
  price being compared is left out);
- ``sale``: the window ends where the current sale (prices lowered by a campaign) started;
  without a current sale, as ``strict``.

A price lowered by a campaign that only an audience's members get (an ``audienceMember``
condition) is that audience's price: it counts for an ``AUDIENCE`` target with that id and
not for ``NONE``, the price everyone was offered. Other prices count for every target.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django_talon.emulator.util import isoformat, money

#: Observations kept per SKU; older ones are dropped (constant memory in long runs).
MAX_OBSERVATIONS = 1000


@dataclass(frozen=True)
class PriceObservation:
    """One price of one SKU at one moment, with where it was seen and who lowered it."""

    id: int
    sku: str
    price: float
    observed_at: datetime
    context_ids: tuple[str, ...]
    campaigns: tuple[tuple[int, float], ...] = ()  # (campaign id, discount per unit)
    #: the audiences this price was offered to; None = everyone
    audiences: frozenset[int] | None = None

    def to_api(self, target: dict[str, Any]) -> dict[str, Any]:
        """``BestPriorPrice`` of the spec."""
        return {
            "id": self.id,
            "sku": self.sku,
            "observedAt": isoformat(self.observed_at),
            "contextIds": list(self.context_ids),
            "price": money(self.price),
            "metadata": {
                "influencingCampaignDetails": [
                    {"campaignId": cid, "discountValue": money(value)}
                    for cid, value in self.campaigns
                ]
            },
            "target": dict(target),
        }


@dataclass
class PriceHistory:
    """Observed prices per SKU (oldest first) and the best-prior-price query over them."""

    by_sku: dict[str, deque[PriceObservation]] = field(default_factory=dict)
    _next_id: int = 0

    def observe(
        self,
        sku: str,
        price: float,
        when: datetime,
        *,
        context_ids: list[str],
        campaigns: list[tuple[int, float]] | None = None,
        audiences: frozenset[int] | None = None,
    ) -> None:
        """Record a price; a repeat of the SKU's last price from the same kind of source is
        not recorded again (a cart updated ten times at one price is one observation)."""
        history = self.by_sku.get(sku)
        if history is None:  # (not setdefault: that would build a deque on every call)
            history = self.by_sku[sku] = deque(maxlen=MAX_OBSERVATIONS)
        last = history[-1] if history else None
        if (
            last is not None
            and last.price == price
            and (last.audiences is None) == (audiences is None)
            and last.campaigns == tuple(campaigns or ())
        ):
            return
        self._next_id += 1
        history.append(
            PriceObservation(
                id=self._next_id,
                sku=sku,
                price=price,
                observed_at=when,
                context_ids=tuple(context_ids),
                campaigns=tuple(campaigns or ()),
                audiences=audiences,
            )
        )

    def best(
        self,
        sku: str,
        end: datetime,
        timeframe: timedelta,
        end_type: str,
        audience: int | None = None,
    ) -> PriceObservation | None:
        """The lowest price in effect during the window (ties: the most recent), or ``None``.

        In effect: observed inside the window, or the last one before it (still valid when
        the window opened).
        """
        seen = [
            o
            for o in self.by_sku.get(sku, ())
            if o.observed_at <= end
            and (o.audiences is None or (audience is not None and audience in o.audiences))
        ]
        if not seen:
            return None
        window_end, exclusive = end, False
        if end_type == "price":
            latest = seen[-1].price
            window_end, exclusive = _start_of_current(seen, lambda o: o.price == latest), True
        elif end_type == "sale" and seen[-1].campaigns:
            window_end, exclusive = _start_of_current(seen, lambda o: bool(o.campaigns)), True
        start = window_end - timeframe
        before = [o for o in seen if o.observed_at < start]
        inside = [
            o
            for o in seen
            if start <= o.observed_at
            and (o.observed_at < window_end if exclusive else o.observed_at <= window_end)
        ]
        candidates = ([before[-1]] if before else []) + inside
        if not candidates:
            return None
        return min(reversed(candidates), key=lambda o: o.price)


def _start_of_current(
    seen: list[PriceObservation], same: Callable[[PriceObservation], bool]
) -> datetime:
    """When the run of observations at the end of ``seen`` that satisfy ``same`` began."""
    start = seen[-1].observed_at
    for observation in reversed(seen):
        if not same(observation):
            break
        start = observation.observed_at
    return start
