"""Memory that lasts as long as the current database transaction, and no longer.

Several parts of django-talon remember something for the rest of a transaction: the
post-commit deliveries already scheduled per key, the outbox rows written claimed, the
customers erased, the cart sessions already looked up and locked. Django has no "this
transaction ended" hook, but it replaces the connection's ``run_on_commit`` list on commit,
rollback and savepoint rollback. A memo kept together with the identity of that list is
therefore forgotten exactly when what it remembers may no longer be true: a rolled-back
savepoint forgets what was written inside it (at worst something is looked up or scheduled
again, never trusted wrongly). Outside a transaction there is nothing to remember.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

__all__ = ["transaction_memo"]

T = TypeVar("T")


def transaction_memo(name: str, factory: Callable[[], T], *, create: bool = True) -> T | None:
    """The memo ``name`` of the current transaction on the default connection.

    ``factory`` builds a new one when the transaction has none yet (``create=False``: None
    instead). None outside a transaction (autocommit).
    """
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        return None
    attribute = f"_django_talon_{name}"
    hooks = conn.run_on_commit
    memo: tuple[list[Any], T] | None = getattr(conn, attribute, None)
    if memo is None or memo[0] is not hooks:
        if not create:
            return None
        memo = (hooks, factory())
        setattr(conn, attribute, memo)
    return memo[1]
