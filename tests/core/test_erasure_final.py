"""Erased means erased (issue 11), against the emulator over HTTP.

After an erasure is requested, nothing for that customer reaches Talon.One but the erasure
itself: not through the cascade of the user's delete (carts and cart items deleted *after*
the user's ``pre_delete``, whose receivers used to queue a session write naming the erased
customer), receivers, later requests, retried dead letters, the relay or Celery; also with
Talon.One failing or the kill switch on during the delete. "No trace" is read from the
emulator: its state dump does not contain the integration id nor a session of the customer,
and no request after the last ``DELETE /v1/customer_data/{id}`` names them.

And the customer's personal data is gone from every row django-talon stores: outbox
payloads (pending, delivered, dead), sessions (attributes, codes, stored effects),
reservations, referrals, the profile; the audit row keeps the integration id only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core import serializers
from django.db import transaction

from django_talon import outbox, resilience, services
from django_talon.exceptions import TalonRequestFailedError
from django_talon.models import (
    CouponReservation,
    CustomerProfile,
    CustomerSession,
    DataDeletionRequest,
    Discrepancy,
    LedgerEntry,
    OutboxMessage,
    Referral,
)
from django_talon.services.handlers import SESSION_UPDATE, session_key
from tests.core.shop import ESPRESSO, GRINDER, KETTLE, make_cart
from tests.shopapp.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

#: The example shop's carts, which (unlike tests/shopapp's) are deleted with their user.
CASCADING_CARTS: dict[str, Any] = {
    "ADAPTER": "example_project.talon_adapter.ShopTalonAdapter",
    "CART_MODELS": ["cart.Cart"],
    "CART_ITEM_MODELS": ["cart.CartItem"],
}


# -- what Talon.One and the database hold ------------------------------------------------------
def talon_traces(shop: Any, integration_id: str, session_ids: list[str]) -> list[str]:
    """Where Talon.One (the emulator) still shows the customer; [] = no trace."""
    found = []
    state = shop.control.state()
    dump = json.dumps(state)
    if json.dumps(integration_id) in dump:
        found.append(f"the state dump names {integration_id}")
    found += [f"session {sid} exists" for sid in session_ids if sid in state["sessions"]]
    calls = shop.control.requests()
    deletes = [
        i
        for i, call in enumerate(calls)
        if call["method"] == "DELETE" and call["path"] == f"/v1/customer_data/{integration_id}"
    ]
    if not deletes:
        return [*found, "no DELETE /v1/customer_data was sent"]
    for call in calls[deletes[-1] + 1 :]:
        text = json.dumps(call)
        if json.dumps(integration_id)[1:-1] in text or any(sid in text for sid in session_ids):
            found.append(f"after the DELETE: {call['method']} {call['path']}")
    return found


def stored_rows() -> str:
    """Every row of django-talon's models, serialised (what an admin or a dump could show)."""
    models: list[Any] = [
        CouponReservation,
        CustomerProfile,
        CustomerSession,
        DataDeletionRequest,
        Discrepancy,
        LedgerEntry,
        OutboxMessage,
        Referral,
    ]
    return "\n".join(serializers.serialize("json", m.objects.all()) for m in models)


def customer_session_ids(integration_id: str) -> list[str]:
    return list(
        CustomerSession.objects.filter(profile__integration_id=integration_id).values_list(
            "integration_id", flat=True
        )
    )


def assert_erased(shop: Any, integration_id: str, session_ids: list[str], *secrets: str) -> None:
    """Confirmed, no trace in Talon.One, nothing pending, no personal data stored."""
    assert talon_traces(shop, integration_id, session_ids) == []
    request = DataDeletionRequest.objects.filter(integration_id=integration_id).latest("pk")
    assert request.state == "completed", request.last_error
    keys = [f"profile:{integration_id}", *(session_key(s) for s in session_ids)]
    assert not OutboxMessage.objects.filter(key__in=keys, state__in=["pending", "dead"]).exists()
    rows = stored_rows()
    for secret in secrets:
        assert secret not in rows, secret
    profile = CustomerProfile.objects.get(integration_id=integration_id)
    assert profile.user is None and profile.erased_at is not None and profile.attributes == {}


def customer(django_user_model: Any, username: str) -> Any:
    return django_user_model.objects.create_user(
        username, f"{username}@example.com", "pw", first_name="Erin", last_name=f"Secret{username}"
    )


@pytest.fixture
def cascading_shop(shop: Any, settings: Any) -> Iterator[Any]:
    """The emulator, with the example shop's carts (CASCADE on the user) mirrored."""
    from example_project.catalog.models import Category, Product

    settings.TALON = {**settings.TALON, **CASCADING_CARTS}
    coffee = Category.objects.create(slug="coffee", name="Coffee")
    Product.objects.create(sku="ESPRESSO-250", name="Espresso", category=coffee, price=8.5)
    Product.objects.create(sku="GRINDER-X", name="Grinder", category=coffee, price=89)
    yield shop


def example_cart(user: Any, *skus: str) -> Any:
    from example_project.cart.models import Cart, CartItem
    from example_project.catalog.models import Product

    cart = Cart.objects.create(user=user)
    for sku in skus:
        CartItem.objects.create(cart=cart, product=Product.objects.get(sku=sku), quantity=2)
    return cart


# -- 1. erasure is final ------------------------------------------------------------------------
def test_user_delete_cascading_to_carts_leaves_no_trace(
    cascading_shop: Any, django_user_model: Any
) -> None:
    """The measured bug (17 of 25): the carts' receivers ran after the erasure, re-linked the
    profile and queued a session write delivered after the DELETE. 0 of 10 now."""
    for n in range(10):
        user = customer(django_user_model, f"casc{n}")
        integration_id = f"user-{user.pk}"
        example_cart(user, "ESPRESSO-250", "GRINDER-X")
        services.apply_coupon(example_cart(user, "ESPRESSO-250"), "WELCOME10")
        assert integration_id in cascading_shop.control.state()["profiles"]
        sessions = customer_session_ids(integration_id)
        assert len(sessions) == 2

        user.delete()

        assert_erased(cascading_shop, integration_id, sessions, user.email, user.last_name)
        assert not CustomerProfile.objects.filter(integration_id=integration_id, user__isnull=False)
        # The cascade's writes were refused in the erasure's transaction, not queued.
        assert not OutboxMessage.objects.filter(
            key__in=[session_key(s) for s in sessions], state="pending"
        ).exists()


def test_user_delete_with_orders_pending_writes_reservations_and_referrals(
    shop: Any, django_user_model: Any
) -> None:
    advocate = customer(django_user_model, "advo")
    code = services.create_referral(advocate, 5).code
    user = customer(django_user_model, "full")
    integration_id = f"user-{user.pk}"
    paid = make_cart(user=user, items=[GRINDER])
    services.apply_referral(paid, code)
    Order.objects.create(cart=paid, user=user, status="paid")
    services.reserve_coupon("VIP20", [user, advocate])
    services.create_referral(user, 5)
    resilience.set_kill_switch(True)  # a cart change and a profile change stay queued
    open_cart = make_cart(user=user, items=[KETTLE])
    services.apply_coupon(open_cart, "WELCOME10")
    user.first_name = "Changed"
    user.save()
    resilience.set_kill_switch(False)
    assert OutboxMessage.objects.filter(state="pending").count() >= 2
    sessions = customer_session_ids(integration_id)

    with transaction.atomic():  # the shop's own clean-up, after the erasure, in one go
        user.delete()
        services.update_cart(open_cart)
        services.apply_coupon(open_cart, "VIP20")
        Order.objects.create(cart=open_cart, status="paid")
        services.sync_profile(user, force=True)
    outbox.relay()

    assert_erased(shop, integration_id, sessions, user.email, user.last_name, "Changed")
    assert not CouponReservation.objects.filter(profile__integration_id=integration_id).exists()
    assert not Referral.objects.filter(advocate__integration_id=integration_id).exists()
    assert CouponReservation.objects.filter(profile__user=advocate).exists()  # not theirs
    assert shop.control.state()["coupons"]["VIP20"]["reservedFor"] == [f"user-{advocate.pk}"]
    for session in CustomerSession.objects.filter(integration_id__in=sessions):
        assert session.referral_code == "" and session.effects == [] and session.attributes == {}
        assert session.coupon_codes == [] and code not in json.dumps(session.effects)


def test_a_kept_user_is_never_linked_nor_sent_again(shop: Any, django_user_model: Any) -> None:
    user = customer(django_user_model, "kept")
    integration_id = f"user-{user.pk}"
    cart = make_cart(user=user, items=[ESPRESSO])
    services.erase_customer(user, requested_by="test")
    sessions = customer_session_ids(integration_id)

    # Later requests of the same (kept) user: every path that writes to Talon.One.
    user.last_name = "StillSecret"
    user.save()
    services.sync_profile(user, force=True)
    services.update_cart(cart)
    services.apply_coupon(cart, "WELCOME10")
    new_cart = make_cart(user=user, items=[GRINDER])
    services.apply_referral(new_cart, "NOPE-REF")
    services.reserve_coupon("VIP20", [user])
    Order.objects.create(cart=new_cart, user=user, status="paid")
    with pytest.raises(TalonRequestFailedError):
        services.create_referral(user, 5)
    profile = services.profile_for_user(user)
    outbox.relay()

    assert profile.integration_id == integration_id and profile.user is None
    sessions = customer_session_ids(integration_id)
    assert len(sessions) == 2  # the new cart's session is the tombstone's too: never sent
    assert_erased(shop, integration_id, sessions, user.email, "StillSecret")
    refused = OutboxMessage.objects.filter(result="erased")
    assert refused.exists() and all(m.payload == {} for m in refused)
    assert not CouponReservation.objects.exists()


def test_rows_from_other_transactions_retries_and_relays_are_refused(
    shop: Any, settings: Any, django_user_model: Any
) -> None:
    user = customer(django_user_model, "late")
    integration_id = f"user-{user.pk}"
    cart = make_cart(user=user, items=[ESPRESSO])
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    # A dead letter (Talon.One refused the profile once) and a pending retry.
    shop.control.add_fault(kind="error", status=400, path="/v2/customer_profiles/*", times=1)
    user.last_name = "DeadLetter"
    user.save()
    assert OutboxMessage.objects.filter(state="dead", operation="profile.update").exists()
    services.erase_customer(user, requested_by="test")

    # A row queued by a request that committed after the erasure (the erasure never saw
    # it), then every way a row is delivered again.
    body = {**services.session_payload(session), "profileId": integration_id}
    with transaction.atomic():
        outbox.enqueue(
            SESSION_UPDATE,
            session_key(session.integration_id),
            {"session_id": session.integration_id, "customerSession": body},
            deliver=False,
        )
    services.retry_dead_letters()
    outbox.relay()
    outbox.sweep()
    services.redeliver_dead_letters()
    outbox.deliver_key(session_key(session.integration_id), force=True)

    assert_erased(shop, integration_id, [session.integration_id], user.email, "DeadLetter")
    dead_before = OutboxMessage.objects.filter(operation="profile.update")
    assert all(m.state == "done" and m.payload == {} for m in dead_before)


def test_celery_delivery_sends_nothing_for_the_erased(
    shop: Any, settings: Any, django_user_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import celery

    import django_talon.tasks  # noqa: F401  (registers the shared tasks)

    app = celery.Celery("django_talon_erasure_tests", set_as_current=False)
    monkeypatch.setattr(celery, "current_app", app)
    app.conf.task_always_eager = True
    settings.TALON = {**settings.TALON, "DELIVERY": "celery"}
    try:
        user = customer(django_user_model, "celery")
        integration_id = f"user-{user.pk}"
        cart = make_cart(user=user, items=[ESPRESSO])
        sessions = customer_session_ids(integration_id)
        with transaction.atomic():
            user.delete()
            services.update_cart(cart)
        services.apply_coupon(cart, "WELCOME10")  # the cart lives on (SET_NULL), anonymous
        outbox.relay(dispatch_tasks=True)
        assert_erased(shop, integration_id, sessions, user.email, user.last_name)
    finally:
        app.close()


@pytest.mark.parametrize("failure", ["talon_failing", "kill_switch"])
def test_erasure_under_failures_leaves_no_trace(
    failure: str, cascading_shop: Any, django_user_model: Any
) -> None:
    """Talon.One answering 503 (the DELETE and the writes), or the kill switch on, while the
    user is deleted: the erasure waits and is retried; nothing else gets through later."""
    users = [customer(django_user_model, f"fail{n}") for n in range(3)]
    for user in users:
        example_cart(user, "ESPRESSO-250")
    erased = [
        (f"user-{u.pk}", customer_session_ids(f"user-{u.pk}"), u.email, u.last_name) for u in users
    ]
    if failure == "kill_switch":
        resilience.set_kill_switch(True)
    else:
        cascading_shop.control.add_fault(kind="error", status=503, times=6)
    for user in users:
        user.delete()
    assert DataDeletionRequest.objects.filter(state="pending").count() == 3
    resilience.set_kill_switch(False)
    cascading_shop.control.clear_faults()
    resilience.breaker.reset()

    services.retry_unconfirmed_erasures()
    outbox.relay()
    for integration_id, sessions, *secrets in erased:
        assert_erased(cascading_shop, integration_id, sessions, *secrets)


# -- 2. personal data removed from every stored row ---------------------------------------------
def test_delivered_profile_rows_lose_name_and_email(shop: Any, django_user_model: Any) -> None:
    user = customer(django_user_model, "delivered")
    user.last_name = "SecretTwo"
    user.save()
    sent = list(OutboxMessage.objects.filter(operation="profile.update", result="sent"))
    assert sent and any("SecretTwo" in json.dumps(m.payload) for m in sent)
    services.erase_customer(user, requested_by="test")
    for message in sent:
        message.refresh_from_db()
        assert message.payload == {} and message.fingerprint == ""
        assert message.state == "done" and message.result == "sent"  # what happened stays
    assert "SecretTwo" not in stored_rows() and user.email not in stored_rows()


def test_session_payloads_naming_them_are_emptied_other_customers_kept(
    shop: Any, django_user_model: Any
) -> None:
    user = customer(django_user_model, "named")
    other = customer(django_user_model, "other")
    integration_id = f"user-{user.pk}"
    make_cart(user=user, items=[ESPRESSO])
    make_cart(user=other, items=[ESPRESSO])
    resilience.set_kill_switch(True)
    services.reserve_coupon("VIP20", [user, other])  # one pending row for both
    resilience.set_kill_switch(False)
    services.erase_customer(user, requested_by="test")

    for message in OutboxMessage.objects.exclude(operation="customer.erase"):
        assert json.dumps(integration_id) not in json.dumps(message.payload), message
    reserve = OutboxMessage.objects.get(operation="coupon.reserve")
    assert reserve.payload["integration_ids"] == [f"user-{other.pk}"]
    outbox.relay()
    assert shop.control.state()["coupons"]["VIP20"]["reservedFor"] == [f"user-{other.pk}"]
    assert OutboxMessage.objects.filter(key__startswith="session:", payload={}).exists()
    other_rows = OutboxMessage.objects.filter(
        key__in=[session_key(s) for s in customer_session_ids(f"user-{other.pk}")]
    )
    assert all(m.payload for m in other_rows)  # another customer's rows are untouched


def test_sessions_and_referral_mirrors_forget_them(shop: Any, django_user_model: Any) -> None:
    advocate = customer(django_user_model, "adv")
    friend = customer(django_user_model, "friend")
    friend_id = f"user-{friend.pk}"
    own = services.create_referral(friend, 5)  # the friend's own code
    named = services.create_referral(advocate, 5, friend=friend)  # names the friend
    assert named.friend_integration_id == friend_id
    session = services.apply_referral(make_cart(user=friend, items=[KETTLE]), named.code)
    assert named.code in json.dumps(session.effects)  # "a friend's referral code"
    CustomerSession.objects.filter(pk=session.pk).update(attributes={"email": friend.email})

    services.erase_customer(friend, requested_by="test")

    session.refresh_from_db()
    assert session.attributes == {} and session.referral_code == "" and session.effects == []
    assert session.fingerprint == "" and session.pushed_fingerprint == ""
    assert session.cart_items  # the cart lines stay: no personal data
    assert not Referral.objects.filter(pk=own.pk).exists()
    named.refresh_from_db()
    assert named.friend_integration_id == "" and json.dumps(friend_id) not in json.dumps(named.raw)
    assert friend.email not in stored_rows() and json.dumps(friend_id) not in json.dumps(
        [r.raw for r in Referral.objects.all()]
    )


def test_the_audit_row_keeps_the_integration_id_only(shop: Any, django_user_model: Any) -> None:
    user = customer(django_user_model, "audit")
    request = services.erase_customer(user, requested_by="staff:7")
    row = serializers.serialize("json", [DataDeletionRequest.objects.get(pk=request.pk)])
    fields = json.loads(row)[0]["fields"]
    assert fields["integration_id"] == f"user-{user.pk}" and fields["requested_by"] == "staff:7"
    for secret in (user.email, user.last_name, user.username):
        assert secret not in row


def test_erasure_by_id_alone_leaves_a_tombstone(shop: Any, django_user_model: Any) -> None:
    """Erased before django-talon ever saw the user: the id still never comes back."""
    with transaction.atomic():
        user = django_user_model(username="ghost", email="ghost@example.com")
        user.save()
        services.erase_customer(integration_id=f"user-{user.pk}", requested_by="ticket:1")
        # The user's post_save receiver ran before; a cart of theirs comes after.
        make_cart(user=user, items=[ESPRESSO])
    services.sync_profile(user, force=True)
    make_cart(user=user, items=[GRINDER])
    profile = CustomerProfile.objects.get(integration_id=f"user-{user.pk}")
    assert profile.erased_at is not None and profile.user is None
    assert_erased(
        shop, f"user-{user.pk}", customer_session_ids(f"user-{user.pk}"), "ghost@example.com"
    )


def test_money_is_not_personal_data(shop: Any, django_user_model: Any) -> None:
    """Cart lines stay on the session mirror (SKU, price, quantity): the docs say so."""
    user = customer(django_user_model, "lines")
    cart = make_cart(user=user, items=[ESPRESSO])
    services.erase_customer(user, requested_by="test")
    session = services.session_for_cart(cart, create=False)
    assert session is not None
    assert [Decimal(str(i["price"])) for i in session.cart_items] == [Decimal("8.50")]


def test_the_order_ledger_keeps_money_and_loses_the_referral(
    shop: Any, django_user_model: Any
) -> None:
    """The ledger is the shop's accounting record: amounts per campaign and the coupon codes
    stay; the referral code (a person's) and Talon.One's raw effects repeating it go."""
    user = customer(django_user_model, "ledger")
    session = services.session_for_cart(make_cart(user=user, items=[ESPRESSO]), create=False)
    assert session is not None
    effect = {"effectType": "acceptReferral", "props": {"value": "REF-FRIEND-1"}}
    entry = LedgerEntry.objects.create(
        session_id=session.integration_id,
        kind="charged",
        discount_total=Decimal("5.00"),
        discounts_by_campaign={"3": "5.00"},
        coupon_codes=["WELCOME10"],
        referral_code="REF-FRIEND-1",
        quote={"referral_code": "REF-FRIEND-1", "total": "3.50"},
        effects=[effect],
        note="charged without Talon.One's discounts; codes entered but not given: REF-FRIEND-1",
    )
    discrepancy = Discrepancy.objects.create(
        session_id=session.integration_id,
        charged_entry=entry,
        entry=LedgerEntry.objects.create(session_id=session.integration_id, kind="booked"),
        reason="referral_rejected",
        detail="REF-FRIEND-1 rejected at the close",
        codes_not_charged=["REF-FRIEND-1", "WELCOME10"],
    )
    other = LedgerEntry.objects.create(
        session_id="someone-else", kind="charged", referral_code="REF-OTHER"
    )

    services.erase_customer(user, requested_by="test")

    entry.refresh_from_db()
    assert entry.referral_code == "" and entry.effects == []
    assert "REF-FRIEND-1" not in json.dumps(entry.quote)
    assert entry.discount_total == Decimal("5.00") and entry.coupon_codes == ["WELCOME10"]
    assert entry.discounts_by_campaign == {"3": "5.00"} and entry.quote["total"] == "3.50"
    assert "REF-FRIEND-1" not in entry.note and "not given" in entry.note
    discrepancy.refresh_from_db()
    assert "REF-FRIEND-1" not in discrepancy.detail
    assert discrepancy.codes_not_charged == ["WELCOME10"]
    assert "REF-FRIEND-1" not in stored_rows()
    other.refresh_from_db()
    assert other.referral_code == "REF-OTHER"
