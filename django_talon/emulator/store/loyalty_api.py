"""The loyalty endpoints: balances, points, history, membership, cards, activation, deletion.

``/v1/loyalty_programs/{id}/profile/{integrationId}/(balances|points|transactions|join|
delete_transactions)``, ``/v1/loyalty_programs/{id}/cards[/{cardId}/(balances|points|
transactions)]``, ``/v2/loyalty_programs/{id}/cards/{cardId}/(link|unlink)_profile`` and
``/v1/loyalty_programs/{id}/activate_points``, answered from the ledgers of
:class:`~.loyalty.LoyaltyMixin`. Each takes the store lock for its whole duration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django_talon.emulator.campaign_loyalty import CARD_IDENTIFIER, LoyaltyProgramSpec
from django_talon.emulator.errors import bad_request, not_found
from django_talon.emulator.store.achievements import page_args
from django_talon.emulator.store.ledger import Ledger, PointsEntry
from django_talon.emulator.store.loyalty import Card, LoyaltyMixin
from django_talon.emulator.util import (
    isoformat,
    parse_datetime,
    query_bool,
    utcnow,
    want_list,
    want_object,
    want_str,
)

_POINT_STATES = ("active", "pending", "expired")
_TRANSACTION_TYPES = ("manual", "session", "import")


def _program_id(raw: str) -> int:
    if not raw.isdigit():
        raise bad_request("loyaltyProgramId must be an integer", parameter="loyaltyProgramId")
    return int(raw)


def _card_id(raw: str) -> str:
    if CARD_IDENTIFIER.match(raw) is None:
        raise bad_request(
            "loyaltyCardId must be 4..108 characters of A-Z a-z 0-9 . _ % + @ -",
            parameter="loyaltyCardId",
        )
    return raw


def _list(lists: dict[str, list[str]], name: str) -> set[str]:
    """An array query parameter (repeated, or comma-separated)."""
    return {part for raw in lists.get(name, []) for part in raw.split(",") if part}


def _choice(query: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = query.get(name) or default
    if value not in allowed:
        raise bad_request(f"{name} must be one of {', '.join(allowed)}", parameter=name)
    return value


def _moment(query: dict[str, str], name: str) -> datetime | None:
    return parse_datetime(query[name], name) if query.get(name) else None


def _page(rows: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """A ``{hasMore, data}`` page (the loyalty lists page without a total)."""
    size, skip = page_args(query, default_size=50)
    return {"hasMore": skip + size < len(rows), "data": rows[skip : skip + size]}


class LoyaltyApiMixin(LoyaltyMixin):
    """The loyalty endpoints (the ledgers themselves: :class:`~.loyalty.LoyaltyMixin`)."""

    # --- lookups of the endpoints ---------------------------------------------------------

    def _declared_program(self, raw: str, *, card_based: bool) -> LoyaltyProgramSpec:
        pid = _program_id(raw)
        program = self.campaign_set.loyalty_programs.get(pid)
        if program is None:
            raise not_found(f"loyalty program {pid} not found", "loyaltyProgram")
        if program.card_based != card_based:
            kind = "card-based" if program.card_based else "profile-based"
            raise bad_request(
                f"loyalty program {pid} is {kind}: use its "
                f"{'card' if program.card_based else 'profile'} endpoints",
                parameter="loyaltyProgramId",
            )
        return program

    def _profile_ledger(
        self, raw_program: str, integration_id: str
    ) -> tuple[LoyaltyProgramSpec, Ledger]:
        program = self._declared_program(raw_program, card_based=False)
        if integration_id not in self.profiles:
            raise not_found(f"customer profile {integration_id!r} not found", "customerProfile")
        ledger = self.ledgers.get((program.id, "profile", integration_id))
        return program, ledger if ledger is not None else Ledger(program.id, integration_id)

    def _card(self, raw_program: str, raw_card: str) -> tuple[LoyaltyProgramSpec, Card]:
        program = self._declared_program(raw_program, card_based=True)
        card = self.cards.get((program.id, _card_id(raw_card)))
        if card is None:
            raise not_found(
                f"loyalty card {raw_card!r} not found in program {program.id}", "loyaltyCard"
            )
        return program, card

    def _card_ledger(self, card: Card) -> Ledger:
        ledger = self.ledgers.get((card.program_id, "card", card.identifier))
        return ledger if ledger is not None else Ledger(card.program_id, card.identifier, card=True)

    # --- endpoints: balances --------------------------------------------------------------

    @staticmethod
    def _balances(ledger: Ledger, at: datetime, only: set[str]) -> dict[str, Any]:
        """``LoyaltyBalances``: the main ledger and the sub-ledgers (those in ``only``, if any)."""
        names = [s for s in ledger.sub_ledgers() if not only or s in only]
        return {
            "balance": ledger.balance(at),
            "subledgerBalances": {s: ledger.balance(at, s) for s in names},
        }

    def profile_balances(
        self, raw_program: str, integration_id: str, query: dict[str, str]
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/profile/{integrationId}/balances."""
        query_bool(query, "includeTiers")
        query_bool(query, "includeProjectedTier")
        at = _moment(query, "endDate")
        with self.lock:
            _, ledger = self._profile_ledger(raw_program, integration_id)
            only = {query["subledgerId"]} if query.get("subledgerId") else set()
            return self._balances(ledger, at or utcnow(), only)

    def card_balances(
        self, raw_program: str, raw_card: str, query: dict[str, str], lists: dict[str, list[str]]
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/cards/{cardId}/balances."""
        at = _moment(query, "endDate")
        with self.lock:
            _, card = self._card(raw_program, raw_card)
            result = self._balances(
                self._card_ledger(card), at or utcnow(), _list(lists, "subledgerId")
            )
            result["profiles"] = [
                {"integrationId": p, "timestamp": isoformat(t)} for p, t in card.profiles
            ]
            return result

    # --- endpoints: points and transactions -----------------------------------------------

    def _points(
        self, ledger: Ledger, query: dict[str, str], lists: dict[str, list[str]]
    ) -> dict[str, Any]:
        status = _choice(query, "status", _POINT_STATES, "active")
        sort = query.get("sort")
        if sort is not None and sort not in ("startDate", "expiryDate"):
            raise bad_request("sort must be startDate or expiryDate", parameter="sort")
        subs, sessions, uuids = (
            _list(lists, n) for n in ("subledgerId", "customerSessionIDs", "transactionUUIDs")
        )
        now = utcnow()
        entries = [
            e
            for e in ledger.entries
            if e.status(now) == status
            and e.remaining > 0
            and (not subs or e.sub_ledger in subs)
            and (not sessions or e.session_id in sessions)
            and (not uuids or e.uuid in uuids)
        ]
        if sort == "expiryDate":
            entries.sort(key=PointsEntry.expiry_key)
        elif sort == "startDate":
            entries.sort(key=lambda e: (e.start, e.id))
        return _page([e.to_points_api(ledger.program_id, card=ledger.card) for e in entries], query)

    def profile_points(
        self,
        raw_program: str,
        integration_id: str,
        query: dict[str, str],
        lists: dict[str, list[str]],
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/profile/{integrationId}/points."""
        with self.lock:
            _, ledger = self._profile_ledger(raw_program, integration_id)
            return self._points(ledger, query, lists)

    def card_points(
        self, raw_program: str, raw_card: str, query: dict[str, str], lists: dict[str, list[str]]
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/cards/{cardId}/points."""
        with self.lock:
            _, card = self._card(raw_program, raw_card)
            return self._points(self._card_ledger(card), query, lists)

    def _transactions(
        self,
        ledger: Ledger,
        card: str | None,
        query: dict[str, str],
        lists: dict[str, list[str]],
        subs: set[str],
    ) -> dict[str, Any]:
        kind = query.get("loyaltyTransactionType")
        if kind is not None and kind not in _TRANSACTION_TYPES:
            raise bad_request(
                "loyaltyTransactionType must be manual, session or import",
                parameter="loyaltyTransactionType",
            )
        start, end = _moment(query, "startDate"), _moment(query, "endDate")
        awaits = query_bool(query, "awaitsActivation") if "awaitsActivation" in query else None
        sessions, uuids = _list(lists, "customerSessionIDs"), _list(lists, "transactionUUIDs")
        rows = [
            e.to_api(ledger.program_id, card)
            for e in reversed(ledger.log)
            if (kind is None or e.source == kind)
            and (not subs or e.sub_ledger in subs)
            and (start is None or e.created >= start)
            and (end is None or e.created <= end)
            and (not sessions or e.session_id in sessions)
            and (not uuids or e.uuid in uuids)
            and (awaits is None or e.awaits_activation == awaits)
        ]
        return _page(rows, query)

    def profile_transactions(
        self,
        raw_program: str,
        integration_id: str,
        query: dict[str, str],
        lists: dict[str, list[str]],
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/profile/{integrationId}/transactions."""
        with self.lock:
            _, ledger = self._profile_ledger(raw_program, integration_id)
            subs = {query["subledgerId"]} if query.get("subledgerId") else set()
            return self._transactions(ledger, None, query, lists, subs)

    def card_transactions(
        self, raw_program: str, raw_card: str, query: dict[str, str], lists: dict[str, list[str]]
    ) -> dict[str, Any]:
        """GET /v1/loyalty_programs/{id}/cards/{cardId}/transactions."""
        with self.lock:
            _, card = self._card(raw_program, raw_card)
            return self._transactions(
                self._card_ledger(card), card.identifier, query, lists, _list(lists, "subledgerId")
            )

    # --- endpoints: membership, cards -----------------------------------------------------

    def join_program(self, raw_program: str, integration_id: str) -> None:
        """POST /v1/loyalty_programs/{id}/profile/{integrationId}/join (joining twice: no-op)."""
        with self.lock:
            program, _ = self._profile_ledger(raw_program, integration_id)
            ledger = self._ledger_for(program.id, integration_id, None)
            if ledger.joined is None:
                ledger.joined = utcnow()

    def generate_card(self, raw_program: str, body: Any) -> dict[str, Any]:
        """POST /v1/loyalty_programs/{id}/cards."""
        body = want_object(body, "")
        status = body.get("status", "active")
        if status not in ("active", "inactive"):
            raise bad_request("status must be active or inactive", pointer="/status")
        ids = [
            want_str(v, f"/customerProfileIds/{i}", min_length=1, max_length=1000)
            for i, v in enumerate(
                want_list(body.get("customerProfileIds", []), "/customerProfileIds")
            )
        ]
        identifier = body.get("cardIdentifier")
        if identifier is not None and (
            not isinstance(identifier, str) or CARD_IDENTIFIER.match(identifier) is None
        ):
            raise bad_request(
                "cardIdentifier must be 4..108 characters of A-Z a-z 0-9 . _ % + @ -",
                pointer="/cardIdentifier",
            )
        with self.lock:
            program = self._declared_program(raw_program, card_based=True)
            if len(set(ids)) > program.users_per_card_limit:
                raise bad_request(
                    f"at most {program.users_per_card_limit} customer profiles per card",
                    pointer="/customerProfileIds",
                )
            number = self._next("card")
            identifier = identifier or f"CARD{program.id:03d}{number:08d}"
            if (program.id, identifier) in self.cards:
                raise bad_request(
                    f"loyalty card {identifier!r} already exists", pointer="/cardIdentifier"
                )
            now = utcnow()
            for integration_id in ids:
                self._profile(integration_id, create=True, now=now)
            card = Card(
                id=number,
                identifier=identifier,
                program_id=program.id,
                created=now,
                status=status,
                profiles=[(p, now) for p in dict.fromkeys(ids)],
            )
            self.cards[(program.id, identifier)] = card
            return self._card_api(card, now)

    def _registration(self, body: Any) -> str:
        body = want_object(body, "")
        return want_str(body.get("integrationId"), "/integrationId", min_length=1, max_length=1000)

    def link_card(self, raw_program: str, raw_card: str, body: Any) -> dict[str, Any]:
        """POST /v2/loyalty_programs/{id}/cards/{cardId}/link_profile (linked already: no-op)."""
        integration_id = self._registration(body)
        with self.lock:
            program, card = self._card(raw_program, raw_card)
            now = utcnow()
            if all(p != integration_id for p, _ in card.profiles):
                if len(card.profiles) >= program.users_per_card_limit:
                    raise bad_request(
                        f"loyalty card {card.identifier!r} already has the most customers allowed "
                        f"({program.users_per_card_limit})",
                        pointer="/integrationId",
                    )
                self._profile(integration_id, create=True, now=now)
                card.profiles.append((integration_id, now))
                card.modified = now
            return self._card_api(card, now)

    def unlink_card(self, raw_program: str, raw_card: str, body: Any) -> dict[str, Any]:
        """POST /v2/loyalty_programs/{id}/cards/{cardId}/unlink_profile (not linked: no-op)."""
        integration_id = self._registration(body)
        with self.lock:
            _, card = self._card(raw_program, raw_card)
            now = utcnow()
            if any(p == integration_id for p, _ in card.profiles):
                card.profiles = [(p, t) for p, t in card.profiles if p != integration_id]
                card.modified = now
            return self._card_api(card, now)

    # --- endpoints: activation, deletion --------------------------------------------------

    def activate_points(self, raw_program: str, body: Any) -> dict[str, Any]:
        """POST /v1/loyalty_programs/{id}/activate_points: points awaiting activation, by
        transaction UUID or by the session that earned them, become active now."""
        body = want_object(body, "")
        uuids = body.get("transactionUUIDs")
        session_id = body.get("sessionId")
        if (uuids is None) == (session_id is None):
            raise bad_request("give exactly one of transactionUUIDs or sessionId", pointer="/")
        wanted: set[str] = set()
        if uuids is not None:
            items = want_list(uuids, "/transactionUUIDs", max_items=50)
            if not items:
                raise bad_request("transactionUUIDs must not be empty", pointer="/transactionUUIDs")
            wanted = {
                want_str(u, f"/transactionUUIDs/{i}", min_length=1) for i, u in enumerate(items)
            }
        else:
            want_str(session_id, "/sessionId", min_length=1)
        matches: Callable[[PointsEntry], bool] = (
            (lambda e: e.uuid in wanted)
            if uuids is not None
            else (lambda e: e.session_id == session_id)
        )
        with self.lock:
            pid = _program_id(raw_program)
            if pid not in self.campaign_set.loyalty_programs:
                raise not_found(f"loyalty program {pid} not found", "loyaltyProgram")
            now = utcnow()
            entries = []
            for (program_id, kind, owner), ledger in self.ledgers.items():
                if program_id != pid:
                    continue
                for entry in ledger.activate(matches, now):
                    entries.append(self._ledger_entry(pid, kind, owner, entry, now))
                if kind == "profile":
                    self._mirror(owner, now)
            return {"ledgerEntries": entries}

    def _ledger_entry(
        self, pid: int, kind: str, owner: str, entry: PointsEntry, now: datetime
    ) -> dict[str, Any]:
        """``LoyaltyLedgerEntry`` of activated points."""
        data: dict[str, Any] = {
            "created": isoformat(now),
            "programID": pid,
            "type": "addition",
            "amount": entry.remaining,
            "startDate": isoformat(entry.start),
            "name": entry.name,
            "subLedgerID": entry.sub_ledger,
            "customerSessionID": entry.session_id,
        }
        if entry.expiry is not None:
            data["expiryDate"] = isoformat(entry.expiry)
        if kind == "profile":
            data["customerProfileID"] = owner
        else:
            card = self.cards.get((pid, owner))
            if card is not None:
                data["cardID"] = card.id
        return data

    def delete_transactions(self, raw_program: str, integration_id: str, body: Any) -> None:
        """POST /v1/loyalty_programs/{id}/profile/{integrationId}/delete_transactions."""
        body = want_object(body, "")
        scope = body.get("scope")
        if scope not in ("AllSubledgers", "SelectedSubledgers"):
            raise bad_request("scope must be AllSubledgers or SelectedSubledgers", pointer="/scope")
        selected: set[str] | None = None
        if scope == "SelectedSubledgers":
            raw = body.get("subledgerIds")
            items = want_list(raw, "/subledgerIds")
            if not items:
                raise bad_request("SelectedSubledgers needs subledgerIds", pointer="/subledgerIds")
            selected = {want_str(s, f"/subledgerIds/{i}") for i, s in enumerate(items)}
        with self.lock:
            program, ledger = self._profile_ledger(raw_program, integration_id)
            ledger.delete(selected)
            self._mirror(integration_id, utcnow())
