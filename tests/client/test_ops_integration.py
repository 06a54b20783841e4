"""Audiences, catalogs, events, the campaign list, multi-advocate referrals (issue 15): every
request validates against openapi.yaml, a schema-generated answer decodes, the input checks
refuse what the API would, and each operation's retry verdict is the documented one.

``CASES`` joins ``tests/client/test_contract.py``'s coverage check (every operation of
``tests.openapi_contract.OPERATIONS`` has a case somewhere).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import (
    Audience,
    BestPriorPrice,
    Catalog,
    EventV3,
    IntegrationCampaignPage,
    IntegrationEventResult,
    ReferralBatch,
    RetryPolicy,
    TalonClient,
    TalonValidationError,
)
from tests import openapi_samples as samples
from tests.client.support import Answer, FakeClock, RecordingAdapter, make_client
from tests.client.test_contract import _run, _validate

pytestmark = pytest.mark.spec

Call = Callable[[TalonClient], Any]
WHEN = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)

CASES: list[tuple[str, int, Call]] = [
    ("createAudienceV2", 201, lambda c: c.create_audience_v2("VIP")),
    (
        "createAudienceV2",
        201,
        lambda c: c.create_audience_v2(
            "VIP", description="best customers", integration="segment", integration_id="seg-7"
        ),
    ),
    ("updateAudienceV2", 200, lambda c: c.update_audience_v2(7, "VIP+")),
    ("deleteAudienceV2", 204, lambda c: c.delete_audience_v2(7)),
    ("deleteAudienceMembershipsV2", 204, lambda c: c.delete_audience_memberships_v2(7)),
    (
        "updateAudienceCustomersAttributes",
        204,
        lambda c: c.update_audience_customers_attributes(7, {"Tier": "gold"}),
    ),
    ("integrationGetAllCampaigns", 200, lambda c: c.integration_get_all_campaigns()),
    (
        "integrationGetAllCampaigns",
        200,
        lambda c: c.integration_get_all_campaigns(
            page_size=10,
            skip=20,
            campaign_ids=[1, 2],
            start_after=WHEN,
            start_before="2027-01-01T00:00:00Z",
            end_after=WHEN,
            end_before=WHEN,
            store_id=3,
            audience_id=4,
        ),
    ),
    ("trackEventV2", 200, lambda c: c.track_event_v2("review_written", "customer-7")),
    (
        "trackEventV2",
        204,
        lambda c: c.track_event_v2("review_written", "customer-7", silent=True),
    ),
    (
        "trackEventV2",
        200,
        lambda c: c.track_event_v2(
            "review_written",
            "customer 7/α",
            {"stars": 5, "at": WHEN},
            store_integration_id="berlin-1",
            evaluable_campaign_ids=[1],
            loyalty_card="CARD-1",
            response_content=["customerProfile", "triggeredCampaigns", "event"],
            dry=True,
            force_complete_evaluation=True,
        ),
    ),
    (
        "trackEventV3",
        200,
        lambda c: c.track_event_v3("review-1", "review_written", "customer-7"),
    ),
    (
        "trackEventV3",
        200,
        lambda c: c.track_event_v3(
            "review-2",
            "review_written",
            "customer-7",
            {"stars": 4},
            connected_session_id="order-9",
            store_integration_id="berlin-1",
            evaluable_campaign_ids=[1, 2],
            response_content=["advancedEvent", "customerProfile"],
            dry=True,
        ),
    ),
    ("getEventV3", 200, lambda c: c.get_event_v3("review 1/x")),
    (
        "createReferralsForMultipleAdvocates",
        201,
        lambda c: c.create_referrals_for_multiple_advocates(5, ["a-1", "a 2"]),
    ),
    (
        "createReferralsForMultipleAdvocates",
        204,
        lambda c: c.create_referrals_for_multiple_advocates(
            5,
            ["a-1"],
            start_date=WHEN,
            expiry_date="2027-01-01T00:00:00Z",
            usage_limit=2,
            attributes={"channel": "mail"},
            valid_characters=list("ABC123"),
            referral_pattern="REF-####",
            silent=True,
        ),
    ),
    (
        "bestPriorPrice",
        200,
        lambda c: c.best_prior_price(["ESPRESSO-250"], timeframe=30, timeframe_end_date=WHEN),
    ),
    (
        "bestPriorPrice",
        200,
        lambda c: c.best_prior_price(
            ["ESPRESSO-250", "FILTER-1KG"],
            timeframe=30,
            timeframe_end_date="2026-06-01T00:00:00Z",
            timeframe_end_date_type="price",
            audience_id=7,
        ),
    ),
    (
        "syncCatalog",
        200,
        lambda c: c.sync_catalog(
            1,
            [
                {
                    "type": "ADD",
                    "payload": {
                        "sku": "ESPRESSO-250",
                        "price": Decimal("8.50"),
                        "attributes": {"origin": "Brazil"},
                        "product": {"name": "Espresso"},
                        "replaceIfExists": True,
                    },
                },
                {"type": "ADD", "payload": {"sku": "FILTER-1KG", "price": 24}},
            ],
            version=3,
        ),
    ),
    (
        "syncCatalog",
        200,
        lambda c: c.sync_catalog(
            1,
            [
                {
                    "type": "PATCH_MANY",
                    "payload": {
                        "filters": [{"attr": "origin", "op": "IN", "value": ["Brazil", "Peru"]}],
                        "attributes": {"fair": True},
                        "price": 9,
                    },
                }
            ],
        ),
    ),
    (
        "syncCatalog",
        200,
        lambda c: c.sync_catalog(1, [{"type": "REMOVE", "payload": {"sku": "X"}}]),
    ),
]

IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


@pytest.mark.parametrize(("operation", "status", "call"), CASES, ids=IDS)
def test_request_validates_and_sample_response_decodes(
    operation: str, status: int, call: Call
) -> None:
    sent, result = _run(operation, status, call)
    _validate(operation, sent)
    if isinstance(result, list):  # bestPriorPrice answers a JSON array
        assert all(isinstance(item, BestPriorPrice) for item in result)
        return
    raw = getattr(result, "raw", None)
    if status == 204 or result is None:
        assert raw in (None, {})
    else:
        assert raw == samples.sample_response(operation, status)


def test_answers_are_typed() -> None:
    _, audience = _run("createAudienceV2", 201, CASES[0][2])
    assert isinstance(audience, Audience) and audience.id == 1 and audience.name
    _, catalog = _run("syncCatalog", 200, CASES[-3][2])
    assert isinstance(catalog, Catalog) and catalog.version == 1
    _, page = _run("integrationGetAllCampaigns", 200, CASES[6][2])
    assert isinstance(page, IntegrationCampaignPage) and page.data[0].name
    _, event = _run("getEventV3", 200, CASES[13][2])
    assert isinstance(event, EventV3) and event.type
    _, tracked = _run("trackEventV3", 200, CASES[11][2])
    assert isinstance(tracked, IntegrationEventResult)
    assert isinstance(tracked.advanced_event, EventV3)
    _, batch = _run("createReferralsForMultipleAdvocates", 201, CASES[14][2])
    assert isinstance(batch, ReferralBatch) and batch.data[0].code
    _, prices = _run("bestPriorPrice", 200, CASES[16][2])
    assert prices[0].price == Decimal(1) and prices[0].sku


def test_the_new_options_of_existing_operations_validate() -> None:
    sent, _ = _run(
        "returnCartItems",
        200,
        lambda c: c.return_cart_items(
            "s-1",
            [{"position": 0, "quantity": 1}],
            run_rule_engine=True,
            response_content=["customerSession", "previousReturns"],
        ),
    )
    _validate("returnCartItems", sent)
    assert sent.query["runRuleEngine"] == "true"
    assert sent.json()["responseContent"] == ["customerSession", "previousReturns"]
    sent, _ = _run(
        "updateCustomerProfileV2",
        200,
        lambda c: c.update_customer_profile_v2(
            "customer-7", run_rule_engine=True, dry=True, evaluable_campaign_ids=[3]
        ),
    )
    _validate("updateCustomerProfileV2", sent)
    assert sent.json()["evaluableCampaignIds"] == [3]
    sent, _ = _run(
        "updateCustomerSessionV2",
        200,
        lambda c: c.update_customer_session_v2(
            "s-1", {"cartItems": []}, dry=True, evaluable_campaign_ids=[3, 4]
        ),
    )
    _validate("updateCustomerSessionV2", sent)
    assert sent.json()["customerSession"]["evaluableCampaignIds"] == [3, 4]


REFUSED: list[tuple[Call, str]] = [
    (lambda c: c.create_audience_v2(""), "name"),
    (lambda c: c.update_audience_v2(0, "x"), "audience_id"),
    (lambda c: c.delete_audience_v2(True), "audience_id"),
    (lambda c: c.update_audience_customers_attributes(1, {}), "attributes"),
    (lambda c: c.sync_catalog(1, []), "actions"),
    (lambda c: c.sync_catalog(1, [{"type": "UPSERT", "payload": {}}]), "actions[0].type"),
    (lambda c: c.sync_catalog(1, [{"type": "ADD", "payload": {}}]), "actions[0].payload.sku"),
    (
        lambda c: c.sync_catalog(
            1, [{"type": "REMOVE_MANY", "payload": {"filters": [{"attr": "x", "op": "LIKE"}]}}]
        ),
        "actions[0].payload.filters[0]",
    ),
    (lambda c: c.best_prior_price([], timeframe=30, timeframe_end_date=WHEN), "skus"),
    (lambda c: c.best_prior_price(["X"], timeframe=0, timeframe_end_date=WHEN), "timeframe"),
    (
        lambda c: c.best_prior_price(
            ["X"], timeframe=3, timeframe_end_date=WHEN, timeframe_end_date_type="soon"
        ),
        "timeframe_end_date_type",
    ),
    (lambda c: c.track_event_v2("", "p"), "event_type"),
    (lambda c: c.track_event_v2("x", ""), "profile_id"),
    (lambda c: c.track_event_v2("x", "p", response_content=["coupons"]), "response_content[0]"),
    (
        lambda c: c.sync_catalog(
            1,
            [
                {"type": "ADD", "payload": {"sku": "X"}},
                {"type": "REMOVE", "payload": {"sku": "Y"}},
            ],
        ),
        "actions[1].type",
    ),
    (
        lambda c: c.sync_catalog(
            1,
            [{"type": "ADD", "payload": {"sku": "X"}}, {"type": "ADD", "payload": {"sku": "X"}}],
        ),
        "actions[1].payload.sku",
    ),
    (lambda c: c.track_event_v3("", "x", "p"), "integration_id"),
    (lambda c: c.integration_get_all_campaigns(page_size=1001), "page_size"),
    (lambda c: c.integration_get_all_campaigns(campaign_ids=[]), "campaign_ids"),
    (
        lambda c: c.create_referrals_for_multiple_advocates(5, []),
        "advocate_profile_integration_ids",
    ),
    (
        lambda c: c.create_referrals_for_multiple_advocates(5, ["a"], referral_pattern="#"),
        "referral_pattern",
    ),
    (
        lambda c: c.update_customer_profile_v2("p", evaluable_campaign_ids=[1]),
        "evaluable_campaign_ids",
    ),
    (
        lambda c: c.update_customer_session_v2("s", {}, evaluable_campaign_ids=[1]),
        "evaluable_campaign_ids",
    ),
    (
        lambda c: c.return_cart_items("s", [{"position": 0}], response_content="customerSession"),
        "response_content",
    ),
]


@pytest.mark.parametrize(("call", "field"), REFUSED)
def test_bad_input_is_refused_before_sending(call: Call, field: str) -> None:
    adapter = RecordingAdapter()
    with pytest.raises(TalonValidationError) as caught:
        call(make_client(adapter))
    assert caught.value.field == field
    assert adapter.sent == []


def _attempts(call: Call) -> int:
    """How many requests one call makes when the server answers 503 each time."""
    clock = FakeClock()
    adapter = RecordingAdapter(Answer(503, {"message": "busy"}))
    client = make_client(
        adapter, retry=RetryPolicy(max_attempts=3, sleep=clock.sleep, random=clock.random)
    )
    with pytest.raises(Exception):  # noqa: B017 - TalonServerError; only the count matters
        call(client)
    return len(adapter.sent)


ADD = {"type": "ADD", "payload": {"sku": "X"}}
RETRIES: list[tuple[str, Call, int]] = [
    ("create audience", lambda c: c.create_audience_v2("VIP"), 1),
    ("rename audience", lambda c: c.update_audience_v2(1, "VIP"), 3),
    ("delete audience", lambda c: c.delete_audience_v2(1), 3),
    ("empty audience", lambda c: c.delete_audience_memberships_v2(1), 3),
    ("member attributes", lambda c: c.update_audience_customers_attributes(1, {"a": 1}), 3),
    ("plain ADD", lambda c: c.sync_catalog(1, [ADD]), 1),
    (
        "ADD replacing",
        lambda c: c.sync_catalog(
            1, [{"type": "ADD", "payload": {"sku": "X", "replaceIfExists": True}}]
        ),
        3,
    ),
    ("REMOVE", lambda c: c.sync_catalog(1, [{"type": "REMOVE", "payload": {"sku": "X"}}]), 1),
    ("PATCH_MANY", lambda c: c.sync_catalog(1, [{"type": "PATCH_MANY", "payload": {}}]), 3),
    (
        "best prior price",
        lambda c: c.best_prior_price(["X"], timeframe=30, timeframe_end_date=WHEN),
        3,
    ),
    ("event v2", lambda c: c.track_event_v2("x", "p"), 1),
    ("event v2 dry", lambda c: c.track_event_v2("x", "p", dry=True), 3),
    ("event v3", lambda c: c.track_event_v3("e-1", "x", "p"), 1),
    ("get event v3", lambda c: c.get_event_v3("e-1"), 3),
    ("campaigns", lambda c: c.integration_get_all_campaigns(), 3),
    ("referrals", lambda c: c.create_referrals_for_multiple_advocates(1, ["a"]), 1),
]


@pytest.mark.parametrize(("name", "call", "attempts"), RETRIES, ids=[r[0] for r in RETRIES])
def test_retry_verdicts_follow_the_table(name: str, call: Call, attempts: int) -> None:
    assert _attempts(call) == attempts, name


def test_campaigns_are_paged_until_has_more_is_false() -> None:
    pages = [
        {"hasMore": True, "data": [_campaign(1), _campaign(2)]},
        {"hasMore": False, "data": [_campaign(3)]},
    ]
    adapter = RecordingAdapter(*(Answer(200, page) for page in pages))
    names = [c.name for c in make_client(adapter).iter_integration_campaigns(page_size=2)]
    assert names == ["c1", "c2", "c3"]
    assert [s.query.get("skip") for s in adapter.sent] == ["0", "2"]


def _campaign(cid: int) -> dict[str, Any]:
    return {
        "id": cid,
        "applicationId": 1,
        "name": f"c{cid}",
        "state": "enabled",
        "tags": [],
        "features": [],
        "rules": [],
    }
