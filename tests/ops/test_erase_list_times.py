"""``talon_erase --list`` prints the shop's local time with its UTC offset, the time the
admin shows for the same request (it printed the stored UTC wall clock, 5:30 h off in
Asia/Kolkata, with no zone marker)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from django_talon.models import DataDeletionRequest

pytestmark = pytest.mark.django_db


def listing() -> str:
    out = StringIO()
    call_command("talon_erase", "--list", stdout=out)
    return out.getvalue()


def test_aware_times_in_the_shops_zone(settings: Any) -> None:
    settings.USE_TZ = True
    settings.TIME_ZONE = "Asia/Kolkata"
    request = DataDeletionRequest.objects.create(integration_id="u-1", requested_by="ops")
    at = dt.datetime(2026, 12, 2, 5, 35, tzinfo=dt.timezone.utc)
    DataDeletionRequest.objects.filter(pk=request.pk).update(
        requested_at=at, completed_at=at + dt.timedelta(minutes=2), state="completed"
    )
    out = listing()
    assert "2026-12-02 11:05:00 +0530" in out
    assert "2026-12-02 11:07:00 +0530" in out
    assert "05:35" not in out


def test_naive_times_as_stored(settings: Any) -> None:
    settings.USE_TZ = False
    settings.TIME_ZONE = "Asia/Kolkata"
    request = DataDeletionRequest.objects.create(integration_id="u-2", requested_by="ops")
    DataDeletionRequest.objects.filter(pk=request.pk).update(
        requested_at=dt.datetime(2026, 12, 2, 11, 5)
    )
    out = listing()
    assert "2026-12-02 11:05:00 " in out and "+0" not in out
