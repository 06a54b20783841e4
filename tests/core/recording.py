"""The real ``TalonClient`` over a recording HTTP layer: the core tests' ``fake_client``.

Why not a duck-typed fake: the old one skipped the client's input checks and answered with
its own types, so a cart line of quantity 0 (which the real client refuses) made every session
write a dead letter in production while every core test stayed green. Here every call goes
through the real client's validation, JSON encoding, error mapping and decoding; only the
socket is replaced, by :class:`RecordingAdapter` mounted on the client's ``requests.Session``.

What a test sees (the old fake's attributes, kept so the tests read the same):

- ``calls``: ``(method_name, args, kwargs)`` of every client method called, as the caller
  passed them (recorded before the client checks them, as the old fake did);
- ``names()``: the method names of ``calls``;
- ``http``: every request that reached the wire, as :class:`Sent` (method, path, query,
  decoded JSON body, headers);
- ``replies``: the ``(status, JSON body)`` answered to each of ``http``;
- ``effects``: effects added to every session update answer (raw JSON effect dicts; the
  fields a real effect always has, ``campaignId``, ``rulesetId``, ``ruleIndex`` and
  ``ruleName``, are filled in when a test leaves them out);
- ``fail``: an exception that the *transport* turns into the failure the real client would
  meet (see :meth:`RecordingAdapter.failure`), so the client raises its own error for it;
- ``problems``: what went wrong on the wire side (see below); the ``fake_client`` fixture
  fails the test when it is not empty.

Canned answers are shaped like the real API's (the emulator's answers): a coupon ``"BOGUS"``
is answered with a ``rejectCoupon`` effect, ``createReferral`` with code ``"REF-1234"``.
When the official OpenAPI documents are present (``tests.resources.SPEC_DIR``) every request
is checked against ``openapi.yaml`` and so is every canned answer. A request the spec
refuses, an answer it refuses, or an operation without a canned answer is recorded in
``problems``: raising would not do, since the outbox catches a delivery's exceptions and
turns them into a retry, and the test could pass regardless.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from django_talon.client import RetryPolicy, TalonClient
from django_talon.client.errors import (
    TalonAPIError,
    TalonConnectionError,
    TalonDecodeError,
    TalonTimeoutError,
)

__all__ = ["BASE_URL", "RecordingAdapter", "RecordingClient", "Sent"]

BASE_URL = "https://recording.talon.invalid"
API_KEY = "recording-api-key"
#: Fixed timestamps keep answers deterministic (and valid ``date-time`` strings).
CREATED = "2026-01-02T03:04:05.000Z"
REFERRAL_CODE = "REF-1234"
REJECTED_CODE = "BOGUS"


@dataclass(frozen=True)
class Sent:
    """One HTTP request as it reached the (recording) wire."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: Mapping[str, str]


@dataclass
class _Recording:
    """State shared by a client and its ``with_options`` copies."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    http: list[Sent] = field(default_factory=list)
    replies: list[tuple[int, Any]] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    fail: BaseException | None = None
    problems: list[str] = field(default_factory=list)


# --- canned answers (the emulator's shapes) ----------------------------------------------


def _session(session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``CustomerSessionV2`` for the session just sent (this request's state only)."""
    items = [{**item, "position": index} for index, item in enumerate(body.get("cartItems") or [])]
    total = float(sum(float(i.get("price", 0)) * int(i.get("quantity", 0)) for i in items))
    return {
        "id": 1,
        "integrationId": session_id,
        "created": CREATED,
        "applicationId": 1,
        "profileId": body.get("profileId", ""),
        "couponCodes": list(body.get("couponCodes") or []),
        "referralCode": body.get("referralCode", ""),
        "loyaltyCards": [],
        "state": body.get("state", "open"),
        "cartItems": items,
        "additionalCosts": {},
        "identifiers": [],
        "attributes": dict(body.get("attributes") or {}),
        "firstSession": True,
        "updateCount": 1,
        "total": total,
        "cartItemTotal": total,
        "additionalCostTotal": 0.0,
        "cartItemAdditionalCostTotal": 0.0,
        "updated": CREATED,
    }


def _profile(integration_id: str, attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``CustomerProfile`` as the API answers it for a profile it just created or updated."""
    return {
        "integrationId": integration_id,
        "created": CREATED,
        "attributes": dict(attributes or {}),
        "accountId": 1,
        "closedSessions": 0,
        "totalSales": 0.0,
        "audienceMemberships": [],
        "lastActivity": CREATED,
        "id": 1,
        "sandbox": True,
    }


#: Fields every effect of a real answer carries (``Effect`` in openapi.yaml).
_EFFECT_DEFAULTS: dict[str, Any] = {"campaignId": 1, "rulesetId": 1, "ruleIndex": 0, "ruleName": ""}


def _reject(code: str) -> dict[str, Any]:
    """The emulator's (and Talon.One's) answer to an unknown coupon code."""
    return {
        "campaignId": 0,
        "rulesetId": 0,
        "ruleIndex": 0,
        "ruleName": "",
        "effectType": "rejectCoupon",
        "props": {"value": code, "rejectionReason": "CouponNotFound"},
    }


def _state(effects: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """``IntegrationStateV2`` with its required fields."""
    return {"effects": effects, "createdCoupons": [], "createdReferrals": [], **extra}


class _Answers:
    """One method per operation: ``(status, JSON body or None)`` for a :class:`Sent`."""

    def __init__(self, recording: _Recording) -> None:
        self.recording = recording

    def update_customer_session_v2(self, sent: Sent, session_id: str) -> tuple[int, Any]:
        body = sent.body["customerSession"]
        effects = [dict(e) for e in self.recording.effects]
        effects += [_reject(c) for c in body.get("couponCodes") or [] if c == REJECTED_CODE]
        content = set(sent.body.get("responseContent") or [])
        extra: dict[str, Any] = {}
        if "customerSession" in content:
            extra["customerSession"] = _session(session_id, body)
        if "customerProfile" in content and body.get("profileId"):
            extra["customerProfile"] = _profile(body["profileId"])
        return 200, _state(effects, **extra)

    def return_cart_items(self, sent: Sent, session_id: str) -> tuple[int, Any]:
        return 200, _state([])

    def reopen_customer_session(self, sent: Sent, session_id: str) -> tuple[int, Any]:
        return 200, {"effects": []}

    def update_customer_profile_v2(self, sent: Sent, integration_id: str) -> tuple[int, Any]:
        profile = _profile(integration_id, sent.body.get("attributes"))
        return 200, _state([], customerProfile=profile)

    def update_customer_profiles_v2(self, sent: Sent) -> tuple[int, Any]:
        if sent.query.get("silent", "yes") == "yes":
            return 204, None
        states = [
            {"customerProfile": _profile(p["integrationId"], p.get("attributes"))}
            for p in sent.body["customerProfiles"]
        ]
        return 200, {"integrationStates": states}

    def update_customer_profile_audiences(self, sent: Sent) -> tuple[int, Any]:
        return 204, None

    def create_coupon_reservation(self, sent: Sent, code: str) -> tuple[int, Any]:
        coupon = {
            "id": 1,
            "created": CREATED,
            "campaignId": 1,
            "value": code,
            "usageLimit": 0,
            "usageCounter": 0,
            "attributes": {},
            "reservation": True,
            "isReservationMandatory": False,
            "implicitlyReserved": False,
        }
        return 201, coupon

    def delete_coupon_reservation(self, sent: Sent, code: str) -> tuple[int, Any]:
        return 204, None

    def get_reserved_customers(self, sent: Sent, code: str) -> tuple[int, Any]:
        return 200, {"totalResultSize": 0, "data": []}

    def create_referral(self, sent: Sent) -> tuple[int, Any]:
        referral = {
            "id": 1,
            "created": CREATED,
            "campaignId": sent.body["campaignId"],
            "advocateProfileIntegrationId": sent.body["advocateProfileIntegrationId"],
            "code": REFERRAL_CODE,
            "usageCounter": 0,
            "usageLimit": sent.body.get("usageLimit", 0),
            "attributes": dict(sent.body.get("attributes") or {}),
        }
        if "friendProfileIntegrationId" in sent.body:
            referral["friendProfileIntegrationId"] = sent.body["friendProfileIntegrationId"]
        return 201, referral

    def delete_customer_data(self, sent: Sent, integration_id: str) -> tuple[int, Any]:
        return 204, None

    def get_customer_inventory(self, sent: Sent, integration_id: str) -> tuple[int, Any]:
        """Only the requested parts, empty (a profile the shop just created)."""
        parts: dict[str, Any] = {
            "profile": _profile(integration_id),
            "loyalty": {"programs": {}},
            "referrals": [],
            "coupons": [],
            "giveaways": [],
            "achievements": [],
        }
        return 200, {k: v for k, v in parts.items() if sent.query.get(k) == "true"}


#: (method, path pattern, answer method); the first match wins.
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(f"^{p}$"), name)
    for m, p, name in [
        ("PUT", r"/v2/customer_sessions/([^/]+)/reopen", "reopen_customer_session"),
        ("POST", r"/v2/customer_sessions/([^/]+)/returns", "return_cart_items"),
        ("PUT", r"/v2/customer_sessions/([^/]+)", "update_customer_session_v2"),
        ("PUT", r"/v2/customer_profiles", "update_customer_profiles_v2"),
        ("PUT", r"/v2/customer_profiles/([^/]+)", "update_customer_profile_v2"),
        ("POST", r"/v2/customer_audiences", "update_customer_profile_audiences"),
        ("GET", r"/v1/coupon_reservations/customerprofiles/([^/]+)", "get_reserved_customers"),
        ("POST", r"/v1/coupon_reservations/([^/]+)", "create_coupon_reservation"),
        ("DELETE", r"/v1/coupon_reservations/([^/]+)", "delete_coupon_reservation"),
        ("POST", r"/v1/referrals", "create_referral"),
        ("DELETE", r"/v1/customer_data/([^/]+)", "delete_customer_data"),
        ("GET", r"/v1/customer_profiles/([^/]+)/inventory", "get_customer_inventory"),
    ]
]


def answer(recording: _Recording, sent: Sent) -> tuple[int, Any]:
    """The canned ``(status, body)`` for ``sent``; AssertionError for an unknown operation."""
    for method, pattern, name in _ROUTES:
        match = pattern.match(sent.path)
        if method == sent.method and match is not None:
            handler = getattr(_Answers(recording), name)
            return cast("tuple[int, Any]", handler(sent, *map(unquote, match.groups())))
    raise AssertionError(
        f"the recording transport has no canned answer for {sent.method} {sent.path}: "
        "add one to tests/core/recording.py"
    )


# --- the HTTP layer ----------------------------------------------------------------------


def spec_present() -> bool:
    """Are the official OpenAPI documents there (as ``tests.resources.require_spec`` checks)?"""
    from tests.resources import SPEC_DIR

    return (SPEC_DIR / "openapi.yaml").is_file()


def _spec_check(
    recording: _Recording, what: str, sent: Sent, body: bytes | None, *, status: int = 0
) -> str | None:
    """Check a request or a canned answer against the spec (when present); the operation."""
    from tests import openapi_contract

    operation = openapi_contract.operation_for(sent.method, sent.path)
    if operation is None or not spec_present():
        return operation
    try:
        if what == "request":
            openapi_contract.validate_request(
                operation,
                method=sent.method,
                path=sent.path,
                query=sent.query,
                headers=sent.headers,
                body=body,
            )
        else:
            openapi_contract.validate_response(operation, status=status, body=body)
    except AssertionError as exc:
        recording.problems.append(f"{what} of {sent.method} {sent.path}: {exc}")
    return operation


class RecordingAdapter(BaseAdapter):
    """A ``requests`` adapter that records each request and answers it from :func:`answer`."""

    def __init__(self, recording: _Recording) -> None:
        super().__init__()
        self.recording = recording

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        raw = request.body.encode() if isinstance(request.body, str) else request.body
        body = json.loads(raw) if raw else None
        sent = Sent(
            method=str(request.method),
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            body=body,
            headers=dict(request.headers),
        )
        self.recording.http.append(sent)
        operation = _spec_check(self.recording, "request", sent, raw)
        if self.recording.fail is not None:
            self.recording.replies.append((0, None))
            return self.failure(request, self.recording.fail)
        try:
            status, payload = answer(self.recording, sent)
        except AssertionError as exc:
            self.recording.problems.append(str(exc))
            raise
        self.recording.replies.append((status, payload))
        content = b"" if payload is None else json.dumps(payload).encode()
        if operation is not None:
            _spec_check(self.recording, "answer", sent, content or None, status=status)
        return self.response(request, status, content)

    def close(self) -> None:
        """Nothing to close: there is no socket."""

    @staticmethod
    def response(
        request: requests.PreparedRequest, status: int, content: bytes
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response._content = content
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        return response

    def failure(self, request: requests.PreparedRequest, fail: BaseException) -> requests.Response:
        """What the wire does for ``fail``, so the real client raises its own error:

        - ``TalonTimeoutError`` / ``TalonConnectionError``: ``requests`` raises a read timeout /
          connection error (the transport maps it back, with the method and path);
        - ``TalonAPIError`` (any status): an answer with that status and the API's error body
          (``message``, ``errors``, ``StatusCode``);
        - ``TalonDecodeError``: a 200 whose body is not JSON (a proxy's HTML page);
        - anything else (a worker killed mid-call, ``OSError``, a validation error the test
          wants): raised as is, as if the process died inside the HTTP call.
        """
        if isinstance(fail, TalonTimeoutError):
            raise requests.ReadTimeout(fail.message, request=request)
        if isinstance(fail, TalonConnectionError):
            raise requests.ConnectionError(fail.message, request=request)
        if isinstance(fail, TalonAPIError):
            error = {"message": fail.message, "errors": fail.errors, "StatusCode": fail.status}
            return self.response(request, fail.status, json.dumps(error).encode())
        if isinstance(fail, TalonDecodeError):
            return self.response(request, 200, b"<html>Bad gateway</html>")
        raise fail


# --- the client --------------------------------------------------------------------------

#: The client methods that are recorded in ``calls`` (every operation the Django side uses).
RECORDED = (
    "update_customer_session_v2",
    "get_customer_session",
    "return_cart_items",
    "reopen_customer_session",
    "update_customer_profile_v2",
    "update_customer_profiles_v2",
    "update_customer_profile_audiences",
    "create_coupon_reservation",
    "delete_coupon_reservation",
    "get_reserved_customers",
    "get_reserved_coupons",
    "create_referral",
    "delete_customer_data",
    "get_customer_inventory",
    "get_customer_profiles_by_attributes",
    "track_event",
    "update_customer_profile_v1",
    "update_customer_session_v1",
)


def _recorded(name: str) -> Callable[..., Any]:
    real = getattr(TalonClient, name)

    @functools.wraps(real)
    def method(self: RecordingClient, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        return real(self, *args, **kwargs)

    return method


class RecordingClient(TalonClient):
    """:class:`TalonClient` whose HTTP goes to a :class:`RecordingAdapter`.

    No client retries (``RetryPolicy.none()``): one method call is one request, so a test
    counts calls and requests alike; retries are the client tests' business.
    """

    def __init__(self) -> None:
        session = requests.Session()
        self._recording = _Recording()
        adapter = RecordingAdapter(self._recording)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        super().__init__(BASE_URL, API_KEY, retry=RetryPolicy.none(), session=session)

    def with_options(self, **kwargs: Any) -> TalonClient:
        """A copy (other timeout/retry, as ``guarded(timeout=...)`` asks) recording into the
        same ``calls``/``http`` and obeying the same ``fail``/``effects``."""
        copy = cast("RecordingClient", super().with_options(**kwargs))
        copy._recording = self._recording
        return copy

    @property
    def calls(self) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        return self._recording.calls

    @property
    def http(self) -> list[Sent]:
        return self._recording.http

    @property
    def effects(self) -> list[dict[str, Any]]:
        return self._recording.effects

    @effects.setter
    def effects(self, value: list[dict[str, Any]]) -> None:
        self._recording.effects = [{**_EFFECT_DEFAULTS, **effect} for effect in value]

    @property
    def replies(self) -> list[tuple[int, Any]]:
        return self._recording.replies

    @property
    def problems(self) -> list[str]:
        return self._recording.problems

    @property
    def fail(self) -> BaseException | None:
        return self._recording.fail

    @fail.setter
    def fail(self, value: BaseException | None) -> None:
        self._recording.fail = value

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


for _name in RECORDED:
    setattr(RecordingClient, _name, _recorded(_name))
