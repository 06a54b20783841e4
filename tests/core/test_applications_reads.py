"""Several Applications: a customer's loyalty, inventory and referral calls go through the
Application their profile is written through (they all went to the default Application, so
a USD customer's balance was read from the EUR Application, which does not know them, and a
referral for a USD campaign was created with the EUR Application's key).

The fixtures are those of :mod:`tests.core.test_applications`: ``eur`` is the shared
emulator, ``usd`` a second emulator with its own key (each refuses the other's key).
"""

from __future__ import annotations

from typing import Any

import pytest

from django_talon import services
from django_talon.models import CouponReservation, CustomerProfile, OutboxMessage
from django_talon.services import bulk_memberships
from django_talon.services.profiles import ReservationRefused
from django_talon.testing.plugin import EmulatorHandle
from tests.core.test_applications import (  # noqa: F401 (fixtures)
    CurrencyAdapter,
    refused,
    two_apps,
    usd,
    usd_server,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _paths(emulator: EmulatorHandle, integration_id: str) -> list[str]:
    return [
        f"{call['method']} {call['path']}"
        for call in emulator.requests()
        if integration_id in call["path"] or integration_id in str(call.get("body") or "")
    ]


def test_a_customers_reads_and_referrals_go_to_their_application(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
    settings: Any,
) -> None:
    eur, usd_app = two_apps
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    profile = services.sync_profile(bob)
    assert profile.application == "usd"
    eur.clear_requests()
    usd_app.clear_requests()

    assert services.join_loyalty_program(bob) is True
    assert services.loyalty_balance(bob, fresh=True).found
    services.loyalty_history(bob, fresh=True)
    services.customer_achievements(bob, fresh=True)
    services.loyalty_cards(bob, fresh=True)
    assert services.customer_inventory(bob).found
    referral = services.create_referral(bob, 5)
    assert referral.code

    seen = _paths(usd_app, profile.integration_id)
    for fragment in ("/join", "/balances", "/transactions", "/achievements", "/inventory"):
        assert any(fragment in path for path in seen), (fragment, seen)
    assert any(path == "POST /v1/referrals" for path in seen), seen
    assert _paths(eur, profile.integration_id) == []
    assert refused(eur) == [] and refused(usd_app) == []


def test_a_default_application_customer_stays_on_it(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
    settings: Any,
) -> None:
    eur, usd_app = two_apps
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    profile = services.sync_profile(ann)
    assert profile.application == "eur"
    usd_app.clear_requests()
    services.loyalty_balance(ann, fresh=True)
    services.customer_inventory(ann)
    assert _paths(usd_app, profile.integration_id) == []
    assert any("/balances" in path for path in _paths(eur, profile.integration_id))


def _reservations(emulator: EmulatorHandle) -> list[tuple[str, list[str]]]:
    return [
        (call["method"], sorted((call.get("body") or {}).get("integrationIDs") or []))
        for call in emulator.requests("/v1/coupon_reservations/")
        if 200 <= call["status"] < 300
    ]


def test_coupon_reservations_go_to_the_customers_application(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
) -> None:
    """A coupon is one Application's: a checked reservation goes to the customers'
    Application, one for customers of several is refused before anything is sent, and the
    queued reservations and releases go each through the customer's own Application."""
    eur, usd_app = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    ann_id = services.sync_profile(ann).integration_id
    bob_id = services.sync_profile(bob).integration_id
    eur.clear_requests()
    usd_app.clear_requests()

    (row,) = services.reserve_coupon_checked("VIP20", [bob])
    assert row.synced_at is not None
    assert _reservations(usd_app) == [("POST", [bob_id])] and _reservations(eur) == []

    with pytest.raises(ReservationRefused) as refused_both:
        services.reserve_coupon_checked("VIP20", [ann, bob])
    assert refused_both.value.reason == "several_applications"
    assert "several" in refused_both.value.message
    assert len(_reservations(usd_app)) == 1 and _reservations(eur) == []

    services.reserve_coupon("WELCOME10", [ann, bob])
    assert ("POST", [ann_id]) in _reservations(eur)
    assert ("POST", [bob_id]) in _reservations(usd_app)
    release = services.release_coupon_now("WELCOME10", [ann, bob])
    assert release.released == 2 and release.kept == 0
    assert ("DELETE", [ann_id]) in _reservations(eur)
    assert ("DELETE", [bob_id]) in _reservations(usd_app)
    assert refused(eur) == [] and refused(usd_app) == []
    assert not OutboxMessage.objects.exclude(state="done").exists()


def test_syncing_a_coupons_reservations_asks_its_application_and_keeps_the_others(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
) -> None:
    """``sync_reservations`` read the default Application and deleted every local row it
    did not list: the USD customers' reservations of a code both Applications have."""
    eur, usd_app = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    services.reserve_coupon_checked("VIP20", [ann])
    services.reserve_coupon_checked("VIP20", [bob])
    bob_id = services.sync_profile(bob).integration_id

    result = bulk_memberships.sync_reservations("VIP20")  # the default Application: eur
    assert (result.remote, result.removed) == (1, 0)
    assert CouponReservation.objects.filter(coupon_code="VIP20").count() == 2

    usd_app.client().delete_coupon_reservation("VIP20", [bob_id])  # released in Talon.One
    result = bulk_memberships.sync_reservations("VIP20", application="usd")
    assert (result.remote, result.removed) == (0, 1)
    assert list(
        CouponReservation.objects.filter(coupon_code="VIP20").values_list(
            "profile__user__username", flat=True
        )
    ) == ["ann"]


def test_a_profile_still_named_default_is_the_default_applications_customer(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
) -> None:
    """A row from before ``APPLICATIONS`` keeps ``"default"``, which is the default
    Application (here ``eur``, the first listed): with an ``eur`` customer it is one
    Application, not "several"."""
    eur, _ = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    cy = django_user_model.objects.create_user("cy", "cy@example.com", "pw")
    services.sync_profile(ann)
    legacy = services.sync_profile(cy)
    CustomerProfile.objects.filter(pk=legacy.pk).update(application="default")
    cy = django_user_model.objects.get(pk=cy.pk)  # not the instance caching the old profile
    eur.clear_requests()

    assert sorted(CustomerProfile.objects.values_list("application", flat=True)) == [
        "default",
        "eur",
    ]
    rows = services.reserve_coupon_checked("VIP20", [ann, cy])
    assert len(rows) == 2
    assert [len(ids) for _, ids in _reservations(eur)] == [2]  # one call, both customers
    assert bulk_memberships.sync_reservations("VIP20").removed == 0
