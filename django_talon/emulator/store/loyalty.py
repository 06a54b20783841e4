"""Loyalty: the ledgers of every program, per customer and per card, and the cards.

The endpoints that read and change them are in :mod:`.loyalty_api`.
Closing a session books its ``addLoyaltyPoints`` (earned, pending or active per the campaign
file) and ``deductLoyaltyPoints`` (spent) effects into :class:`~.ledger.Ledger` objects;
cancel, reopen and returns roll them back (see :mod:`.redemption`, :mod:`.returns`).
A card-based program books on the session's loyalty card, the others on the customer.
``Profile.loyalty`` mirrors each customer's active main-ledger balance (the state dump).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_file import CampaignSet
from django_talon.emulator.campaign_loyalty import (
    LoyaltyProgramSpec,
    default_program,
)
from django_talon.emulator.models import Profile, Session
from django_talon.emulator.store.achievements import AchievementsMixin
from django_talon.emulator.store.ledger import Ledger, LogEntry, PointsEntry
from django_talon.emulator.util import (
    isoformat,
    money,
    parse_datetime,
    utcnow,
)


@dataclass
class Card:
    """A loyalty card of a card-based program and the customers linked to it."""

    id: int
    identifier: str
    program_id: int
    created: datetime
    status: str = "active"
    profiles: list[tuple[str, datetime]] = field(default_factory=list)
    modified: datetime | None = None


class LoyaltyMixin(AchievementsMixin):
    """The loyalty ledgers and the loyalty endpoints (and, through the base, achievements)."""

    def reset(self, campaigns: CampaignSet | None = None) -> None:
        super().reset(campaigns)
        with self.lock:
            #: (program id, "profile" | "card", integration id | card identifier) -> ledger
            self.ledgers: dict[tuple[int, str, str], Ledger] = {}
            self.cards: dict[tuple[int, str], Card] = {}
            now = utcnow()
            for program in self.campaign_set.loyalty_programs.values():
                for spec in program.cards:
                    self.cards[(program.id, spec.identifier)] = Card(
                        id=self._next("card"),
                        identifier=spec.identifier,
                        program_id=program.id,
                        created=now,
                        status=spec.status,
                        profiles=[(p, now) for p in spec.profiles],
                    )
            self._reset_achievements()
            self.lookups.loyalty = self

    # --- what the rule engine reads (see engine.loyalty.LoyaltyView) ----------------------

    def loyalty_program(self, program_id: int) -> LoyaltyProgramSpec:
        return self.campaign_set.loyalty_programs.get(program_id) or default_program(program_id)

    def spendable_points(
        self, program_id: int, profile_id: str, card: str | None, sub_ledger: str, now: datetime
    ) -> float:
        key = (program_id, "card", card) if card else (program_id, "profile", profile_id)
        ledger = self.ledgers.get(key)
        return ledger.spendable(now, sub_ledger) if ledger is not None else 0.0

    # --- booking at close, rolling back ---------------------------------------------------

    def _ledger_for(self, program_id: int, profile_id: str, card: str | None) -> Ledger:
        key = (program_id, "card", card) if card else (program_id, "profile", profile_id)
        ledger = self.ledgers.get(key)
        if ledger is None:
            ledger = Ledger(program_id=program_id, owner=key[2], card=bool(card))
            self.ledgers[key] = ledger
        return ledger

    def _log(
        self,
        uuid: str,
        kind: str,
        props: dict[str, Any],
        name: str,
        session: Session,
        now: datetime,
        effect: dict[str, Any],
    ) -> LogEntry:
        return LogEntry(
            id=self._next("loyalty_log"),
            uuid=uuid,
            kind=kind,
            amount=float(props["value"]),
            name=name,
            created=now,
            sub_ledger=str(props.get("subLedgerId", "")),
            session_id=session.integration_id,
            ruleset_id=effect.get("rulesetId"),
            rule_name=str(effect.get("ruleName", "")),
        )

    def _book_loyalty(self, session: Session, effects: list[dict[str, Any]], now: datetime) -> None:
        """A closing session's points (earned and spent) and achievement progress."""
        for effect in effects:
            etype, props = effect["effectType"], effect["props"]
            if etype == "addLoyaltyPoints":
                self._earn(session, effect, now)
            elif etype == "deductLoyaltyPoints":
                ledger = self._ledger_for(
                    int(props["programId"]), session.profile_id, props.get("cardIdentifier")
                )
                log = self._log(
                    props["transactionUUID"],
                    "subtraction",
                    props,
                    str(props.get("name", "")),
                    session,
                    now,
                    effect,
                )
                ledger.spend(
                    props["transactionUUID"], log.sub_ledger, float(props["value"]), now, log
                )
            elif etype == "increaseAchievementProgress":
                self._progress_achievement(effect, session.profile_id, now)
        self._mirror(session.profile_id, now)

    def _earn(self, session: Session, effect: dict[str, Any], now: datetime) -> None:
        props = effect["props"]
        program = self.loyalty_program(int(props["programId"]))
        card = props.get("cardIdentifier")
        ledger = self._ledger_for(program.id, str(props["recipientIntegrationId"]), card)
        if ledger.joined is None:
            ledger.joined = now
        start = parse_datetime(props["startDate"], "startDate") if "startDate" in props else now
        expiry = (
            parse_datetime(props["expiryDate"], "expiryDate") if "expiryDate" in props else None
        )
        awaits = bool(props.get("awaitsActivation", False))
        entry = PointsEntry(
            id=self._next("loyalty_points"),
            uuid=props["transactionUUID"],
            sub_ledger=str(props.get("subLedgerId", "")),
            amount=float(props["value"]),
            name=str(props["name"]),
            created=now,
            start=start,
            expiry=expiry,
            session_id=session.integration_id,
            profile_id=str(props["recipientIntegrationId"]),
            awaits_activation=awaits,
            validity=program.expiry_duration if awaits else None,
        )
        log = self._log(entry.uuid, "addition", props, entry.name, session, now, effect)
        log.start = "on_action" if awaits else ("immediate" if start <= now else isoformat(start))
        log.expiry = "unlimited" if expiry is None else isoformat(expiry)
        log.awaits_activation = awaits
        ledger.add(entry, log)

    def _loyalty_rollbacks(
        self, head: dict[str, Any], effect: dict[str, Any], profile_id: str, now: datetime
    ) -> list[dict[str, Any]]:
        """The rollback effects for one loyalty or achievement effect of a closed session."""
        etype, props = effect["effectType"], effect["props"]
        if etype == "increaseAchievementProgress":
            return self._achievement_rollback(head, effect, profile_id, now)
        if etype not in ("addLoyaltyPoints", "deductLoyaltyPoints"):
            return []
        undo: dict[str, Any] = {
            "programId": props["programId"],
            "subLedgerId": props["subLedgerId"],
            "value": props["value"],
            "recipientIntegrationId": props.get("recipientIntegrationId", profile_id),
            "transactionUUID": props["transactionUUID"],
        }
        if props.get("cardIdentifier"):
            undo["cardIdentifier"] = props["cardIdentifier"]
        rollback = (
            "rollbackAddedLoyaltyPoints"
            if etype == "addLoyaltyPoints"
            else "rollbackDeductedLoyaltyPoints"
        )
        return [{**head, "effectType": rollback, "props": undo}]

    def _unbook_loyalty(
        self, session: Session, rollbacks: list[dict[str, Any]], now: datetime
    ) -> None:
        """Apply a cancel's, reopen's or return's loyalty and achievement rollbacks."""
        for rollback in rollbacks:
            etype, props = rollback["effectType"], rollback["props"]
            if etype == "rollbackIncreasedAchievementProgress":
                self._undo_achievement(rollback, session.profile_id, now)
                continue
            if etype not in ("rollbackAddedLoyaltyPoints", "rollbackDeductedLoyaltyPoints"):
                continue
            ledger = self._ledger_for(
                int(props["programId"]),
                str(props["recipientIntegrationId"]),
                props.get("cardIdentifier"),
            )
            added = etype == "rollbackAddedLoyaltyPoints"
            name = "Rollback of points added" if added else "Rollback of points spent"
            log = self._log(
                props["transactionUUID"],
                "subtraction" if added else "addition",
                props,
                name,
                session,
                now,
                rollback,
            )
            if added:
                ledger.rollback_added(props["transactionUUID"], float(props["value"]), now, log)
            else:
                ledger.rollback_spent(props["transactionUUID"], float(props["value"]), now, log)
        self._mirror(session.profile_id, now)

    def _mirror(self, profile_id: str, now: datetime) -> None:
        """``Profile.loyalty``: the customer's active main-ledger points per program."""
        profile = self.profiles.get(profile_id) if profile_id else None
        if profile is None:
            return
        for (pid, kind, owner), ledger in self.ledgers.items():
            if kind == "profile" and owner == profile_id:
                profile.loyalty[pid] = ledger.balance(now)["activePoints"]

    def _erase_loyalty(self, profile_id: str) -> None:
        """Customer data deletion: the customer's ledgers, card links and progress go."""
        self.ledgers = {
            k: v for k, v in self.ledgers.items() if not (k[1] == "profile" and k[2] == profile_id)
        }
        for card in self.cards.values():
            card.profiles = [p for p in card.profiles if p[0] != profile_id]
        self.achievement_progress_by = {
            k: v for k, v in self.achievement_progress_by.items() if k[1] != profile_id
        }

    # --- rendering ------------------------------------------------------------------------

    def _ledger_info(
        self, ledger: Ledger | None, now: datetime, sub_ledger: str = "", pending: float = 0.0
    ) -> dict[str, Any]:
        """``LedgerInfo`` (with what an open session's effects would change: tentative).

        ``currentBalance`` is 0 while ``negativeBalance`` is not (the spec); the session's
        earnings pay off the negative balance before they count as tentative points.
        """
        balance = ledger.balance(now, sub_ledger) if ledger is not None else {}
        current = balance.get("activePoints", 0.0)
        negative = balance.get("negativePoints", 0.0)
        return {
            "currentBalance": current,
            "pendingBalance": balance.get("pendingPoints", 0.0),
            "negativeBalance": negative,
            "expiredBalance": balance.get("expiredPoints", 0.0),
            "spentBalance": balance.get("spentPoints", 0.0),
            "tentativeCurrentBalance": max(0.0, money(current - negative + pending)),
        }

    def _loyalty(
        self, profile: Profile | None, pending: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """``Loyalty``: every profile program's ledger, and the customer's cards."""
        now = utcnow()
        programs: dict[str, Any] = {}
        profile_id = profile.integration_id if profile is not None else ""
        for pid, program in sorted(self.campaign_set.loyalty_programs.items()):
            if program.card_based:
                continue
            ledger = self.ledgers.get((pid, "profile", profile_id))
            change = sum(
                float(e["props"]["value"]) * (1 if e["effectType"] == "addLoyaltyPoints" else -1)
                for e in (pending or [])
                if e["effectType"] in ("addLoyaltyPoints", "deductLoyaltyPoints")
                and e["props"]["programId"] == pid
                and not e["props"].get("startDate")
                and not e["props"].get("awaitsActivation")
            )
            entry: dict[str, Any] = {
                "id": pid,
                "title": program.title,
                "name": program.name,
                "ledger": self._ledger_info(ledger, now, pending=change),
            }
            if ledger is not None and ledger.joined is not None:
                entry["joinDate"] = isoformat(ledger.joined)
            if ledger is not None and ledger.sub_ledgers():
                entry["subLedgers"] = {
                    s: self._ledger_info(ledger, now, s) for s in ledger.sub_ledgers()
                }
            programs[str(pid)] = entry
        result: dict[str, Any] = {"programs": programs}
        cards = [c for c in self.cards.values() if any(p[0] == profile_id for p in c.profiles)]
        if profile_id and cards:
            result["cards"] = [self._card_api(c, now) for c in cards]
        return result

    def _card_api(self, card: Card, now: datetime) -> dict[str, Any]:
        """``LoyaltyCard``."""
        program = self.loyalty_program(card.program_id)
        ledger = self.ledgers.get((card.program_id, "card", card.identifier))
        data: dict[str, Any] = {
            "id": card.id,
            "created": isoformat(card.created),
            "programID": card.program_id,
            "programName": program.name,
            "programTitle": program.title,
            "status": card.status,
            "identifier": card.identifier,
            "usersPerCardLimit": program.users_per_card_limit,
            "profiles": [{"integrationId": p, "timestamp": isoformat(t)} for p, t in card.profiles],
            "ledger": self._ledger_info(ledger, now),
            "subledgers": {s: self._ledger_info(ledger, now, s) for s in ledger.sub_ledgers()}
            if ledger is not None
            else {},
        }
        if card.modified is not None:
            data["modified"] = isoformat(card.modified)
        return data
