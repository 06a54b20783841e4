"""Audiences from Django groups, against the emulator over HTTP: both sides of
``user.groups`` queue outbox rows, removal and clearing, unmapped groups cost nothing, the
backfill in batches, and the settings' checks (E009, E013, E015)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from django_talon import checks
from django_talon.checks import check_settings
from django_talon.models import OutboxMessage
from django_talon.services.audiences import sync_group_audiences
from django_talon.services.handlers_extra import AUDIENCE_UPDATE

pytestmark = pytest.mark.django_db

#: The demo campaigns' audiences: 1 "VIP customers", 2 "Newsletter subscribers".
GROUPS = {"VIP": 1, "Newsletter": 2}
AUDIENCE_PATH = "/v2/customer_audiences"


@pytest.fixture
def wired(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> Any:
    settings.TALON = {
        **settings.TALON,
        "DELIVERY": "sync",
        "SYNC_RELAY_INTERVAL": 0,
        "AUDIENCE_GROUPS": GROUPS,
    }
    for name in (*GROUPS, "Staff"):
        Group.objects.create(name=name)
    return talon_emulator


@pytest.fixture
def user(wired: Any, django_capture_on_commit_callbacks: Any) -> Any:
    with django_capture_on_commit_callbacks(execute=True):
        return get_user_model().objects.create_user("ada", password="!")


def audiences_of(emulator: Any, user: Any) -> list[int]:
    profile = emulator.state()["profiles"][f"user-{user.pk}"]
    return [a["id"] for a in profile["audienceMemberships"]]


def audience_calls(emulator: Any) -> list[dict[str, Any]]:
    return emulator.control.requests(path_prefix=AUDIENCE_PATH)


def test_joining_and_leaving_groups_changes_audiences(
    user: Any, wired: Any, django_capture_on_commit_callbacks: Any
) -> None:
    vip, newsletter, staff = (Group.objects.get(name=n) for n in ("VIP", "Newsletter", "Staff"))
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(vip, newsletter, staff)
    assert sorted(audiences_of(wired, user)) == [1, 2]
    (call,) = audience_calls(wired)
    assert sorted(call["body"]["data"], key=lambda a: a["audienceId"]) == [
        {"action": "add", "profileIntegrationId": f"user-{user.pk}", "audienceId": 1},
        {"action": "add", "profileIntegrationId": f"user-{user.pk}", "audienceId": 2},
    ]

    with django_capture_on_commit_callbacks(execute=True):
        user.groups.remove(vip)
    assert audiences_of(wired, user) == [2]

    with django_capture_on_commit_callbacks(execute=True):
        user.groups.clear()
    assert audiences_of(wired, user) == []
    rows = OutboxMessage.objects.filter(operation=AUDIENCE_UPDATE)
    assert rows.count() == 3 and {r.result for r in rows} == {"sent"}


def test_the_groups_side_of_the_relation_too(
    user: Any, wired: Any, django_capture_on_commit_callbacks: Any
) -> None:
    vip = Group.objects.get(name="VIP")
    with django_capture_on_commit_callbacks(execute=True):
        vip.user_set.add(user)
    assert audiences_of(wired, user) == [1]
    with django_capture_on_commit_callbacks(execute=True):
        vip.user_set.clear()
    assert audiences_of(wired, user) == []


def test_unmapped_groups_cost_nothing(
    user: Any, wired: Any, django_capture_on_commit_callbacks: Any
) -> None:
    staff = Group.objects.get(name="Staff")
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(staff)
        staff.user_set.remove(user)
    assert not OutboxMessage.objects.filter(operation=AUDIENCE_UPDATE).exists()
    assert audience_calls(wired) == []


def test_off_by_default(
    user: Any, wired: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TALON = {**settings.TALON, "AUDIENCE_GROUPS": {}}
    with django_capture_on_commit_callbacks(execute=True):
        user.groups.add(Group.objects.get(name="VIP"))
    assert not OutboxMessage.objects.filter(operation=AUDIENCE_UPDATE).exists()
    assert audience_calls(wired) == []


def test_the_backfill_sends_current_members_in_batches(wired: Any) -> None:
    users = [get_user_model().objects.create_user(f"u{i}", password="!") for i in range(5)]
    Group.objects.get(name="VIP").user_set.add(*users)
    Group.objects.get(name="Newsletter").user_set.add(users[0])
    wired.control.clear_requests()

    calls = sync_group_audiences(batch_size=2)

    assert calls == 4  # by group name: Newsletter 1 member; VIP 2 + 2 + 1
    assert [len(c["body"]["data"]) for c in audience_calls(wired)] == [1, 2, 2, 1]
    assert audiences_of(wired, users[4]) == [1]
    assert sorted(audiences_of(wired, users[0])) == [1, 2]


def test_checks_of_the_new_settings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TALON = {
        **settings.TALON,
        "AUDIENCE_GROUPS": {"VIP": "one"},
        "PRODUCT_MODEL": "nope.Product",
        "PRIOR_PRICE_TIMEFRAME_DAYS": 0,
    }
    ids = [m.id for m in check_settings()]
    assert ids.count("django_talon.E009") == 2  # AUDIENCE_GROUPS, PRIOR_PRICE_TIMEFRAME_DAYS
    assert "django_talon.E013" in ids

    settings.TALON = {**settings.TALON, "AUDIENCE_GROUPS": {"VIP": 1}, "PRODUCT_MODEL": ""}

    class NoGroups:  # a user model without django.contrib.auth's PermissionsMixin
        pass

    real = checks.apps.get_model
    monkeypatch.setattr(
        checks.apps,
        "get_model",
        lambda label, *a: NoGroups if label == settings.AUTH_USER_MODEL else real(label, *a),
    )
    assert "django_talon.E015" in [m.id for m in check_settings()]
