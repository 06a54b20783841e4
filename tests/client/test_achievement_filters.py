"""The achievement reads' array filters go comma-separated, as their spec says; the contract
checker reads each array parameter as its ``explode`` says.

``getCustomerAchievements`` (``campaignIds``, ``achievementIds``, ``achievementStatus``,
``currentProgressStatus``) and ``getCustomerAchievementHistory`` (``progressStatus``) declare
``style: form, explode: false``: one key, values separated by commas, which is what the
official SDKs send. The client sent them exploded (``campaignIds=10&campaignIds=11``) and the
contract checker, reading every array query parameter as exploded, let it pass (and would
have read ``campaignIds=10,11`` as one value, ``"10,11"``). The loyalty reads' filters are
exploded in the spec and stay one key per value.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests import openapi_contract as contract
from tests.client.support import API_KEY, Answer, RecordingAdapter, make_client

PAGE = {"totalResultSize": 0, "data": []}
HEADERS = {"Authorization": f"ApiKey-v1 {API_KEY}"}


def test_the_filters_are_sent_comma_separated() -> None:
    adapter = RecordingAdapter(Answer(200, PAGE))
    client = make_client(adapter)
    client.get_customer_achievements(
        "ann",
        campaign_ids=[10, 11],
        achievement_ids=[1, 2],
        achievement_status=["active", "scheduled"],
        current_progress_status=["inprogress", "completed"],
        page_size=5,
    )
    client.get_customer_achievement_history("ann", 1, progress_status=("inprogress", "expired"))
    client.get_customer_achievements("ann", campaign_ids=[], achievement_status=[])
    first, history, empty = (urlsplit(s.url).query for s in adapter.sent)
    assert first == (
        "campaignIds=10,11&achievementIds=1,2&achievementStatus=active,scheduled"
        "&currentProgressStatus=inprogress,completed&pageSize=5"
    )
    assert history == "progressStatus=inprogress,expired"
    assert empty == ""  # an empty list filters nothing, as before
    operations = ["getCustomerAchievements", "getCustomerAchievementHistory"]
    for sent, operation in zip(adapter.sent[:2], operations, strict=True):
        contract.validate_request(
            operation,
            method=sent.method,
            path=sent.path,
            query=parse_qsl(urlsplit(sent.url).query, keep_blank_values=True),
            headers=sent.headers,
            body=sent.body,
        )


def _check(operation: str, path: str, query: str) -> None:
    contract.validate_request(operation, method="GET", path=path, query=query, headers=HEADERS)


def test_the_contract_refuses_exploded_values_where_explode_is_false() -> None:
    with pytest.raises(AssertionError, match="campaignIds sent 2 times; the spec says explode"):
        _check(
            "getCustomerAchievements",
            "/v1/customer_profiles/ann/achievements",
            "campaignIds=10&campaignIds=11",
        )


def test_the_contract_reads_comma_separated_values_one_by_one() -> None:
    # each value is checked against the items' enum: "active,done" is two values, one bad
    with pytest.raises(AssertionError, match="query achievementStatus"):
        _check(
            "getCustomerAchievements",
            "/v1/customer_profiles/ann/achievements",
            "achievementStatus=active,done",
        )
    _check(
        "getCustomerAchievements",
        "/v1/customer_profiles/ann/achievements",
        "achievementStatus=active%2Cscheduled",  # an encoded comma reads the same
    )


def test_the_contract_still_reads_exploded_parameters_one_key_per_value() -> None:
    path = "/v1/loyalty_programs/1/cards/CARD-0001/balances"
    _check("getLoyaltyCardBalances", path, "subledgerId=a&subledgerId=b")
