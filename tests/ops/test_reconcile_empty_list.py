"""``talon_reconcile list`` with nothing to list says so in words, for every ``--status``
(``--status all`` said "No all discrepancies.")."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from django_talon.management.commands.talon_reconcile import STATUSES

pytestmark = pytest.mark.django_db

EXPECTED = {
    "open": "No open discrepancies.\n",
    "resolved": "No resolved discrepancies.\n",
    "all": "No discrepancies.\n",
}


def test_every_status_value_is_covered() -> None:
    assert set(EXPECTED) == set(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_an_empty_list_reads_correctly(status: str) -> None:
    out = StringIO()
    call_command("talon_reconcile", "list", "--status", status, stdout=out, stderr=StringIO())
    assert out.getvalue() == EXPECTED[status]
