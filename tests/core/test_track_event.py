"""Custom events through the outbox, against the emulator over HTTP: an event rule's effect
arrives with ``event_tracked``, an event id is registered once (also when the outbox
retries), configured signals and model creations become events, system check E014."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.dispatch import Signal

from django_talon import outbox, signals
from django_talon.checks import check_settings
from django_talon.client.effects import ShowNotification
from django_talon.models import OutboxMessage
from django_talon.services.events import track_event
from django_talon.services.handlers import profile_key
from django_talon.services.handlers_extra import EVENT_TRACK

pytestmark = pytest.mark.django_db

#: A shop's own signal, named in EVENT_RECEIVERS by the tests.
newsletter_signup = Signal()

EVENT_CAMPAIGNS: dict[str, Any] = {
    "campaigns": [
        {
            "id": 1,
            "name": "Newsletter welcome",
            "events": ["newsletter_signup"],
            "effects": [{"type": "showNotification", "body": "Welcome aboard"}],
        },
        {
            "id": 2,
            "name": "Weekly digest",
            "events": ["newsletter_signup"],
            "conditions": [
                {"type": "eventAttributeEquals", "attribute": "list", "value": "weekly"}
            ],
            "effects": [{"type": "showNotification", "body": "Weekly it is"}],
        },
        {
            "id": 3,
            "name": "First order",
            "events": ["order_created"],
            "effects": [{"type": "showNotification", "body": "Thanks for ordering"}],
        },
    ]
}


@pytest.fixture
def events(
    settings: Any, talon_settings: dict[str, Any], talon_emulator: Any
) -> Iterator[list[dict[str, Any]]]:
    """Synchronous delivery, the event campaigns loaded; yields what ``event_tracked`` sent."""
    settings.TALON = {**settings.TALON, "DELIVERY": "sync", "SYNC_RELAY_INTERVAL": 0}
    talon_emulator.load_campaigns(EVENT_CAMPAIGNS)
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.event_tracked.connect(receiver, weak=False, dispatch_uid="test-event-tracked")
    yield received
    signals.event_tracked.disconnect(dispatch_uid="test-event-tracked")


def event_calls(emulator: Any) -> list[dict[str, Any]]:
    return emulator.control.requests(path_prefix="/v3/events")


@pytest.fixture
def user(events: list[dict[str, Any]], django_capture_on_commit_callbacks: Any) -> Any:
    """A customer whose profile is already delivered (its key has no undelivered row whose
    after-commit delivery would never run inside the test's transaction)."""
    with django_capture_on_commit_callbacks(execute=True):
        return get_user_model().objects.create_user("ada", password="!")


def test_an_event_rule_returns_its_effect(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        row = track_event("newsletter_signup", user=user, attributes={"list": "weekly"})
    (call,) = event_calls(talon_emulator)
    assert call["method"] == "POST" and call["status"] == 200
    assert call["body"]["type"] == "newsletter_signup"
    assert call["body"]["profileId"] == f"user-{user.pk}"
    assert call["body"]["attributes"] == {"list": "weekly"}
    event_id = call["body"]["integrationId"]
    (tracked,) = events
    assert tracked["event_type"] == "newsletter_signup" and tracked["integration_id"] == event_id
    assert [(type(e), e.body) for e in tracked["effects"]] == [
        (ShowNotification, "Welcome aboard"),
        (ShowNotification, "Weekly it is"),
    ]
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.DONE and row.result == "sent"
    stored = talon_emulator.client().get_event_v3(event_id)
    assert stored.type == "newsletter_signup" and stored.profile_id == f"user-{user.pk}"


def test_an_event_id_is_registered_once(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        track_event("newsletter_signup", user=user, integration_id="signup-ada")
    with django_capture_on_commit_callbacks(execute=True):
        again = track_event("newsletter_signup", user=user, integration_id="signup-ada")

    again.refresh_from_db()
    assert again.state == OutboxMessage.State.DONE and again.result == "duplicate"
    assert [c["status"] for c in event_calls(talon_emulator)] == [200, 409]
    assert len(events) == 1  # the effects of one event, once


def test_a_failed_attempt_is_retried_by_the_outbox_with_the_same_id(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    talon_emulator.control.add_fault(kind="error", status=503, path="/v3/events", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        row = track_event("newsletter_signup", user=user)
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.PENDING and row.attempts == 1  # not lost

    outbox.deliver_key(profile_key(f"user-{user.pk}"), force=True)

    row.refresh_from_db()
    assert row.state == OutboxMessage.State.DONE and row.result == "sent"
    ids = {c["body"]["integrationId"] for c in event_calls(talon_emulator)}
    assert ids == {row.payload["event"]["integrationId"]}  # one event id, sent twice
    assert len(events) == 1


def test_a_rolled_back_event_is_never_sent(
    user: Any, events: list[dict[str, Any]], talon_emulator: Any
) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        track_event("newsletter_signup", user=user)
        raise RuntimeError("the shop's work failed")
    assert not OutboxMessage.objects.filter(operation=EVENT_TRACK).exists()
    assert event_calls(talon_emulator) == []


def test_an_event_needs_a_customer(user: Any, events: list[dict[str, Any]]) -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValueError, match="needs a customer"):
        track_event("newsletter_signup")
    with pytest.raises(ValueError, match="needs a customer"):
        track_event("newsletter_signup", user=AnonymousUser())
    with pytest.raises(ValueError, match="event_type"):
        track_event("", user=user)


def test_a_configured_signal_becomes_an_event(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TALON = {
        **settings.TALON,
        "EVENT_RECEIVERS": {f"{__name__}.newsletter_signup": "newsletter_signup"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        newsletter_signup.send(sender=None, user=user, attributes={"list": "monthly"})
        newsletter_signup.send(sender=None, user=None)  # anonymous: no customer, no event

    (call,) = event_calls(talon_emulator)
    assert call["body"]["attributes"] == {"list": "monthly"}
    assert [e.body for e in events[0]["effects"]] == ["Welcome aboard"]

    settings.TALON = {**settings.TALON, "EVENT_RECEIVERS": {}}  # disconnected again
    with django_capture_on_commit_callbacks(execute=True):
        newsletter_signup.send(sender=None, user=user)
    assert len(event_calls(talon_emulator)) == 1


def test_a_configured_model_creation_becomes_one_event(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.shopapp.models import Order

    settings.TALON = {
        **settings.TALON,
        "EVENT_RECEIVERS": {"shopapp.Order:created": "order_created"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        order = Order.objects.create(user=user)
        order.status = "paid"
        order.save()  # not a creation: no second event
        Order.objects.create()  # no customer: no event

    (call,) = event_calls(talon_emulator)
    assert call["body"]["integrationId"] == f"shopapp.order:{order.pk}:order_created"
    assert [e.body for e in events[0]["effects"]] == ["Thanks for ordering"]


def test_check_e014_names_an_unusable_source(settings: Any) -> None:
    settings.TALON = {
        **settings.TALON,
        "EVENT_RECEIVERS": {
            "no.such.signal": "x",
            "shopapp.Nothing:created": "y",
            f"{__name__}.EVENT_CAMPAIGNS": "z",  # not a Signal
            f"{__name__}.newsletter_signup": "newsletter_signup",  # fine
        },
    }
    errors = [m for m in check_settings() if m.id == "django_talon.E014"]
    assert len(errors) == 3
    assert all("EVENT_RECEIVERS" in e.msg for e in errors)


def test_an_erased_customer_s_events_are_never_sent(
    user: Any,
    events: list[dict[str, Any]],
    talon_emulator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_talon.services import erase_customer

    with django_capture_on_commit_callbacks(execute=True):
        erase_customer(user, requested_by="test")
    with django_capture_on_commit_callbacks(execute=True):
        row = track_event("newsletter_signup", user=user)

    row.refresh_from_db()
    assert row.state == OutboxMessage.State.DONE and row.result == "erased"
    assert row.payload == {}
    assert event_calls(talon_emulator) == [] and events == []
