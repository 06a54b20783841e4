"""A loyalty ledger: the points of one customer (or one card) in one program.

Points are earned in entries (``addLoyaltyPoints`` at session close, or a rollback of spent
points), each pending until its start date or its activation, then active until it expires;
spending (``deductLoyaltyPoints``) takes from the active entries that expire first and
remembers what it took, so a cancel or a return can put exactly those points back. A
rollback of earned points takes them from what is left of that entry, then from the other
active points (as spending does); only what no active point covers becomes a negative
balance, which later points pay off first. The spec's balances say a negative balance
"implies that currentBalance is 0", so the balances never show both. Every change is also
written to the transaction log the API lists.

Plain data and arithmetic, no locking and no HTTP: :mod:`.loyalty` (the store mixin) owns
the ledgers and calls in here under the store lock. Amounts are rounded to cents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django_talon.emulator.util import isoformat, money

#: sort key for "never expires": after every real date
_NEVER = datetime.max.replace(tzinfo=None)


@dataclass
class PointsEntry:
    """Points added at once (one transaction UUID), and what is left of them."""

    id: int
    uuid: str
    sub_ledger: str
    amount: float
    name: str
    created: datetime
    start: datetime
    expiry: datetime | None
    session_id: str = ""
    profile_id: str = ""  # the customer who earned them (on a card: one of its customers)
    awaits_activation: bool = False
    validity: timedelta | None = None  # awaiting activation: active this long from then
    remaining: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.remaining < 0:
            self.remaining = self.amount

    def status(self, at: datetime) -> str:
        """``pending``, ``active`` or ``expired`` at the moment ``at``."""
        if self.awaits_activation or self.start > at:
            return "pending"
        if self.expiry is not None and self.expiry <= at:
            return "expired"
        return "active"

    def expiry_key(self) -> tuple[datetime, int]:
        moment = self.expiry.replace(tzinfo=None) if self.expiry is not None else _NEVER
        return moment, self.id

    def to_points_api(self, program_id: int, *, card: bool) -> dict[str, Any]:
        """``LedgerPointsEntryIntegrationAPI`` (or the card flavour)."""
        data: dict[str, Any] = {
            "id": self.id,
            "transactionUUID": self.uuid,
            "created": isoformat(self.created),
            "programId": program_id,
            "name": self.name,
            "startDate": "on_action"
            if self.awaits_activation
            else ("immediate" if self.start <= self.created else isoformat(self.start)),
            "expiryDate": "unlimited" if self.expiry is None else isoformat(self.expiry),
            "subledgerId": self.sub_ledger,
            "amount": self.remaining,
        }
        if self.session_id:
            data["customerSessionId"] = self.session_id
        if card and self.profile_id:
            data["customerProfileID"] = self.profile_id
        if self.validity is not None:
            data["validityDuration"] = f"{int(self.validity.total_seconds() // 86400)}D"
        return data


@dataclass
class Spend:
    """One deduction and the entries it took its points from (for an exact rollback)."""

    uuid: str
    sub_ledger: str
    amount: float
    taken: list[tuple[PointsEntry, float]] = field(default_factory=list)


@dataclass
class LogEntry:
    """One line of the transaction log (``LedgerTransactionLogEntryIntegrationAPI``)."""

    id: int
    uuid: str
    kind: str  # addition / subtraction
    amount: float
    name: str
    created: datetime
    sub_ledger: str
    start: str = "immediate"
    expiry: str = "unlimited"
    session_id: str = ""
    source: str = "session"  # the API's loyaltyTransactionType: session / manual / import
    awaits_activation: bool = False
    ruleset_id: int | None = None
    rule_name: str = ""
    negative: bool = False

    def to_api(self, program_id: int, card: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "transactionUUID": self.uuid,
            "created": isoformat(self.created),
            "programId": program_id,
            "type": self.kind,
            "name": self.name,
            "startDate": self.start,
            "expiryDate": self.expiry,
            "subledgerId": self.sub_ledger,
            "amount": self.amount,
        }
        if self.session_id:
            data["customerSessionId"] = self.session_id
        if self.ruleset_id is not None:
            data["rulesetId"] = self.ruleset_id
            data["ruleName"] = self.rule_name
        if card is not None:
            data["cardIdentifier"] = card
        elif self.negative:
            data["flags"] = {"createsNegativeBalance": True}
        return data


@dataclass
class Ledger:
    """All points of one owner (a profile or a card) in one program, per sub-ledger."""

    program_id: int
    owner: str  # profile integration id or card identifier
    card: bool = False
    joined: datetime | None = None
    entries: list[PointsEntry] = field(default_factory=list)
    spends: dict[str, Spend] = field(default_factory=dict)
    log: list[LogEntry] = field(default_factory=list)
    negative: dict[str, float] = field(default_factory=dict)

    # ---------------------------------------------------------------------------- reading

    def sub_ledgers(self) -> list[str]:
        names = {e.sub_ledger for e in self.entries} | set(self.negative)
        names |= {s.sub_ledger for s in self.spends.values()}
        return sorted(names - {""})

    def balance(self, at: datetime, sub_ledger: str = "") -> dict[str, float]:
        """``LoyaltyBalance`` of one sub-ledger (``""``: the main ledger) at ``at``.

        Active points and a negative balance are netted: a rollback and every later addition
        already settle them, but points still pending then (or read at a later ``at``) may be
        active next to an unpaid negative balance, and the spec says ``negativePoints``
        "implies that activePoints is 0".
        """
        totals = {"active": 0.0, "pending": 0.0, "expired": 0.0}
        for entry in self.entries:
            if entry.sub_ledger == sub_ledger:
                totals[entry.status(at)] += entry.remaining
        spent = sum(s.amount for s in self.spends.values() if s.sub_ledger == sub_ledger)
        net = money(totals["active"] - self.negative.get(sub_ledger, 0.0))
        return {
            "activePoints": max(0.0, net),
            "pendingPoints": money(totals["pending"]),
            "spentPoints": money(spent),
            "expiredPoints": money(totals["expired"]),
            "negativePoints": max(0.0, -net),
        }

    def spendable(self, at: datetime, sub_ledger: str = "") -> float:
        """Active points, less a negative balance (which is paid off first)."""
        return self.balance(at, sub_ledger)["activePoints"]

    def _take_active(
        self, sub_ledger: str, amount: float, at: datetime
    ) -> list[tuple[PointsEntry, float]]:
        """Take up to ``amount`` from the active entries, soonest expiring first."""
        taken: list[tuple[PointsEntry, float]] = []
        left = money(amount)
        active = [
            e for e in self.entries if e.sub_ledger == sub_ledger and e.status(at) == "active"
        ]
        for entry in sorted(active, key=PointsEntry.expiry_key):
            if left <= 0:
                break
            take = money(min(entry.remaining, left))
            if take <= 0:
                continue
            entry.remaining = money(entry.remaining - take)
            taken.append((entry, take))
            left = money(left - take)
        return taken

    def _pay_off(self, sub_ledger: str, at: datetime) -> None:
        """Settle a negative balance from the active points (after points came back)."""
        owed = self.negative.get(sub_ledger, 0.0)
        if owed <= 0:
            return
        paid = sum(took for _, took in self._take_active(sub_ledger, owed, at))
        self.negative[sub_ledger] = money(owed - paid)
        if self.negative[sub_ledger] <= 0:
            del self.negative[sub_ledger]

    # ---------------------------------------------------------------------------- changing

    def add(self, entry: PointsEntry, log: LogEntry) -> None:
        """Earn an entry; a negative balance of its sub-ledger is paid off from it first."""
        owed = self.negative.get(entry.sub_ledger, 0.0)
        if owed:
            paid = min(owed, entry.remaining)
            entry.remaining = money(entry.remaining - paid)
            self.negative[entry.sub_ledger] = money(owed - paid)
            if not self.negative[entry.sub_ledger]:
                del self.negative[entry.sub_ledger]
        self.entries.append(entry)
        self.log.append(log)

    def spend(
        self, uuid: str, sub_ledger: str, amount: float, at: datetime, log: LogEntry
    ) -> float:
        """Take up to ``amount`` active points, soonest expiring first; returns what was taken."""
        spend = Spend(uuid=uuid, sub_ledger=sub_ledger, amount=0.0)
        spend.taken = self._take_active(sub_ledger, min(amount, self.spendable(at, sub_ledger)), at)
        spend.amount = money(sum(took for _, took in spend.taken))
        if spend.amount > 0:
            self.spends[uuid] = spend
            log.amount = spend.amount
            self.log.append(log)
        return spend.amount

    def rollback_added(self, uuid: str, amount: float, at: datetime, log: LogEntry) -> float:
        """Take back earned points: what is left of them first, then other active points.

        Only what was spent and no other active point covers becomes a negative balance
        (flagged ``createsNegativeBalance`` in the log): booking it as negative while other
        points stayed active showed both a balance and a debt, and the spec's negative
        balance means the current balance is 0.
        """
        entry = next((e for e in self.entries if e.uuid == uuid), None)
        if entry is None:
            return 0.0
        amount = money(min(amount, entry.amount))
        from_remaining = min(entry.remaining, amount)
        entry.remaining = money(entry.remaining - from_remaining)
        entry.amount = money(entry.amount - amount)
        shortfall = money(amount - from_remaining)
        if shortfall > 0:
            taken = self._take_active(entry.sub_ledger, shortfall, at)
            shortfall = money(shortfall - sum(took for _, took in taken))
        if shortfall > 0:
            self.negative[entry.sub_ledger] = money(
                self.negative.get(entry.sub_ledger, 0.0) + shortfall
            )
            log.negative = True
        if entry.amount <= 0:
            self.entries.remove(entry)
        log.amount = amount
        self.log.append(log)
        return amount

    def rollback_spent(self, uuid: str, amount: float, at: datetime, log: LogEntry) -> float:
        """Give spent points back to the entries they came from (their dates unchanged).

        Points given back pay off a negative balance first, as earned points do.
        """
        spend = self.spends.get(uuid)
        if spend is None:
            return 0.0
        left = money(min(amount, spend.amount))
        given = 0.0
        for index in range(len(spend.taken) - 1, -1, -1):
            if left <= 0:
                break
            entry, took = spend.taken[index]
            back = money(min(took, left))
            entry.remaining = money(entry.remaining + back)
            if entry not in self.entries:  # the entry was rolled back meanwhile: re-add it
                self.entries.append(entry)
            spend.taken[index] = (entry, money(took - back))
            left = money(left - back)
            given = money(given + back)
        spend.amount = money(spend.amount - given)
        if spend.amount <= 0:
            del self.spends[uuid]
        self._pay_off(spend.sub_ledger, at)
        log.amount = given
        self.log.append(log)
        return given

    def activate(self, matches: Any, at: datetime) -> list[PointsEntry]:
        """Entries awaiting activation for which ``matches(entry)`` holds become active now."""
        done = []
        for entry in self.entries:
            if entry.awaits_activation and matches(entry):
                entry.awaits_activation = False
                entry.start = at
                if entry.validity is not None:
                    entry.expiry = at + entry.validity
                done.append(entry)
        return done

    def delete(self, sub_ledgers: set[str] | None) -> None:
        """Forget the transactions of some sub-ledgers (None: all)."""

        def keep(name: str) -> bool:
            return sub_ledgers is not None and name not in sub_ledgers

        self.entries = [e for e in self.entries if keep(e.sub_ledger)]
        self.spends = {k: s for k, s in self.spends.items() if keep(s.sub_ledger)}
        self.log = [e for e in self.log if keep(e.sub_ledger)]
        self.negative = {k: v for k, v in self.negative.items() if keep(k)}
