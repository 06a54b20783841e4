"""Signal wiring and request helpers (fake client, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from django_talon import services, signals
from django_talon.adapters import REQUEST_SESSION_KEY, TalonAdapter
from django_talon.models import CustomerProfile, CustomerSession, DataDeletionRequest, OutboxMessage
from tests.core.conftest import ESPRESSO, FakeClient, make_cart
from tests.shopapp.models import Cart, Order

pytestmark = pytest.mark.django_db(transaction=True)


def web_request(user: Any = None) -> Any:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    return request


@pytest.fixture
def default_adapter(settings: Any, fake_client: FakeClient) -> FakeClient:
    settings.TALON = {**settings.TALON, "ADAPTER": "django_talon.adapters.TalonAdapter"}
    return fake_client


def test_user_created_gets_a_profile_and_update_is_coalesced(
    fake_client: FakeClient, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("pat", "pat@example.com", "pw", first_name="P")
    profile = CustomerProfile.objects.get(user=user)
    assert profile.integration_id == f"user-{user.pk}"  # never the e-mail
    assert profile.pushed_fingerprint and profile.last_synced_at
    rows = OutboxMessage.objects.count()
    user.save()  # nothing changed for Talon.One
    assert OutboxMessage.objects.count() == rows
    user.first_name = "Pat"
    user.last_name = "Doe"
    user.save()
    assert fake_client.calls[-1] == (
        "update_customer_profile_v2",
        (f"user-{user.pk}", {"Name": "Pat Doe"}),
        {},
    )


def test_profile_sync_can_be_switched_off(
    settings: Any, fake_client: FakeClient, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "SYNC_PROFILES_ON_SAVE": False}
    user = django_user_model.objects.create_user("off", "off@example.com", "pw")
    assert not CustomerProfile.objects.exists()
    user.delete()  # unknown to Talon.One: nothing to erase
    assert not DataDeletionRequest.objects.exists()


def test_erase_on_delete_can_be_switched_off(
    settings: Any, fake_client: FakeClient, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "ERASE_ON_USER_DELETE": False}
    django_user_model.objects.create_user("keep", "keep@example.com", "pw").delete()
    assert not DataDeletionRequest.objects.exists()


def test_login_attaches_the_anonymous_session(
    default_adapter: FakeClient, django_user_model: Any
) -> None:
    from django.contrib.auth import login

    request = web_request()
    cart = make_cart(items=[ESPRESSO])
    session = services.update_cart(cart, request=request)
    assert request.session[REQUEST_SESSION_KEY] == session.integration_id
    user = django_user_model.objects.create_user("lin", "lin@example.com", "pw")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    session.refresh_from_db()
    assert session.profile is not None and session.profile.user == user
    body = [c for c in default_adapter.calls if c[0] == "update_customer_session_v2"][-1][1][1]
    assert body["profileId"] == f"user-{user.pk}"


def test_session_for_request_fallbacks(default_adapter: FakeClient, django_user_model: Any) -> None:
    request = web_request()
    assert services.session_for_request(request) is None
    created = services.session_for_request(request, create=True)
    assert created is not None and created.cart_key == ""
    assert services.session_for_request(request) == created
    # A cart saved later adopts the cart-less session (its coupon codes survive).
    services.apply_coupon(created, "WELCOME10")
    cart = make_cart()
    cart_session = services.update_cart(cart, request=request)
    assert cart_session.pk == created.pk and cart_session.coupon_codes == ["WELCOME10"]
    user = django_user_model.objects.create_user("sfr", "sfr@example.com", "pw")
    mine = services.update_cart(make_cart(user=user, items=[ESPRESSO]))
    assert services.session_for_request(web_request(user)) == mine


def test_custom_adapter_cart_for_request(fake_client: FakeClient) -> None:
    cart = make_cart(items=[ESPRESSO])
    request = web_request()
    request.session["cart_id"] = cart.pk
    session = services.session_for_request(request)
    assert session is not None and session == services.session_for_cart(cart, create=False)


def test_cart_deleted_sends_an_empty_cart(fake_client: FakeClient) -> None:
    cart = make_cart(items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    Cart.objects.filter(pk=cart.pk).first().delete()  # type: ignore[union-attr]
    session.refresh_from_db()  # type: ignore[union-attr]
    assert session is not None and session.cart_items == []
    body = [c for c in fake_client.calls if c[0] == "update_customer_session_v2"][-1][1][1]
    assert body["cartItems"] == []


def test_raw_fixture_loading_is_ignored(fake_client: FakeClient) -> None:
    from django_talon import receivers

    cart = Cart.objects.create()
    receivers.on_model_saved(Cart, cart, raw=True)
    assert not CustomerSession.objects.exists()


def test_app_signals(fake_client: FakeClient) -> None:
    seen: list[str] = []

    def on_effects(sender: Any, session: Any, effects: Any, **kw: Any) -> None:
        seen.append("effects")

    def on_closed(sender: Any, session: Any, **kw: Any) -> None:
        seen.append("closed")

    signals.effects_updated.connect(on_effects)
    signals.session_closed.connect(on_closed)
    try:
        cart = make_cart(items=[ESPRESSO])
        Order.objects.create(cart=cart, status="paid")
    finally:
        signals.effects_updated.disconnect(on_effects)
        signals.session_closed.disconnect(on_closed)
    assert seen == ["effects", "effects", "closed"]


def test_erasure_voids_queued_profile_updates(
    settings: Any, fake_client: FakeClient, django_user_model: Any
) -> None:
    settings.TALON = {**settings.TALON, "ENABLED": False}  # keep rows pending
    user = django_user_model.objects.create_user("gdpr", "gdpr@example.com", "pw")
    update = OutboxMessage.objects.get(operation="profile.update")
    request = services.erase_customer(integration_id=f"user-{user.pk}", requested_by="staff:9")
    update.refresh_from_db()
    assert update.state == "done" and update.result == "erased" and update.payload == {}
    assert request.requested_by == "staff:9" and request.state == "pending"
    assert CustomerProfile.objects.get().user is None
    with pytest.raises(ValueError):
        services.erase_customer()


def test_default_adapter_order_states() -> None:
    adapter = TalonAdapter()

    class FakeOrder:
        def __init__(self, status: str) -> None:
            self.status = status

    assert adapter.order_session_state(FakeOrder("PAID")) == "closed"
    assert adapter.order_session_state(FakeOrder("canceled")) == "cancelled"
    assert adapter.order_session_state(FakeOrder("pending")) is None


def test_erasure_voids_queued_session_writes(
    settings: Any, fake_client: FakeClient, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("late", "late@example.com", "pw")
    settings.TALON = {**settings.TALON, "ENABLED": False}  # keep rows pending
    make_cart(user=user, items=[ESPRESSO])
    pending = OutboxMessage.objects.get(operation="session.update", state="pending")
    settings.TALON = {**settings.TALON, "ENABLED": True}
    user.delete()
    pending.refresh_from_db()
    assert pending.result == "erased" and pending.payload == {}
    assert [c[0] for c in fake_client.calls][-1] == "delete_customer_data"
    assert "update_customer_session_v2" not in [c[0] for c in fake_client.calls]
