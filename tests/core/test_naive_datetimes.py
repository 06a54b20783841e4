"""A shop with ``USE_TZ = False`` (naive local datetimes, ``TIME_ZONE = "Europe/Berlin"``),
against the emulator: every flow that meets one of Talon.One's timestamps (which carry an
offset) or hands a datetime to the client.

Under ``USE_TZ = False`` ``timezone.now()`` is naive local time, SQLite refuses an aware
value outright, and the client (which has no Django) takes a naive value for UTC. Each test
below failed before django-talon converted at the border (``django_talon.moments``): a
``TypeError`` comparing naive and aware, a database error, or a date an hour off.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, models
from django.test import Client
from django.test.utils import isolate_apps
from django.utils import timezone

from django_talon import outbox, resilience, services
from django_talon.api.serializers import MomentField, TalonDateTimeField
from django_talon.emulator import DEMO_CAMPAIGNS
from django_talon.models import CouponReservation, CustomerSession, OutboxMessage, Referral
from django_talon.services import bulk_sync, profiles
from django_talon.services.created_codes import store_created_codes
from django_talon.services.prices import best_prior_prices
from tests.core.conftest import queued_session
from tests.core.shop import ESPRESSO, GRINDER, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN = ZoneInfo("Europe/Berlin")
API = "/api/talon/"


@pytest.fixture(autouse=True)
def _naive_shop(settings: Any) -> Iterator[None]:
    """The shop of the report: ``USE_TZ = False`` in Berlin (autouse, so that the fixtures'
    rows are written the naive way too)."""
    settings.USE_TZ = False
    settings.TIME_ZONE = "Europe/Berlin"
    yield


def campaigns(**program: Any) -> dict[str, Any]:
    """The demo campaigns; the Coffee Club program changed by ``program``; campaign 3's
    coupon VIP20 reservation-only, valid until 2099, and an expired one, SUMMER20."""
    data: dict[str, Any] = json.loads(DEMO_CAMPAIGNS.read_text())
    data["loyaltyPrograms"][0].update(program)
    for campaign in data["campaigns"]:
        if campaign["id"] == 3:
            campaign["coupons"] = [
                {
                    "value": "VIP20",
                    "isReservationMandatory": True,
                    "expiryDate": "2099-01-01T00:00:00Z",
                }
            ]
    data["campaigns"].append(
        {
            "id": 90,
            "name": "Summer 2020",
            "trigger": "coupon",
            "coupons": [{"value": "SUMMER20", "expiryDate": "2020-09-01T00:00:00Z"}],
            "effects": [{"type": "setDiscount", "name": "Summer", "percent": 20}],
        }
    )
    return data


@pytest.fixture
def naive_shop(shop: Any, settings: Any) -> Any:
    settings.TALON = {**settings.TALON, "LOYALTY_PROGRAM_ID": 1}
    shop.load_campaigns(campaigns(expiryDuration="10D"))
    return shop


def customer(name: str = "ann") -> Any:
    return get_user_model().objects.create_user(name, f"{name}@example.com", "pw")


def reserved_for(shop: Any, code: str) -> list[str]:
    return [p.integration_id for p in shop.client().get_reserved_customers(code).data]


# -- a) loyalty points expiring soon ------------------------------------------------------------
def test_points_expiring_soon_are_read_and_shown_in_local_time(naive_shop: Any) -> None:
    ann = customer()
    Order.objects.create(
        cart=make_cart(user=ann, items=[ESPRESSO, GRINDER]), user=ann, status="paid"
    )

    balance = services.loyalty_balance(ann)

    assert balance.active > 0 and balance.expiring_points == balance.active
    expiry = balance.next_expiry
    assert expiry is not None and timezone.is_naive(expiry)  # the shop's convention
    assert abs(expiry - (timezone.now() + timedelta(days=10))) < timedelta(minutes=5)

    client = Client()
    client.force_login(ann)
    answer = client.get(API + "me/loyalty/")
    assert answer.status_code == 200, answer.content
    # with its offset: RFC 3339, as the schema promises (a browser reads a naive one as its
    # own local time)
    assert answer.json()["expiring"][0]["expiry_date"] == expiry.replace(tzinfo=BERLIN).isoformat()


# -- b) checked coupon reservations -----------------------------------------------------------
def test_a_checked_reservation_is_mirrored(naive_shop: Any) -> None:
    ann = customer()
    profile = services.profile_for_user(ann)

    (row,) = services.reserve_coupon_checked("VIP20", [ann])

    assert row.synced_at is not None and timezone.is_naive(row.synced_at)
    assert reserved_for(naive_shop, "VIP20") == [profile.integration_id]


def test_an_expired_coupon_is_refused_and_left_unreserved(naive_shop: Any) -> None:
    ann = customer()
    services.profile_for_user(ann)

    with pytest.raises(profiles.ReservationRefused) as refused:
        services.reserve_coupon_checked("SUMMER20", [ann])

    assert refused.value.reason == "expired"
    assert reserved_for(naive_shop, "SUMMER20") == []
    assert not CouponReservation.objects.exists()


def test_a_failure_after_talon_one_accepted_releases_the_reservation_again(
    naive_shop: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Talon.One accepted, the local rows fail: Talon.One must not keep a reservation the
    mirror does not know of (the admin says "could not reserve")."""
    ann = customer()
    services.profile_for_user(ann)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("disk full")

    monkeypatch.setattr(profiles, "_write_reservations", broken)
    with caplog.at_level(logging.ERROR, logger="django_talon.services"):
        with pytest.raises(DatabaseError):
            services.reserve_coupon_checked("VIP20", [ann])

    assert reserved_for(naive_shop, "VIP20") == []
    assert not CouponReservation.objects.exists()
    assert any("releasing it again" in r.getMessage() for r in caplog.records)


# -- c) delivery while the circuit is open ------------------------------------------------------
def test_a_delivery_during_an_open_circuit_waits_for_the_circuit(
    naive_shop: Any, settings: Any
) -> None:
    _cart, _session = queued_session(settings, "WELCOME10")
    row = OutboxMessage.objects.filter(state="pending").order_by("-id").first()
    assert row is not None
    for _ in range(3):  # BREAKER_THRESHOLD
        resilience.breaker.record_failure()
    until = resilience.breaker.open_until()
    assert resilience.breaker.state() == "open" and until is not None

    report = outbox.deliver_key(row.key, force=True)

    assert report.stopped == "circuit_open" and report.remaining
    row.refresh_from_db()
    assert row.attempts == 0 and timezone.is_naive(row.next_attempt_at)
    reopens = datetime.fromtimestamp(until, tz=dt_timezone.utc).astimezone(BERLIN)
    assert abs(row.next_attempt_at - reopens.replace(tzinfo=None)) < timedelta(seconds=1)


# -- d) talon_sync_profiles --since ------------------------------------------------------------
def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_profiles_since_a_date_on_sqlite(naive_shop: Any) -> None:
    customer("ann")
    customer("bob")

    out, err = run("talon_sync_profiles", "--since", "2020-01-01", "--force", "--restart")

    assert "Sent 2 profile(s)" in out and "complete" in out, out + err
    assert err == ""  # Django's User has date_joined: nobody is left out


def test_sync_profiles_since_says_who_a_last_login_only_user_model_leaves_out(
    naive_shop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user model without ``updated_at`` & co. and without ``date_joined``: "changed
    since" can only mean "logged in since", and users who never logged in are skipped."""
    customer("ann")  # never logged in
    with isolate_apps("tests.shopapp"):

        class LoginOnlyUser(models.Model):  # noqa: DJ008  (never shown)
            last_login = models.DateTimeField(null=True)

            class Meta:
                app_label = "shopapp"
                db_table = "auth_user"
                managed = False

    monkeypatch.setattr(bulk_sync, "get_user_model", lambda: LoginOnlyUser)

    out, err = run("talon_sync_profiles", "--since", "2020-01-01", "--restart")

    assert "Sent 0 profile(s)" in out
    assert "shopapp.LoginOnlyUser has none of" in err and "never logged in" in err


# -- e) datetimes handed to Talon.One ------------------------------------------------------------
def test_a_naive_referral_expiry_is_local_time(naive_shop: Any) -> None:
    ann = customer()

    referral = services.create_referral(ann, 5, expiry_date=datetime(2030, 1, 1))

    referral.refresh_from_db()
    assert referral.expiry_date == datetime(2030, 1, 1)  # stored as given, naive
    sent = naive_shop.control.requests("/v1/referrals")[-1]["body"]
    sent_expiry = datetime.fromisoformat(sent["expiryDate"].replace("Z", "+00:00"))
    assert sent_expiry == datetime(2029, 12, 31, 23, 0, tzinfo=dt_timezone.utc)  # not 2030-01-01Z


def test_an_aware_referral_expiry_is_stored_on_sqlite(naive_shop: Any) -> None:
    ann = customer()
    moment = datetime(2030, 6, 1, 12, 0, tzinfo=dt_timezone.utc)

    referral = services.create_referral(ann, 5, start_date=moment, expiry_date=moment)

    referral.refresh_from_db()
    assert referral.expiry_date == datetime(2030, 6, 1, 14, 0)  # Berlin summer time


def test_the_best_prior_price_window_ends_now_not_an_hour_later(naive_shop: Any) -> None:
    naive_shop.control.clear_requests()
    best_prior_prices(["ESP-1"])

    (call,) = naive_shop.control.requests("/v1/best_prior_price")
    end = datetime.fromisoformat(call["body"]["timeframeEndDate"].replace("Z", "+00:00"))
    assert abs(end - datetime.now(dt_timezone.utc)) < timedelta(minutes=1)


def test_referral_dates_of_an_answer_are_stored_on_sqlite(naive_shop: Any) -> None:
    ann = customer()
    make_cart(user=ann, items=[ESPRESSO])
    session = CustomerSession.objects.get(profile__user=ann)
    answer = {
        "createdReferrals": [
            {
                "code": "REF-DATED",
                "campaignId": 5,
                "startDate": "2026-01-01T00:00:00Z",
                "expiryDate": "2030-01-01T00:00:00Z",
            }
        ]
    }

    assert store_created_codes(session, [], answer) == 1

    referral = Referral.objects.get(code="REF-DATED")
    assert (referral.start_date, referral.expiry_date) == (
        datetime(2026, 1, 1, 1, 0),
        datetime(2030, 1, 1, 1, 0),
    )


def test_inventory_dates_are_rendered_in_local_time() -> None:
    field = TalonDateTimeField()
    assert field.to_representation("2030-01-01T00:00:00Z") == "2030-01-01T01:00:00+01:00"
    assert field.to_representation("2030-13-01T00:00:00Z") is None  # impossible: null


def test_rest_moments_carry_their_offset(naive_shop: Any) -> None:
    """The REST API's date-times are RFC 3339 (the schema's ``date-time``): a naive value,
    as every ``DateTimeField`` gives here, is the shop's local time, written with its
    offset (DRF writes it without one under ``USE_TZ = False``)."""
    ann = customer()
    cart = make_cart(user=ann, items=[ESPRESSO])
    client = Client()
    client.force_login(ann)
    browser = client.session
    browser["cart_id"] = cart.pk  # the test shop's current cart
    browser.save()
    answer = client.get(API + "promotions/")
    assert answer.status_code == 200, answer.content
    received = answer.json()["received_at"]
    assert received is not None
    parsed = datetime.fromisoformat(received)
    assert parsed.utcoffset() == BERLIN.utcoffset(parsed.replace(tzinfo=None))
    session = CustomerSession.objects.get()
    assert parsed.replace(tzinfo=None) == session.effects_received_at  # naive local, stored
    assert MomentField().to_representation(datetime(2030, 7, 1, 12, 0)) == (
        "2030-07-01T12:00:00+02:00"
    )
    aware = datetime(2030, 7, 1, 10, 0, tzinfo=dt_timezone.utc)
    assert MomentField().to_representation(aware) == "2030-07-01T12:00:00+02:00"


def test_the_client_sends_a_naive_datetime_as_utc() -> None:
    """The client has no Django: its documented reading of a naive value (callers in a
    ``USE_TZ = False`` shop make theirs aware first)."""
    from django_talon.client import to_jsonable

    assert to_jsonable(datetime(2030, 1, 1)) == "2030-01-01T00:00:00Z"
    assert to_jsonable(datetime(2030, 1, 1, tzinfo=BERLIN)) == "2030-01-01T00:00:00+01:00"
