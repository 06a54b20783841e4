"""Several Applications beyond the cart path: the currency of what has no session yet, the
ledger of an order closed without a charged entry, the prior-price endpoint, and the bulk
profile sync (each profile through its own Application, a new one bound to the adapter's).

The fixtures are those of :mod:`tests.core.test_applications`: ``eur`` is the shared
emulator, ``usd`` a second emulator with its own key (each refuses the other's key).
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from django_talon import services
from django_talon.models import CustomerProfile, CustomerSession, OutboxMessage
from django_talon.services import bulk_sync
from django_talon.services.ledger import BOOKED, record_answer
from django_talon.testing.plugin import EmulatorHandle
from tests.core.shop import ESPRESSO, make_cart
from tests.core.test_applications import (  # noqa: F401 (fixtures)
    CurrencyAdapter,
    refused,
    two_apps,
    usd,
    usd_server,
)
from tests.shopapp.models import Cart

pytestmark = pytest.mark.django_db(transaction=True)

BULK = "/v2/customer_profiles"


def test_an_empty_cart_shows_the_currency_of_its_future_application(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
) -> None:
    """A cart with no session yet: not the top-level CURRENCY (EUR) for a USD customer."""
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    cart = Cart.objects.create(user=bob)
    assert services.session_for_cart(cart, create=False) is None
    assert services.get_promotions(cart).currency == "USD"
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    assert services.get_promotions(Cart.objects.create(user=ann)).currency == "EUR"


def test_no_session_at_all_is_the_default_applications_currency(settings: Any, shop: Any) -> None:
    """``APPLICATIONS`` without a top-level CURRENCY: the default Application's, not "EUR"."""
    talon = {k: v for k, v in settings.TALON.items() if k not in ("BASE_URL", "API_KEY")}
    talon.pop("CURRENCY", None)
    settings.TALON = {
        **talon,
        "APPLICATIONS": {"jpy": {"BASE_URL": shop.url, "API_KEY": shop.api_key, "CURRENCY": "JPY"}},
    }
    assert services.get_promotions().currency == "JPY"


def test_a_close_without_a_charged_entry_is_booked_in_the_sessions_currency(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
) -> None:
    """An order placed before the ledger existed has no charged entry: its booked entry was
    written in the top-level CURRENCY whatever the session's Application."""
    CustomerSession.objects.create(integration_id="usd-order", application="usd")
    entry = record_answer(BOOKED, "usd-order", [], sent={"cartItems": []})
    assert entry.currency == "USD"
    CustomerSession.objects.create(integration_id="eur-order", application="eur")
    assert record_answer(BOOKED, "eur-order", [], sent={"cartItems": []}).currency == "EUR"


def test_the_bulk_sync_writes_each_profile_through_its_application(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
) -> None:
    """New profiles go to the adapter's ``application_for_user`` and are bound there (their
    later single updates go there too); a known profile goes to its own Application."""
    eur, usd_app = two_apps
    # bulk_create: users a data import made, no profile yet (no signal ran)
    user_model = get_user_model()
    ann, bob, cy = user_model.objects.bulk_create(
        [user_model(username=name, password="!") for name in ("ann", "bob-us", "cy")]
    )
    # cy's profile was bound to usd earlier (e.g. by a USD session), whatever her name says.
    CustomerProfile.objects.create(user=cy, integration_id=f"user-{cy.pk}", application="usd")
    eur.clear_requests()

    result = bulk_sync.sync_profiles(checkpoint=bulk_sync.NullCheckpoint(), force=True)

    assert result.completed and result.sent == 3 and result.api_calls == 2
    applications = dict(CustomerProfile.objects.values_list("user__username", "application"))
    assert applications == {"ann": "eur", "bob-us": "usd", "cy": "usd"}

    def sent_to(emulator: EmulatorHandle) -> set[str]:
        return {
            item["integrationId"]
            for call in emulator.requests(BULK)
            if call["path"] == BULK and call["method"] == "PUT" and call["status"] < 300
            for item in call["body"]["customerProfiles"]
        }

    assert sent_to(eur) == {f"user-{ann.pk}"}
    assert sent_to(usd_app) == {f"user-{bob.pk}", f"user-{cy.pk}"}
    assert refused(eur) == [] and refused(usd_app) == []


class GbpAdapter(CurrencyAdapter):
    """Routes ``-uk`` customers to an Application "gbp" the settings may not configure yet."""

    def application_for_cart(self, cart: Any) -> str:
        user = cart.user
        if user is not None and user.username.endswith("-uk"):
            return "gbp"
        return super().application_for_cart(cart)


def test_a_cart_routed_to_an_unconfigured_application_is_kept_and_reported(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The adapter names "gbp", which APPLICATIONS lacks: the error is logged when the
    session is created, the writes wait as dead letters (nothing sent anywhere, nothing
    lost), talon_check fails naming the Application, and once it is configured a retry
    delivers them there."""
    eur, usd_app = two_apps
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.GbpAdapter"}
    una = django_user_model.objects.create_user("una-uk", "una@example.com", "pw")
    with caplog.at_level(logging.ERROR, logger="django_talon.services"):
        cart = make_cart(user=una, items=[ESPRESSO])
    assert "application_for_cart chose the Talon.One Application 'gbp'" in caplog.text
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.application == "gbp"
    row = OutboxMessage.objects.get(key=f"session:{session.integration_id}")
    assert row.state == "dead" and "no Talon.One Application 'gbp'" in row.last_error
    assert session.integration_id not in {c["path"] for c in eur.requests()}

    with pytest.raises(CommandError, match=r"outbox message\(s\) for the Application 'gbp'"):
        call_command("talon_check", stdout=io.StringIO())

    settings.TALON = {
        **settings.TALON,
        "APPLICATIONS": {
            **settings.TALON["APPLICATIONS"],
            "gbp": {"BASE_URL": usd_app.url, "API_KEY": usd_app.api_key, "CURRENCY": "GBP"},
        },
    }
    call_command("talon_outbox", "retry", "--all", stdout=io.StringIO())
    row.refresh_from_db()
    assert row.state == "done"
    assert f"/v2/customer_sessions/{session.integration_id}" in {
        c["path"] for c in usd_app.requests() if c["status"] < 300
    }
    assert services.get_promotions(cart).currency == "GBP"


def test_an_event_goes_to_the_application_of_its_session_or_customer(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
) -> None:
    """Events went through the default Application whatever the customer's: the USD
    campaigns never saw a USD customer's events."""
    eur, usd_app = two_apps
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    services.track_event("review_written", user=bob, integration_id="bob-review")
    services.track_event("review_written", user=ann, integration_id="ann-review")
    ann_usd = CustomerSession.objects.create(
        integration_id="ann-usd", application="usd", profile=services.profile_for_user(ann)
    )
    services.track_event("review_written", session=ann_usd, integration_id="ann-usd-review")

    def events(emulator: EmulatorHandle) -> set[str]:
        return {
            c["body"]["integrationId"] for c in emulator.requests("/v3/events") if c["status"] < 300
        }

    assert events(usd_app) == {"bob-review", "ann-usd-review"}
    assert events(eur) == {"ann-review"}


class BrokenRoutingAdapter(CurrencyAdapter):
    def application_for_cart(self, cart: Any) -> str:
        raise RuntimeError("the shop's routing table is down")


def test_an_empty_cart_renders_when_the_routing_hook_fails(
    two_apps: tuple[Any, EmulatorHandle],  # noqa: F811 (the imported fixture)
    django_user_model: Any,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Asking the hook for an empty cart's currency must not turn a page into a 500."""
    settings.TALON = {**settings.TALON, "ADAPTER": f"{__name__}.BrokenRoutingAdapter"}
    cart = Cart.objects.create(user=django_user_model.objects.create_user("bob-us"))
    with caplog.at_level(logging.ERROR, logger="django_talon.services"):
        assert services.get_promotions(cart).currency == "EUR"  # the default Application's
    assert "application_for_cart failed" in caplog.text
