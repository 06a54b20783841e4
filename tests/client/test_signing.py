"""Legacy ``Content-Signature`` (HMAC-MD5 over the exact body, key = unhex(application key))."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from django_talon.client import TalonValidationError
from django_talon.client.signing import content_signature, sign_body
from tests.client.support import API_KEY, Answer, RecordingAdapter, make_client

APP_KEY = "fefecafedeadbeef"
BODY = b'{"attributes":{"Email":"happycustomer@example.org"}}'
# Computed outside Python: printf '%s' "$BODY" | openssl dgst -md5 -mac HMAC -macopt hexkey:fefecafedeadbeef
OPENSSL_VECTOR = "7a50137887dd35072ec4d35169105445"


def test_known_vector() -> None:
    independent = hmac.new(bytes.fromhex(APP_KEY), BODY, hashlib.md5).hexdigest()
    assert independent == OPENSSL_VECTOR
    assert sign_body(BODY, APP_KEY) == OPENSSL_VECTOR
    assert content_signature(BODY, 7, APP_KEY) == f"signer=7; signature={OPENSSL_VECTOR}"


def test_v1_request_is_signed_over_the_exact_bytes_sent() -> None:
    adapter = RecordingAdapter(Answer(200, {}))
    client = make_client(adapter, application_id=7, application_key=APP_KEY, sign_v1=True)
    client.update_customer_profile_v1("customer-7", {"Email": "happycustomer@example.org"})
    sent = adapter.sent[0]
    assert sent.body == BODY
    expected = hmac.new(bytes.fromhex(APP_KEY), sent.body, hashlib.md5).hexdigest()
    assert sent.headers["Content-Signature"] == f"signer=7; signature={expected}"
    # The ApiKey-v1 header is still sent: either scheme authenticates a v1 call.
    assert sent.headers["Authorization"] == f"ApiKey-v1 {API_KEY}"


def test_bodyless_v1_request_signs_empty_bytes() -> None:
    adapter = RecordingAdapter(Answer(200, {"totalResultSize": 0, "data": []}))
    client = make_client(adapter, application_id=7, application_key=APP_KEY, sign_v1=True)
    client.get_reserved_customers("VIP20")
    empty = hmac.new(bytes.fromhex(APP_KEY), b"", hashlib.md5).hexdigest()
    assert adapter.sent[0].headers["Content-Signature"] == f"signer=7; signature={empty}"


def test_v2_requests_are_never_signed() -> None:
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    client = make_client(adapter, application_id=7, application_key=APP_KEY, sign_v1=True)
    client.update_customer_session_v2("s-1", {"profileId": "p"})
    assert "Content-Signature" not in adapter.sent[0].headers


def test_signing_is_off_by_default() -> None:
    adapter = RecordingAdapter(Answer(200, {}))
    client = make_client(adapter, application_id=7, application_key=APP_KEY)
    client.update_customer_profile_v1("customer-7", {})
    assert "Content-Signature" not in adapter.sent[0].headers


def test_sign_v1_needs_id_and_key() -> None:
    with pytest.raises(TalonValidationError, match="application_id"):
        make_client(RecordingAdapter(), sign_v1=True)


def test_bad_application_key_is_reported_without_echoing_it() -> None:
    secret = "not-hex-secret-value"
    with pytest.raises(TalonValidationError) as info:
        sign_body(b"{}", secret)
    assert secret not in str(info.value) and secret not in repr(info.value)
