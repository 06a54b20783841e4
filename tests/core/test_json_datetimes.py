"""A naive datetime from an adapter hook (every ``DateTimeField`` under ``USE_TZ = False``)
is local time and goes to Talon.One with its offset (docs/adapters.md, JSON values); before,
it was sent without one, which Talon.One reads as UTC."""

from __future__ import annotations

import datetime
from typing import Any

from django.test import override_settings
from django.utils import timezone

from django_talon.adapters import TalonAdapter, json_value


class JoinedAttribute(TalonAdapter):
    def profile_attributes(self, user: Any) -> dict[str, Any]:
        return {"Joined": user.joined}


@override_settings(USE_TZ=False, TIME_ZONE="Europe/Berlin")
def test_a_naive_datetime_is_sent_with_the_current_time_zone_offset() -> None:
    assert json_value(datetime.datetime(2030, 1, 1, 0, 0)) == "2030-01-01T00:00:00+01:00"
    assert json_value(datetime.datetime(2030, 7, 1, 12, 30)) == "2030-07-01T12:30:00+02:00"

    class User:
        joined = datetime.datetime(2030, 1, 1, 9, 15)

    attributes = JoinedAttribute().profile_attributes(User())
    assert attributes == {"Joined": "2030-01-01T09:15:00+01:00"}


def test_the_activated_time_zone_counts_and_aware_datetimes_are_kept() -> None:
    with timezone.override("America/New_York"):
        assert json_value(datetime.datetime(2030, 1, 1)) == "2030-01-01T00:00:00-05:00"
    aware = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    assert json_value(aware) == "2030-01-01T00:00:00Z"
    assert json_value(datetime.date(2030, 1, 1)) == "2030-01-01"  # dates have no offset
