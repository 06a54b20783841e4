"""Every request the client sends validates against the official OpenAPI documents, and a
response generated from each document's schema decodes without error.

Requests are captured by ``RecordingAdapter`` (a real ``requests`` transport adapter, no
network); ``tests.openapi_contract`` does the validation. Skipped (strict: failed) without
the spec folder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import TalonClient
from tests import openapi_contract as contract
from tests import openapi_samples as samples
from tests.client.support import Answer, RecordingAdapter, Sent, make_client

pytestmark = pytest.mark.spec

SESSION = {
    "profileId": "customer 7/α",
    "couponCodes": ["WELCOME10", "SUMMER25%OFF"],
    "referralCode": "REF-1234",
    "state": "open",
    "cartItems": [
        {
            "name": "Espresso beans",
            "sku": "ESPRESSO-250",
            "quantity": 2,
            "price": Decimal("8.50"),
            "category": "coffee",
            "attributes": {"roast": "dark"},
        }
    ],
    "identifiers": ["device-1"],
    "attributes": {"ShippingCity": "Berlin", "placedAt": dt.datetime(2026, 1, 2, 3, 4, 5)},
}

V1_SESSION = {
    "profileId": "customer-7",
    "coupon": "WELCOME10",
    "referral": "REF-1234",
    "state": "open",
    "cartItems": [{"name": "Beans", "sku": "ESPRESSO-250", "quantity": 1, "price": 8.5}],
    "total": Decimal("8.50"),
    "attributes": {},
}

# (operation, success status, call) — a minimal and a "everything set" call per operation.
Call = Callable[[TalonClient], Any]
CASES: list[tuple[str, int, Call]] = [
    ("updateCustomerSessionV2", 200, lambda c: c.update_customer_session_v2("s-1", {})),
    (
        "updateCustomerSessionV2",
        200,
        lambda c: c.update_customer_session_v2(
            "cart 42/x%",
            SESSION,
            dry=True,
            now=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
            response_content=["customerSession", "customerProfile", "coupons", "loyalty"],
        ),
    ),
    ("getCustomerSession", 200, lambda c: c.get_customer_session("cart 42")),
    (
        "returnCartItems",
        200,
        lambda c: c.return_cart_items("s-1", [{"position": 0, "quantity": 1}]),
    ),
    (
        "returnCartItems",
        200,
        lambda c: c.return_cart_items(
            "s-1",
            [{"position": 0, "quantity": 1, "sku": "ESPRESSO-250"}],
            dry=True,
            idempotency_key="123e4567-e89b-12d3-a456-426614174000",
        ),
    ),
    ("reopenCustomerSession", 200, lambda c: c.reopen_customer_session("s-1")),
    ("updateCustomerProfileV2", 200, lambda c: c.update_customer_profile_v2("customer-7")),
    (
        "updateCustomerProfileV2",
        200,
        lambda c: c.update_customer_profile_v2(
            "customer 7/β",
            {"Name": "Ada", "Birthday": dt.date(1990, 5, 17), "Spent": Decimal("10.5")},
            audiences_changes={"adds": [1, 2], "deletes": [3]},
            run_rule_engine=True,
            dry=True,
            response_content=["customerProfile", "triggeredCampaigns", "loyalty"],
        ),
    ),
    (
        "updateCustomerProfilesV2",
        204,
        lambda c: c.update_customer_profiles_v2([{"integrationId": "a", "attributes": {"X": 1}}]),
    ),
    (
        "updateCustomerProfilesV2",
        200,
        lambda c: c.update_customer_profiles_v2([{"integrationId": "a"}], silent=False),
    ),
    (
        "updateCustomerProfileAudiences",
        204,
        lambda c: c.update_customer_profile_audiences(
            [
                {"action": "add", "profileIntegrationId": "a", "audienceId": 1},
                {"action": "delete", "profileIntegrationId": "b", "audienceId": 2},
            ]
        ),
    ),
    (
        "createCouponReservation",
        201,
        lambda c: c.create_coupon_reservation("VIP 20%", ["customer-7", "customer 8"]),
    ),
    (
        "deleteCouponReservation",
        204,
        lambda c: c.delete_coupon_reservation("VIP 20%", ["customer-7"]),
    ),
    ("getReservedCustomers", 200, lambda c: c.get_reserved_customers("VIP 20%")),
    ("getReservedCoupons", 200, lambda c: c.get_reserved_coupons("customer 7")),
    ("createReferral", 201, lambda c: c.create_referral(5, "advocate-1")),
    (
        "createReferral",
        201,
        lambda c: c.create_referral(
            5,
            "advocate-1",
            friend_profile_integration_id="friend-1",
            start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
            expiry_date="2027-01-01T00:00:00Z",
            usage_limit=3,
            attributes={"channel": "mail"},
        ),
    ),
    ("deleteCustomerData", 204, lambda c: c.delete_customer_data("customer 7/γ")),
    ("getCustomerInventory", 200, lambda c: c.get_customer_inventory("customer-7")),
    (
        "getCustomerInventory",
        200,
        lambda c: c.get_customer_inventory(
            "customer-7",
            profile=True,
            referrals=True,
            coupons=True,
            loyalty=True,
            giveaways=True,
            achievements=True,
        ),
    ),
    (
        "getCustomerProfilesByAttributes",
        200,
        lambda c: c.get_customer_profiles_by_attributes({"Email": "ada@example.com"}),
    ),
    ("trackEvent", 201, lambda c: c.track_event("viewed_product", {}, "s-1")),
    (
        "trackEvent",
        201,
        lambda c: c.track_event("viewed_product", {"sku": "X"}, "s-1", "customer-7", dry=True),
    ),
    (
        "updateCustomerProfile",
        200,
        lambda c: c.update_customer_profile_v1("customer-7", {"Name": "Ada"}, dry=True),
    ),
    ("updateCustomerSession", 200, lambda c: c.update_customer_session_v1("s-1", {})),
    (
        "updateCustomerSession",
        200,
        lambda c: c.update_customer_session_v1("s 1", V1_SESSION, dry=True),
    ),
]

IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def _run(operation: str, status: int, call: Call, **client_kwargs: Any) -> tuple[Sent, Any]:
    contract.require_spec()
    body = samples.sample_response(operation, status)
    adapter = RecordingAdapter(Answer(status, body))
    result = call(make_client(adapter, **client_kwargs))
    assert len(adapter.sent) == 1
    return adapter.sent[0], result


def _validate(operation: str, sent: Sent) -> None:
    assert contract.operation_for(sent.method, sent.path) == operation
    contract.validate_request(
        operation,
        method=sent.method,
        path=sent.path,
        query=sent.query,
        headers=sent.headers,
        body=sent.body,
    )


def all_cases() -> list[tuple[str, int, Call]]:
    """CASES plus the ``CASES`` of every ``tests/client/test_ops_*.py`` (one per API area,
    each validating its own requests with :func:`_run` / :func:`_validate`)."""
    import importlib
    import pkgutil

    import tests.client

    cases = list(CASES)
    for info in pkgutil.iter_modules(tests.client.__path__):
        if info.name.startswith("test_ops_"):
            module = importlib.import_module(f"tests.client.{info.name}")
            cases += getattr(module, "CASES", [])
    return cases


def test_every_client_operation_is_covered() -> None:
    assert {name for name, _, _ in all_cases()} == set(contract.OPERATIONS)


@pytest.mark.parametrize(("operation", "status", "call"), CASES, ids=IDS)
def test_request_validates_and_sample_response_decodes(
    operation: str, status: int, call: Call
) -> None:
    sent, result = _run(operation, status, call)
    _validate(operation, sent)
    raw = getattr(result, "raw", None)
    if status == 204 or result is None:
        assert raw in (None, {})
    else:
        assert raw == samples.sample_response(operation, status)


V1_CASES = [
    (case, case_id)
    for case, case_id in zip(CASES, IDS, strict=True)
    if case[0] in contract.OPERATIONS and contract.OPERATIONS[case[0]].path.startswith("/v1/")
]


@pytest.mark.parametrize(
    ("operation", "status", "call"), [c for c, _ in V1_CASES], ids=[i for _, i in V1_CASES]
)
def test_signed_v1_requests_validate(operation: str, status: int, call: Call) -> None:
    sent, _ = _run(
        operation,
        status,
        call,
        application_id=42,
        application_key="fefecafedeadbeef",
        sign_v1=True,
    )
    assert sent.headers["Content-Signature"].startswith("signer=42; signature=")
    _validate(operation, sent)


@pytest.mark.parametrize("operation", sorted(contract.OPERATIONS))
def test_sample_responses_validate_against_their_own_schema(operation: str) -> None:
    """The sample generator is only useful if its output is itself valid."""
    status = next(s for op, s, _ in all_cases() if op == operation)
    contract.validate_response(
        operation, status=status, body=samples.sample_response(operation, status)
    )


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500])
def test_error_bodies_validate(status: int) -> None:
    body = {"message": "nope", "errors": [{"title": "bad", "source": {"pointer": "/x"}}]}
    for operation in contract.OPERATIONS:
        contract.validate_response(operation, status=status, body={**body, "StatusCode": status})


def test_validator_reports_bad_requests() -> None:
    contract.require_spec()
    good = {"authorization": "ApiKey-v1 k", "content-type": "application/json"}
    with pytest.raises(AssertionError, match="method is GET"):
        contract.validate_request(
            "createReferral", method="GET", path="/v1/referrals", headers=good, body=None
        )
    with pytest.raises(AssertionError, match="advocateProfileIntegrationId"):
        contract.validate_request(
            "createReferral",
            method="POST",
            path="/v1/referrals",
            headers=good,
            body=b'{"campaignId": 5}',
        )
    with pytest.raises(AssertionError, match="security"):
        contract.validate_request(
            "getCustomerSession", method="GET", path="/v2/customer_sessions/x", headers={}
        )
    with pytest.raises(AssertionError, match="not defined"):
        contract.validate_request(
            "getCustomerSession",
            method="GET",
            path="/v2/customer_sessions/x",
            query="bogus=1",
            headers=good,
        )
    with pytest.raises(AssertionError, match="query dry"):
        contract.validate_request(
            "updateCustomerSessionV2",
            method="PUT",
            path="/v2/customer_sessions/x",
            query={"dry": "maybe"},
            headers=good,
            body={"customerSession": {}},
        )
    with pytest.raises(AssertionError, match="body is required"):
        contract.validate_request(
            "deleteCouponReservation",
            method="DELETE",
            path="/v1/coupon_reservations/X",
            headers=good,
        )


def test_validator_reports_bad_responses() -> None:
    contract.require_spec()
    with pytest.raises(AssertionError, match="createdCoupons"):
        contract.validate_response("updateCustomerSessionV2", status=200, body={"effects": []})
    with pytest.raises(AssertionError, match="not documented"):
        contract.validate_response("getCustomerSession", status=202, body={})
    with pytest.raises(AssertionError, match="without a JSON body"):
        contract.validate_response("deleteCustomerData", status=204, body={"x": 1})
    with pytest.raises(AssertionError, match="message"):
        contract.validate_response("createReferral", status=400, body={"message": 3})


def test_operation_for_matches_concrete_paths() -> None:
    assert contract.operation_for("PUT", "/v2/customer_sessions/a%20b") == "updateCustomerSessionV2"
    assert (
        contract.operation_for("put", "/v2/customer_sessions/a/reopen") == "reopenCustomerSession"
    )
    assert contract.operation_for("GET", "/v1/customer_profiles/x/inventory?coupons=true") == (
        "getCustomerInventory"
    )
    assert contract.operation_for("GET", "/_emulator/state") is None


def test_spec_loader_keeps_odd_scalars_as_strings() -> None:
    """openapi.yaml holds a bare ``=`` and an invalid timestamp; both must stay strings."""
    import yaml

    text = "a: =\nb: 2024-04-30T15:04:05Z07:00\nc: 2024-04-30\nd: 3\ne: true\n"
    assert yaml.load(text, Loader=contract.SpecLoader) == {
        "a": "=",
        "b": "2024-04-30T15:04:05Z07:00",
        "c": "2024-04-30",
        "d": 3,
        "e": True,
    }


def test_documents_are_cached_as_json_keyed_by_content_hash() -> None:
    import hashlib

    spec_dir = contract.require_spec()
    document = contract.load_document(contract.NEW)
    assert document["openapi"].startswith("3.1")
    assert contract.load_document(contract.NEW) is document  # once per process
    digest = hashlib.sha256((spec_dir / contract.NEW).read_bytes()).hexdigest()[:20]
    assert (contract.CACHE_DIR / f"{contract.NEW}.{digest}.json").is_file()
