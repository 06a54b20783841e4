"""An integer field holding a number no int64 can hold is ``None``, found without building it.

``int(Decimal("1e300000"))`` makes a 300,001-digit int: seconds of CPU after Talon.One's
answer arrived, outside every timeout. :func:`to_int` decides from the exponent before
converting. No timing is asserted: the ``Decimal`` that :func:`to_int` converts is one whose
``int()`` fails when it would have more than 19 digits, so the old code fails at once, not
slowly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import RetryPolicy, TalonClient
from django_talon.client.effects import SetDiscount, convert
from django_talon.client.effects.convert import to_int
from tests.client.support import API_KEY, JSONHandler, serve_http

HUGE = ["1e300000", "-1e999999", "1E+300000", "9" * 5000, "1" + "0" * 19]


class _Guarded(Decimal):
    """A ``Decimal`` whose ``int()`` refuses to build a number of more than 19 digits."""

    def __int__(self) -> int:
        if self and self.adjusted() > 18:
            raise AssertionError(f"int() of a Decimal with {self.adjusted() + 1} digits")
        return Decimal(self).__int__()


@pytest.fixture
def bounded_int(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`to_int` gets its ``Decimal`` as a :class:`_Guarded` one."""
    real = convert.to_decimal

    def guarded(value: Any) -> Decimal | None:
        number = real(value)
        return None if number is None else _Guarded(number)

    monkeypatch.setattr(convert, "to_decimal", guarded)


def _answer(campaign_id: Any) -> bytes:
    effect = {
        "campaignId": campaign_id,
        "rulesetId": "2",
        "ruleIndex": 0,
        "ruleName": "r",
        "effectType": "setDiscount",
        "props": {"name": "d", "value": 1},
    }
    return json.dumps({"effects": [effect], "createdCoupons": [], "createdReferrals": []}).encode()


class _Effects(JSONHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length))
        self.send_body(200, _answer(body["customerSession"]["attributes"]["campaignId"]))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_http(_Effects) as address:
        yield address


@pytest.mark.parametrize("campaign_id", HUGE, ids=range(len(HUGE)))
def test_a_huge_campaign_id_from_the_server_is_none(
    url: str, campaign_id: str, bounded_int: None
) -> None:
    client = TalonClient(url, API_KEY, retry=RetryPolicy.none(), timeout=(2.0, 5.0))
    state = client.update_customer_session_v2(
        "s1", {"profileId": "p", "attributes": {"campaignId": campaign_id}}
    )
    (effect,) = state.effects
    assert isinstance(effect, SetDiscount)
    assert effect.campaign_id is None  # the field's neutral default
    assert effect.ruleset_id == 2  # the other fields decode as before
    assert effect.raw["campaignId"] == campaign_id  # the value as sent is kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("1e18", 10**18),
        ("1e19", None),
        (1e18, 10**18),
        (1e300, None),
        (Decimal("1E+18"), 10**18),
        (Decimal("1E+999999999"), None),
        ("0e999999", 0),
        ("-0", 0),
        ("12.0", 12),
        (" 7 ", 7),
        ("12.5", None),
        ("1e-999999", None),
        ("abc", None),
        (42, 42),
        (True, None),
        (None, None),
    ],
)
def test_to_int_keeps_int64_values_and_refuses_the_rest_cheaply(
    value: Any, expected: int | None, bounded_int: None
) -> None:
    assert to_int(value) == expected
