"""The beat schedule's relay: inline by default, fanned out to tasks on request (issue 13).

benchmarks/outbox_scaling.py ("relayed/s") measured the inline relay at about twice the
backlog rows/s of the fanned-out one with 2 and 4 workers, so inline stays the default.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import outbox, tasks
from django_talon.models import OutboxMessage


def test_beat_schedule_relays_inline_unless_asked() -> None:
    schedule = tasks.beat_schedule()
    assert all(entry["kwargs"] == {"fan_out": False} for entry in schedule.values())
    fanned = tasks.beat_schedule(fan_out=True)
    assert all(entry["kwargs"] == {"fan_out": True} for entry in fanned.values())


@pytest.mark.django_db
def test_a_fanned_out_relay_hands_every_due_key_to_a_task(
    talon_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the beat entry runs: one dispatch per due key, no delivery in the relay itself."""
    for i in range(3):
        outbox.enqueue(
            "profile.update",
            f"profile:fan-{i}",
            {"integration_id": f"fan-{i}", "attributes": {}},
            deliver=False,
        )
    dispatched: list[str] = []
    monkeypatch.setattr(outbox.scheduling, "dispatch", lambda key, **kw: dispatched.append(key))
    monkeypatch.setattr(
        outbox.scheduling, "deliver_key", lambda *a, **kw: pytest.fail("delivered inline")
    )

    entry = tasks.beat_schedule(fan_out=True)["django-talon-relay-outbox"]
    handled = tasks.relay_outbox(**entry["kwargs"])

    assert handled == 3
    assert sorted(dispatched) == [f"profile:fan-{i}" for i in range(3)]
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count() == 3
