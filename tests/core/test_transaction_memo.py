"""``transaction_memo``: remembered for the rest of a transaction, forgotten when it ends or
a savepoint rolls back (how Django's ``run_on_commit`` list is replaced)."""

from __future__ import annotations

import pytest
from django.db import transaction

from django_talon.transaction_memo import transaction_memo

pytestmark = pytest.mark.django_db(transaction=True)


def test_nothing_is_remembered_outside_a_transaction() -> None:
    assert transaction_memo("t", dict) is None


def test_one_memo_per_transaction_and_a_new_one_after_commit() -> None:
    with transaction.atomic():
        assert transaction_memo("t", dict, create=False) is None
        memo = transaction_memo("t", dict)
        assert memo is not None
        memo["seen"] = True
        with transaction.atomic():  # a savepoint that is released keeps it
            assert transaction_memo("t", dict) is memo
        assert transaction_memo("t", dict) is memo
        assert transaction_memo("other", dict) is not memo
    with transaction.atomic():
        assert transaction_memo("t", dict, create=False) is None
        assert transaction_memo("t", dict) == {}


def test_a_rolled_back_savepoint_forgets() -> None:
    with transaction.atomic():
        memo = transaction_memo("t", dict)
        try:
            with transaction.atomic():
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert transaction_memo("t", dict, create=False) is None
        assert transaction_memo("t", dict) is not memo
