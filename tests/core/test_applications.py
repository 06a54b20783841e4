"""Two Talon.One Applications side by side in one shop (TALON["APPLICATIONS"], issue 15).

A shop selling in EUR and USD with one Application each: the shared ``talon_emulator`` is the
EUR Application, a second :class:`~django_talon.emulator.EmulatorServer` with its own API key
is the USD one. Each emulator refuses the other's key (401), so a session answered by its
emulator went there with the right key.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_talon import outbox, resilience, services
from django_talon.conf import talon_settings
from django_talon.emulator import EmulatorServer
from django_talon.models import CustomerProfile, CustomerSession, OutboxMessage
from django_talon.testing.plugin import EmulatorHandle
from tests.core.conftest import ESPRESSO, GRINDER, make_cart
from tests.shopapp.adapters import ShopAdapter
from tests.shopapp.models import CartItem

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/v2/customer_sessions/"
PROFILES = "/v2/customer_profiles/"
USD_KEY = "usd-application-key"


class CurrencyAdapter(ShopAdapter):
    """Carts of users whose name ends in ``-us`` are sold in USD; everybody else in EUR."""

    def application_for_cart(self, cart: Any) -> str:
        user = cart.user
        return "usd" if user is not None and user.username.endswith("-us") else "eur"

    def application_for_user(self, user: Any) -> str:
        return "usd" if user.username.endswith("-us") else "eur"


@pytest.fixture(scope="module")
def usd_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer(api_key=USD_KEY).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def usd(usd_server: EmulatorServer) -> Iterator[EmulatorHandle]:
    handle = EmulatorHandle(usd_server)
    handle.reset()
    yield handle
    handle.clear_faults()


@pytest.fixture
def two_apps(settings: Any, shop: Any, usd: EmulatorHandle) -> tuple[Any, EmulatorHandle]:
    """The shop with Applications ``eur`` (talon_emulator) and ``usd`` (the second emulator)."""
    settings.TALON = {
        **settings.TALON,
        "ADAPTER": "tests.core.test_applications.CurrencyAdapter",
        "TIMEOUT": 0.5,
        "IMMEDIATE_TIMEOUT": 0.5,
        "CLIENT_MAX_ATTEMPTS": 1,
        "APPLICATIONS": {
            "eur": {"BASE_URL": shop.url, "API_KEY": shop.api_key, "CURRENCY": "EUR"},
            "usd": {"BASE_URL": usd.url, "API_KEY": usd.api_key, "CURRENCY": "USD"},
        },
    }
    shop.clear_requests()
    return shop, usd


def session_paths(emulator: Any) -> set[str]:
    """Session ids the emulator answered (2xx) for."""
    return {
        call["path"][len(SESSIONS) :]
        for call in emulator.requests(SESSIONS)
        if 200 <= call["status"] < 300
    }


def refused(emulator: Any) -> list[dict[str, Any]]:
    return [call for call in emulator.requests() if call["status"] == 401]


def test_each_session_reaches_only_its_own_application(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    eur, usd = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")

    eur_cart = make_cart(user=ann, items=[ESPRESSO])
    usd_cart = make_cart(user=bob, items=[GRINDER])

    eur_session = services.session_for_cart(eur_cart, create=False)
    usd_session = services.session_for_cart(usd_cart, create=False)
    assert eur_session is not None and usd_session is not None
    assert (eur_session.application, usd_session.application) == ("eur", "usd")
    assert session_paths(eur) == {eur_session.integration_id}
    assert session_paths(usd) == {usd_session.integration_id}
    assert refused(eur) == [] and refused(usd) == []
    rows = dict(OutboxMessage.objects.values_list("key", "application"))
    assert rows[f"session:{usd_session.integration_id}"] == "usd"
    assert rows[f"session:{eur_session.integration_id}"] == "eur"

    # A later write of the session goes to the session's Application, whatever the adapter
    # would answer now.
    CartItem.objects.create(cart=usd_cart, sku="KETTLE", name="Kettle", price=45, quantity=1)
    usd_paths = [c["path"] for c in usd.requests(SESSIONS)]
    assert usd_paths.count(f"{SESSIONS}{usd_session.integration_id}") >= 2
    assert session_paths(eur) == {eur_session.integration_id}


def test_quotes_and_promotions_are_in_the_sessions_currency(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    eur_cart = make_cart(user=ann, items=[ESPRESSO])
    usd_cart = make_cart(user=bob, items=[ESPRESSO])

    assert services.quote_for_cart(eur_cart).currency == "EUR"
    assert services.quote_for_cart(usd_cart).currency == "USD"
    assert services.get_promotions(usd_cart).currency == "USD"


def test_a_profile_is_written_through_the_users_application(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    eur, usd = two_apps
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")

    services.sync_profile(bob, force=True)
    services.sync_profile(ann, force=True)

    assert CustomerProfile.objects.get(user=bob).application == "usd"
    assert CustomerProfile.objects.get(user=ann).application == "eur"
    usd_profiles = {c["path"] for c in usd.requests(PROFILES) if c["status"] < 300}
    eur_profiles = {c["path"] for c in eur.requests(PROFILES) if c["status"] < 300}
    bob_path = f"{PROFILES}{bob.talon_profile.integration_id}"
    ann_path = f"{PROFILES}{ann.talon_profile.integration_id}"
    assert bob_path in usd_profiles and bob_path not in eur_profiles
    assert ann_path in eur_profiles and ann_path not in usd_profiles


def test_an_outage_of_one_application_opens_only_its_breaker(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    eur, usd = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    usd.add_fault(kind="error", status=503, path=f"{SESSIONS}*")

    # Each cart's first save is one immediate attempt (a session key of its own).
    usd_carts = [
        make_cart(user=bob, items=[ESPRESSO]) for _ in range(talon_settings.BREAKER_THRESHOLD)
    ]
    usd_cart = usd_carts[0]
    assert resilience.breaker_for("usd").state() == "open"
    assert resilience.breaker_for("eur").state() == "closed"
    assert resilience.health()["applications"]["usd"]["breaker"] == "open"

    # The EUR Application keeps working while USD is down.
    eur_cart = make_cart(user=ann, items=[ESPRESSO])
    eur_session = services.session_for_cart(eur_cart, create=False)
    assert eur_session is not None and eur_session.effects_received_at is not None
    assert session_paths(eur) == {eur_session.integration_id}

    # Nothing of USD is lost: after recovery its rows go to the USD Application.
    usd_session = services.session_for_cart(usd_cart, create=False)
    assert usd_session is not None
    pending = OutboxMessage.objects.filter(state="pending")
    assert set(pending.values_list("application", flat=True)) == {"usd"}
    usd.clear_faults()
    resilience.breaker_for("usd").reset()
    pending.update(next_attempt_at=timezone.now())
    outbox.relay()

    assert not OutboxMessage.objects.filter(state="pending").exists()
    usd_ids = {services.session_for_cart(c, create=False).integration_id for c in usd_carts}
    assert session_paths(usd) == usd_ids
    assert session_paths(eur) == {eur_session.integration_id}
    usd_session.refresh_from_db()
    assert usd_session.pushed_fingerprint == usd_session.fingerprint


def test_the_kill_switch_of_one_application_leaves_the_other_on(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    eur, usd = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    resilience.set_kill_switch(True, application="usd")
    try:
        assert resilience.is_enabled("eur") and not resilience.is_enabled("usd")
        make_cart(user=bob, items=[ESPRESSO])
        eur_cart = make_cart(user=ann, items=[ESPRESSO])
        assert usd.requests(SESSIONS) == []
        assert len(session_paths(eur)) == 1
        assert OutboxMessage.objects.filter(state="pending", application="usd").exists()
        assert services.session_for_cart(eur_cart, create=False) is not None
    finally:
        resilience.set_kill_switch(False, application="usd")


def test_keys_never_show(two_apps: tuple[Any, EmulatorHandle]) -> None:
    eur, usd = two_apps
    text = repr(talon_settings) + repr(talon_settings.config.applications)
    assert USD_KEY not in text and eur.api_key not in text
    assert resilience.redact(f"sent {USD_KEY} and {eur.api_key}") == "sent *** and ***"
    assert repr(resilience.get_client(application="usd")).count(USD_KEY) == 0


def test_one_application_shop_is_the_default(shop: Any, django_user_model: Any) -> None:
    """No APPLICATIONS: one Application called "default" from the top-level keys; rows say
    "default" and the breaker keys are those of before."""
    apps = talon_settings.config.applications
    assert list(apps) == ["default"]
    assert apps["default"].BASE_URL == shop.url and apps["default"].CURRENCY == "EUR"
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None and session.application == "default"
    assert set(OutboxMessage.objects.values_list("application", flat=True)) == {"default"}
    assert resilience.breaker_for("default")._keys() == resilience.breaker._keys()
    assert resilience.breaker._keys()[0] == "django_talon:breaker:failures"


def test_rows_written_as_default_go_to_the_default_application(
    two_apps: tuple[Any, EmulatorHandle],
) -> None:
    """Rows from before APPLICATIONS was set say "default": the first listed one gets them."""
    eur, _usd = two_apps
    assert talon_settings.default_application == "eur"
    assert resilience.application_name("default") == "eur"
    session = CustomerSession.objects.create(integration_id="old-session", application="default")
    with resilience.guarded("read", application=session.application) as client:
        assert client.base_url.rstrip("/") == eur.url
    with pytest.raises(LookupError, match="no Talon.One Application 'gbp'"):
        resilience.get_client(application="gbp")


def test_a_profile_goes_to_every_application_the_customer_has_sessions_in(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    """Ann shops in EUR (her profile's Application) and once in USD: her profile is written
    to both, each Application's row delivered with its own key."""
    eur, usd = two_apps
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    make_cart(user=ann, items=[ESPRESSO])
    usd_session = CustomerSession.objects.create(
        integration_id="ann-usd", application="usd", profile=services.profile_for_user(ann)
    )
    assert usd_session.profile is not None
    ann.first_name = "Ann"
    services.sync_profile(ann, force=True)

    path = f"{PROFILES}{ann.talon_profile.integration_id}"
    assert path in {c["path"] for c in eur.requests(PROFILES) if c["status"] < 300}
    assert path in {c["path"] for c in usd.requests(PROFILES) if c["status"] < 300}
    rows = OutboxMessage.objects.filter(operation="profile.update", state="done")
    assert set(rows.values_list("application", flat=True)) == {"eur", "usd"}
    assert refused(eur) == [] and refused(usd) == []


def test_the_admin_shows_and_filters_the_application(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any, client: Any
) -> None:
    eur, usd = two_apps
    staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    make_cart(items=[ESPRESSO])
    make_cart(user=bob, items=[ESPRESSO])
    usd_id = CustomerSession.objects.get(application="usd").integration_id
    eur_id = CustomerSession.objects.get(application="eur").integration_id
    client.force_login(staff)

    for model in ("customersession", "customerprofile", "outboxmessage"):
        page = client.get(f"/admin/django_talon/{model}/?application=usd").content.decode()
        assert "usd" in page
        assert USD_KEY not in page and eur.api_key not in page
    sessions = client.get("/admin/django_talon/customersession/?application=usd").content.decode()
    assert usd_id in sessions and eur_id not in sessions


def test_talon_check_probes_every_application_with_its_own_key(
    two_apps: tuple[Any, EmulatorHandle],
) -> None:
    eur, usd = two_apps
    out = io.StringIO()
    call_command("talon_check", "--json", "--skip-outbox", stdout=out)
    report = json.loads(out.getvalue())
    assert {name: app["api"]["ok"] for name, app in report["applications"].items()} == {
        "eur": True,
        "usd": True,
    }
    assert USD_KEY not in out.getvalue() and eur.api_key not in out.getvalue()

    usd.add_fault(kind="error", status=503, path=f"{SESSIONS}*")
    with pytest.raises(CommandError, match="Application 'usd'"):
        call_command("talon_check", "--skip-outbox", stdout=io.StringIO())


def test_talon_check_text_names_the_keys_per_application(
    two_apps: tuple[Any, EmulatorHandle], settings: Any
) -> None:
    """The header said "API key: NOT SET" (the top-level key) above two working keys."""
    eur, _ = two_apps
    settings.TALON = {k: v for k, v in settings.TALON.items() if k != "API_KEY"}
    out = io.StringIO()
    call_command("talon_check", "--skip-outbox", stdout=out)
    text = out.getvalue()
    assert "API key:   per Application (below)" in text
    assert "NOT SET" not in text
    assert USD_KEY not in text and eur.api_key not in text


def test_a_row_of_an_application_no_longer_configured_is_a_dead_letter(
    two_apps: tuple[Any, EmulatorHandle],
) -> None:
    """Not a crash of the relay: the row says why, the other Applications' rows go on."""
    eur, usd = two_apps
    row = outbox.enqueue(
        "profile.update",
        "profile:gone",
        {"integration_id": "gone", "attributes": {}},
        application="gbp",
        deliver=False,
    )
    report = outbox.deliver_key(row.key)
    row.refresh_from_db()
    assert (row.state, report.dead) == ("dead", 1)
    assert "no Talon.One Application 'gbp'" in row.last_error
    assert eur.requests() == [] and usd.requests() == []


def test_a_quote_is_unavailable_only_where_the_circuit_is_open(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    """The session's own Application decides whether "Talon.One is down" for its quote."""
    ann = django_user_model.objects.create_user("ann", "ann@example.com", "pw")
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    resilience.set_kill_switch(True, application="usd")
    try:
        eur_cart = make_cart(user=ann, items=[ESPRESSO])
        usd_cart = make_cart(user=bob, items=[ESPRESSO])
        assert services.quote_for_cart(usd_cart).status == services.QuoteStatus.UNAVAILABLE
        assert services.quote_for_cart(eur_cart).status == services.QuoteStatus.CONFIRMED
    finally:
        resilience.set_kill_switch(False, application="usd")


def test_the_operator_closes_every_applications_circuit(
    two_apps: tuple[Any, EmulatorHandle],
) -> None:
    for name in ("eur", "usd"):
        for _ in range(talon_settings.BREAKER_THRESHOLD):
            resilience.breaker_for(name).record_failure()
    assert resilience.breaker_for("usd").state() == "open"
    services.deliver_pending_now(close_circuit=True)
    assert [resilience.breaker_for(n).state() for n in ("eur", "usd")] == ["closed", "closed"]


def test_an_erasure_reaches_every_application(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    """Bob shops in USD; his erasure was a DELETE in the default Application only (and the
    request said "completed"). Now one DELETE per Application, each with its own key, and
    the request is completed when both confirmed (USD: 204, EUR: 404, never known there)."""
    eur, usd = two_apps
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    make_cart(user=bob, items=[GRINDER])
    integration_id = CustomerProfile.objects.get(user=bob).integration_id
    assert integration_id in usd.control.state()["profiles"]
    eur.clear_requests()
    usd.clear_requests()

    request = services.erase_customer(bob, requested_by="test")

    request.refresh_from_db()
    assert request.state == "completed"
    deletes = f"/v1/customer_data/{integration_id}"
    assert [c["status"] for c in usd.requests(deletes)] == [204]
    assert [c["status"] for c in eur.requests(deletes)] == [404]
    assert integration_id not in usd.control.state()["profiles"]
    rows = OutboxMessage.objects.filter(operation="customer.erase")
    assert sorted(rows.values_list("application", "state")) == [("eur", "done"), ("usd", "done")]


def test_an_erasure_is_completed_only_when_every_application_confirmed(
    two_apps: tuple[Any, EmulatorHandle], django_user_model: Any
) -> None:
    eur, usd = two_apps
    bob = django_user_model.objects.create_user("bob-us", "bob@example.com", "pw")
    make_cart(user=bob, items=[GRINDER])
    integration_id = CustomerProfile.objects.get(user=bob).integration_id
    usd.add_fault(kind="error", status=503, path="/v1/customer_data/*")

    request = services.erase_customer(bob, requested_by="test")

    request.refresh_from_db()
    assert request.state != "completed"
    assert integration_id in usd.control.state()["profiles"]
    usd.clear_faults()
    assert services.process_erasure(request.pk) is True
    request.refresh_from_db()
    assert request.state == "completed"
    assert integration_id not in usd.control.state()["profiles"]
