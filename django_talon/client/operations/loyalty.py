"""Loyalty operations: balances, points, history, membership, cards, activation, deletion.

``/v1/loyalty_programs/{id}/profile/{integrationId}/...`` (a customer's ledger),
``/v1/loyalty_programs/{id}/cards/...`` and ``/v2/.../cards/{id}/(un)link_profile`` (card-based
programs) and ``/v1/loyalty_programs/{id}/activate_points``.

Retries (see the table in :mod:`django_talon.client.client`): the reads, joining, linking,
unlinking, activating and deleting are safe to repeat (a repeat finds the work done);
generating a card is not (a repeat makes a second card, or is refused as a duplicate).

The list filters that the API takes as arrays are sent the way its spec says (form style,
exploded: ``subledgerId=a&subledgerId=b``). One key per value cannot be carried by the
transport's query mapping, so these operations put their query string on the path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ..errors import TalonValidationError
from ..loyalty_models import (
    ActivatedPoints,
    LoyaltyBalances,
    LoyaltyCard,
    LoyaltyPage,
    LoyaltyPoints,
    LoyaltyTransaction,
)
from ..validation import check_integration_id, check_session_id, to_jsonable
from .base import OperationGroup, segment

__all__ = [
    "LoyaltyOperations",
    "QueryPairs",
    "as_moment",
    "check_card_identifier",
    "check_page",
    "check_program_id",
    "with_query",
]

#: the spec's ``LoyaltyCardIdentifier``
_CARD_IDENTIFIER = re.compile(r"^[A-Za-z0-9._%+@-]{4,108}$")
POINT_STATUSES = ("active", "pending", "expired")
TRANSACTION_TYPES = ("manual", "session", "import")
#: activateLoyaltyPoints takes at most this many transaction UUIDs per call
MAX_ACTIVATE = 50

QueryPairs = list[tuple[str, str]]


def check_program_id(value: Any, field: str = "program_id") -> int:
    """A loyalty program (or other entity) id: an integer >= 1, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TalonValidationError(f"must be an integer >= 1, got {value!r}", field=field)
    return value


def check_card_identifier(value: Any, field: str = "card_identifier") -> str:
    """4..108 characters of ``A-Z a-z 0-9 . _ % + @ -`` (the API's card identifier)."""
    if not isinstance(value, str) or _CARD_IDENTIFIER.match(value) is None:
        raise TalonValidationError(
            f"must be 4..108 characters of A-Z a-z 0-9 . _ % + @ -, got {value!r}", field=field
        )
    return value


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise TalonValidationError(f"must be one of {', '.join(allowed)}", field=field)
    return value


def as_moment(value: datetime | str, field: str) -> str:
    text = value if isinstance(value, str) else str(to_jsonable(value, field))
    if not text:
        raise TalonValidationError("must not be empty", field=field)
    return text


def _strings(values: Sequence[str], field: str) -> list[str]:
    """A list filter: a sequence of non-empty strings (a bare string would be split)."""
    if isinstance(values, str) or not all(isinstance(v, str) and v for v in values):
        raise TalonValidationError("must be a list of non-empty strings", field=field)
    return list(values)


def check_page(pairs: QueryPairs, page_size: int | None, skip: int | None) -> None:
    """``pageSize`` 1..1000 and ``skip`` >= 0, appended to ``pairs`` when given."""
    if page_size is not None:
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise TalonValidationError("must be an integer", field="page_size")
        if not 1 <= page_size <= 1000:
            raise TalonValidationError("must be 1..1000", field="page_size")
        pairs.append(("pageSize", str(page_size)))
    if skip is not None:
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise TalonValidationError("must be an integer >= 0", field="skip")
        pairs.append(("skip", str(skip)))


def with_query(path: str, pairs: QueryPairs) -> str:
    """``path?query`` with one ``key=value`` per pair (see the module docstring)."""
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _filters(
    pairs: QueryPairs,
    *,
    subledger_ids: Sequence[str] | None,
    customer_session_ids: Sequence[str] | None,
    transaction_uuids: Sequence[str] | None,
) -> None:
    for name, values, field in (
        ("subledgerId", subledger_ids, "subledger_ids"),
        ("customerSessionIDs", customer_session_ids, "customer_session_ids"),
        ("transactionUUIDs", transaction_uuids, "transaction_uuids"),
    ):
        if values is not None:
            pairs += [(name, v) for v in _strings(values, field)]


class LoyaltyOperations(OperationGroup):
    """Operations on ``/v1/loyalty_programs`` and ``/v2/loyalty_programs``."""

    # --- paths ----------------------------------------------------------------------------

    @staticmethod
    def _profile_path(program_id: int, integration_id: str, tail: str) -> str:
        check_program_id(program_id)
        check_integration_id(integration_id, "integration_id")
        return f"/v1/loyalty_programs/{program_id}/profile/{segment(integration_id)}/{tail}"

    @staticmethod
    def _card_path(program_id: int, card_identifier: str, tail: str, *, v2: bool = False) -> str:
        check_program_id(program_id)
        check_card_identifier(card_identifier)
        version = "v2" if v2 else "v1"
        return f"/{version}/loyalty_programs/{program_id}/cards/{segment(card_identifier)}/{tail}"

    def _read(self, operation: str, path: str, pairs: QueryPairs) -> dict[str, Any]:
        return self._send_for_object(operation, "GET", with_query(path, pairs), safe_to_retry=True)

    # --- balances -------------------------------------------------------------------------

    def get_loyalty_balances(
        self,
        program_id: int,
        integration_id: str,
        *,
        end_date: datetime | str | None = None,
        subledger_id: str | None = None,
        include_tiers: bool = False,
        include_projected_tier: bool = False,
    ) -> LoyaltyBalances:
        """A customer's points: active, pending, spent, expired, negative (GET .../balances).

        ``end_date`` gives the balances as they will be (or were) at that moment: points
        whose pending time is over count as active, points expired by then as expired.
        """
        path = self._profile_path(program_id, integration_id, "balances")
        pairs: QueryPairs = []
        if end_date is not None:
            pairs.append(("endDate", as_moment(end_date, "end_date")))
        if subledger_id is not None:
            pairs.append(("subledgerId", _strings([subledger_id], "subledger_id")[0]))
        if include_tiers:
            pairs.append(("includeTiers", "true"))
        if include_projected_tier:
            pairs.append(("includeProjectedTier", "true"))
        return LoyaltyBalances.from_json(self._read("getLoyaltyBalances", path, pairs))

    def get_loyalty_card_balances(
        self,
        program_id: int,
        card_identifier: str,
        *,
        end_date: datetime | str | None = None,
        subledger_ids: Sequence[str] | None = None,
    ) -> LoyaltyBalances:
        """A loyalty card's points and linked customers (GET .../cards/{id}/balances)."""
        path = self._card_path(program_id, card_identifier, "balances")
        pairs: QueryPairs = []
        if end_date is not None:
            pairs.append(("endDate", as_moment(end_date, "end_date")))
        _filters(
            pairs, subledger_ids=subledger_ids, customer_session_ids=None, transaction_uuids=None
        )
        return LoyaltyBalances.from_json(self._read("getLoyaltyCardBalances", path, pairs))

    # --- points ---------------------------------------------------------------------------

    @staticmethod
    def _points_query(
        status: str,
        subledger_ids: Sequence[str] | None,
        customer_session_ids: Sequence[str] | None,
        transaction_uuids: Sequence[str] | None,
        page_size: int | None,
        skip: int | None,
        sort: str | None,
    ) -> QueryPairs:
        pairs: QueryPairs = [("status", _choice(status, POINT_STATUSES, "status"))]
        _filters(
            pairs,
            subledger_ids=subledger_ids,
            customer_session_ids=customer_session_ids,
            transaction_uuids=transaction_uuids,
        )
        check_page(pairs, page_size, skip)
        if sort is not None:
            pairs.append(("sort", _choice(sort, ("startDate", "expiryDate"), "sort")))
        return pairs

    def get_loyalty_program_profile_points(
        self,
        program_id: int,
        integration_id: str,
        *,
        status: str = "active",
        subledger_ids: Sequence[str] | None = None,
        customer_session_ids: Sequence[str] | None = None,
        transaction_uuids: Sequence[str] | None = None,
        page_size: int | None = None,
        skip: int | None = None,
        sort: str | None = None,
    ) -> LoyaltyPage[LoyaltyPoints]:
        """A customer's points by status, with start and expiry dates (GET .../points)."""
        path = self._profile_path(program_id, integration_id, "points")
        pairs = self._points_query(
            status, subledger_ids, customer_session_ids, transaction_uuids, page_size, skip, sort
        )
        data = self._read("getLoyaltyProgramProfilePoints", path, pairs)
        return LoyaltyPage.decode(data, LoyaltyPoints.from_json)

    def get_loyalty_card_points(
        self,
        program_id: int,
        card_identifier: str,
        *,
        status: str = "active",
        subledger_ids: Sequence[str] | None = None,
        customer_session_ids: Sequence[str] | None = None,
        transaction_uuids: Sequence[str] | None = None,
        page_size: int | None = None,
        skip: int | None = None,
        sort: str | None = None,
    ) -> LoyaltyPage[LoyaltyPoints]:
        """A card's points by status (GET .../cards/{id}/points)."""
        path = self._card_path(program_id, card_identifier, "points")
        pairs = self._points_query(
            status, subledger_ids, customer_session_ids, transaction_uuids, page_size, skip, sort
        )
        data = self._read("getLoyaltyCardPoints", path, pairs)
        return LoyaltyPage.decode(data, LoyaltyPoints.from_json)

    # --- transactions ---------------------------------------------------------------------

    @staticmethod
    def _transactions_query(
        pairs: QueryPairs,
        loyalty_transaction_type: str | None,
        start_date: datetime | str | None,
        end_date: datetime | str | None,
        customer_session_ids: Sequence[str] | None,
        transaction_uuids: Sequence[str] | None,
        page_size: int | None,
        skip: int | None,
        awaits_activation: bool | None,
    ) -> QueryPairs:
        if loyalty_transaction_type is not None:
            kind = _choice(loyalty_transaction_type, TRANSACTION_TYPES, "loyalty_transaction_type")
            pairs.append(("loyaltyTransactionType", kind))
        if start_date is not None:
            pairs.append(("startDate", as_moment(start_date, "start_date")))
        if end_date is not None:
            pairs.append(("endDate", as_moment(end_date, "end_date")))
        _filters(
            pairs,
            subledger_ids=None,
            customer_session_ids=customer_session_ids,
            transaction_uuids=transaction_uuids,
        )
        check_page(pairs, page_size, skip)
        if awaits_activation is not None:
            pairs.append(("awaitsActivation", "true" if awaits_activation else "false"))
        return pairs

    def get_loyalty_program_profile_transactions(
        self,
        program_id: int,
        integration_id: str,
        *,
        subledger_id: str | None = None,
        loyalty_transaction_type: str | None = None,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        customer_session_ids: Sequence[str] | None = None,
        transaction_uuids: Sequence[str] | None = None,
        page_size: int | None = None,
        skip: int | None = None,
        awaits_activation: bool | None = None,
    ) -> LoyaltyPage[LoyaltyTransaction]:
        """A customer's ledger history, newest first (GET .../transactions)."""
        path = self._profile_path(program_id, integration_id, "transactions")
        pairs: QueryPairs = []
        if subledger_id is not None:
            pairs.append(("subledgerId", _strings([subledger_id], "subledger_id")[0]))
        self._transactions_query(
            pairs,
            loyalty_transaction_type,
            start_date,
            end_date,
            customer_session_ids,
            transaction_uuids,
            page_size,
            skip,
            awaits_activation,
        )
        data = self._read("getLoyaltyProgramProfileTransactions", path, pairs)
        return LoyaltyPage.decode(data, LoyaltyTransaction.from_json)

    def get_loyalty_card_transactions(
        self,
        program_id: int,
        card_identifier: str,
        *,
        subledger_ids: Sequence[str] | None = None,
        loyalty_transaction_type: str | None = None,
        start_date: datetime | str | None = None,
        end_date: datetime | str | None = None,
        customer_session_ids: Sequence[str] | None = None,
        transaction_uuids: Sequence[str] | None = None,
        page_size: int | None = None,
        skip: int | None = None,
        awaits_activation: bool | None = None,
    ) -> LoyaltyPage[LoyaltyTransaction]:
        """A card's ledger history, newest first (GET .../cards/{id}/transactions)."""
        path = self._card_path(program_id, card_identifier, "transactions")
        pairs: QueryPairs = []
        _filters(
            pairs, subledger_ids=subledger_ids, customer_session_ids=None, transaction_uuids=None
        )
        self._transactions_query(
            pairs,
            loyalty_transaction_type,
            start_date,
            end_date,
            customer_session_ids,
            transaction_uuids,
            page_size,
            skip,
            awaits_activation,
        )
        data = self._read("getLoyaltyCardTransactions", path, pairs)
        return LoyaltyPage.decode(data, LoyaltyTransaction.from_json)

    # --- membership and cards -------------------------------------------------------------

    def join_loyalty_program(self, program_id: int, integration_id: str) -> None:
        """Make a customer a member of a profile-based program (POST .../join)."""
        path = self._profile_path(program_id, integration_id, "join")
        self._send("joinLoyaltyProgram", "POST", path, safe_to_retry=True)

    def generate_loyalty_card(
        self,
        program_id: int,
        *,
        card_identifier: str | None = None,
        status: str = "active",
        customer_profile_ids: Sequence[str] | None = None,
    ) -> LoyaltyCard:
        """Create a card in a card-based program (POST /v1/loyalty_programs/{id}/cards).

        Without ``card_identifier`` Talon.One makes one up. Not retried: a repeat after a
        lost answer would make a second card (or be refused as a duplicate identifier).
        """
        check_program_id(program_id)
        body: dict[str, Any] = {"status": _choice(status, ("active", "inactive"), "status")}
        if card_identifier is not None:
            body["cardIdentifier"] = check_card_identifier(card_identifier)
        if customer_profile_ids is not None:
            ids = _strings(customer_profile_ids, "customer_profile_ids")
            for index, value in enumerate(ids):
                check_integration_id(value, f"customer_profile_ids[{index}]")
            body["customerProfileIds"] = ids
        data = self._send_for_object(
            "generateLoyaltyCard",
            "POST",
            f"/v1/loyalty_programs/{program_id}/cards",
            body=body,
            has_body=True,
            safe_to_retry=False,
        )
        return LoyaltyCard.from_json(data)

    def _registration(
        self, operation: str, tail: str, program_id: int, card_identifier: str, integration_id: str
    ) -> LoyaltyCard:
        path = self._card_path(program_id, card_identifier, tail, v2=True)
        check_integration_id(integration_id, "integration_id")
        data = self._send_for_object(
            operation,
            "POST",
            path,
            body={"integrationId": integration_id},
            has_body=True,
            safe_to_retry=True,
        )
        return LoyaltyCard.from_json(data)

    def link_loyalty_card_to_profile(
        self, program_id: int, card_identifier: str, integration_id: str
    ) -> LoyaltyCard:
        """Link a customer to a card (POST /v2/.../cards/{id}/link_profile)."""
        return self._registration(
            "linkLoyaltyCardToProfile", "link_profile", program_id, card_identifier, integration_id
        )

    def unlink_loyalty_card_from_profile(
        self, program_id: int, card_identifier: str, integration_id: str
    ) -> LoyaltyCard:
        """Unlink a customer from a card (POST /v2/.../cards/{id}/unlink_profile)."""
        return self._registration(
            "unlinkLoyaltyCardFromProfile",
            "unlink_profile",
            program_id,
            card_identifier,
            integration_id,
        )

    # --- activation and deletion ----------------------------------------------------------

    def activate_loyalty_points(
        self,
        program_id: int,
        *,
        transaction_uuids: Sequence[str] | None = None,
        session_id: str | None = None,
    ) -> ActivatedPoints:
        """Points waiting for activation become active (POST .../activate_points).

        Name them by ``transaction_uuids`` (1..50, from the ``addLoyaltyPoints`` effects or
        the points list) or by the ``session_id`` that earned them: exactly one of the two.
        """
        check_program_id(program_id)
        if (transaction_uuids is None) == (session_id is None):
            raise TalonValidationError(
                "give exactly one of transaction_uuids or session_id", field="transaction_uuids"
            )
        body: dict[str, Any] = {}
        if transaction_uuids is not None:
            uuids = _strings(transaction_uuids, "transaction_uuids")
            if not 1 <= len(uuids) <= MAX_ACTIVATE or len(set(uuids)) != len(uuids):
                raise TalonValidationError(
                    f"must hold 1..{MAX_ACTIVATE} distinct UUIDs", field="transaction_uuids"
                )
            body["transactionUUIDs"] = uuids
        else:
            body["sessionId"] = check_session_id(session_id, "session_id")
        data = self._send_for_object(
            "activateLoyaltyPoints",
            "POST",
            f"/v1/loyalty_programs/{program_id}/activate_points",
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
        return ActivatedPoints.from_json(data)

    def delete_loyalty_transactions_from_ledgers(
        self, program_id: int, integration_id: str, *, subledger_ids: Sequence[str] | None = None
    ) -> None:
        """Delete a customer's ledger transactions: all, or only those of some sub-ledgers
        (POST .../delete_transactions). Irreversible; safe to repeat."""
        path = self._profile_path(program_id, integration_id, "delete_transactions")
        body: dict[str, Any] = {"scope": "AllSubledgers"}
        if subledger_ids is not None:
            ids = _strings(subledger_ids, "subledger_ids")
            if not ids:
                raise TalonValidationError(
                    "must not be empty (None deletes all sub-ledgers)", field="subledger_ids"
                )
            body = {"scope": "SelectedSubledgers", "subledgerIds": ids}
        self._send(
            "deleteLoyaltyTransactionsFromLedgers",
            "POST",
            path,
            body=body,
            has_body=True,
            safe_to_retry=True,
        )
