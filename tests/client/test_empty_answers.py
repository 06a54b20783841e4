"""A 200 without a body is not a 204: an operation that asked for its answer gets an error.

From the fault review: ``track_event_v2(silent=False)``,
``create_referrals_for_multiple_advocates(silent=False)`` and
``update_customer_profiles_v2(silent=False)`` took an empty 200 for "nothing happened" and
returned empty results, while Talon.One had run the event's effects, made the referral
codes or updated the profiles (and a corrupt gzip body decoded to such an empty 200). As
``update_customer_session_v2`` does, they now raise ``TalonDecodeError``. A 204, or a
silent call answered without a body, is still the empty result it always was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from django_talon.client import TalonClient, TalonDecodeError
from tests.client.support import Answer, RecordingAdapter, make_client

Call = Callable[[TalonClient, bool], Any]

CALLS: dict[str, Call] = {
    "trackEventV2": lambda c, silent: c.track_event_v2("purchase", "ann", silent=silent),
    "trackEventV3": lambda c, silent: c.track_event_v3("e-1", "purchase", "ann", silent=silent),
    "createReferralsForMultipleAdvocates": lambda c, silent: (
        c.create_referrals_for_multiple_advocates(5, ["ann"], silent=silent)
    ),
    "updateCustomerProfilesV2": lambda c, silent: c.update_customer_profiles_v2(
        [{"integrationId": "ann"}], silent=silent
    ),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_an_empty_200_to_a_call_wanting_its_answer_is_a_decode_error(operation: str) -> None:
    client = make_client(RecordingAdapter(Answer(200)))
    with pytest.raises(TalonDecodeError, match="expected a JSON object") as caught:
        CALLS[operation](client, False)
    assert caught.value.status == 200 and operation in str(caught.value)


@pytest.mark.parametrize("operation", sorted(CALLS))
@pytest.mark.parametrize(("status", "silent"), [(204, False), (204, True), (200, True)])
def test_no_body_where_none_was_asked_for_is_an_empty_result(
    operation: str, status: int, silent: bool
) -> None:
    result = CALLS[operation](make_client(RecordingAdapter(Answer(status))), silent)
    assert getattr(result, "raw", None) in ({}, None)
