"""One function maps status to exception; error bodies and undecodable answers."""

from __future__ import annotations

import pytest

from django_talon.client import (
    RetryPolicy,
    TalonAPIError,
    TalonBadRequestError,
    TalonConflictError,
    TalonDecodeError,
    TalonError,
    TalonForbiddenError,
    TalonNotFoundError,
    TalonRateLimitedError,
    TalonServerError,
    TalonUnauthorizedError,
    error_for_status,
)
from django_talon.client import errors as client_errors
from tests.client.support import Answer, RecordingAdapter, make_client

ERROR_BODY = {
    "message": "Invalid request",
    "errors": [
        {"title": "couponCodes too long", "details": "max 100", "source": {"pointer": "/x"}}
    ],
    "StatusCode": 400,
}


@pytest.mark.parametrize(
    "old_name",
    [
        "TalonBadRequest",
        "TalonUnauthorized",
        "TalonForbidden",
        "TalonNotFound",
        "TalonConflict",
        "TalonRateLimited",
    ],
)
def test_names_before_n818_are_the_same_classes(old_name: str) -> None:
    """``except TalonNotFound`` written before the rename catches exactly what it did."""
    import django_talon.client as client_package

    new = getattr(client_errors, old_name + "Error")
    assert getattr(client_errors, old_name) is new
    assert getattr(client_package, old_name) is new
    assert getattr(client_package, old_name + "Error") is new
    assert {old_name, old_name + "Error"} <= set(client_errors.__all__)
    assert {old_name, old_name + "Error"} <= set(client_package.__all__)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, TalonBadRequestError),
        (401, TalonUnauthorizedError),
        (403, TalonForbiddenError),
        (404, TalonNotFoundError),
        (409, TalonConflictError),
        (429, TalonRateLimitedError),
        (500, TalonServerError),
        (502, TalonServerError),
        (503, TalonServerError),
        (599, TalonServerError),
        (418, TalonAPIError),
        (422, TalonAPIError),
    ],
)
def test_status_maps_to_exception(status: int, cls: type[TalonAPIError]) -> None:
    adapter = RecordingAdapter(Answer(status, ERROR_BODY))
    client = make_client(adapter, retry=RetryPolicy.none())
    with pytest.raises(cls) as info:
        client.get_customer_session("cart 1")
    error = info.value
    assert type(error) is cls
    assert isinstance(error, TalonError)
    assert error.status == status
    assert error.message == "Invalid request"
    assert error.errors == ERROR_BODY["errors"]
    assert error.method == "GET"
    assert error.path == "/v2/customer_sessions/cart%201"
    assert error.body == ERROR_BODY
    assert f"GET /v2/customer_sessions/cart%201 -> {status}: Invalid request" in str(error)
    assert "couponCodes too long" in str(error)


def test_error_for_status_is_the_single_mapping() -> None:
    assert type(error_for_status(404, None)) is TalonNotFoundError
    assert type(error_for_status(504, None)) is TalonServerError
    assert error_for_status(404, None).message == "HTTP 404"


def test_non_json_error_body_uses_text_as_message() -> None:
    html = b"<html><body>502 Bad Gateway</body></html>"
    adapter = RecordingAdapter(Answer(502, raw=html, headers={"Content-Type": "text/html"}))
    with pytest.raises(TalonServerError) as info:
        make_client(adapter, retry=RetryPolicy.none()).get_customer_session("s")
    assert "502 Bad Gateway" in info.value.message
    assert info.value.errors == [] and info.value.body is None


def test_odd_errors_list_does_not_break_mapping() -> None:
    adapter = RecordingAdapter(Answer(400, {"message": "x", "errors": ["plain string", 3]}))
    with pytest.raises(TalonBadRequestError) as info:
        make_client(adapter).get_customer_session("s")
    assert info.value.errors == [{"title": "plain string"}, {"title": "3"}]


def test_undecodable_success_body_raises_decode_error() -> None:
    adapter = RecordingAdapter(Answer(200, raw=b"<html>maintenance</html>"))
    with pytest.raises(TalonDecodeError) as info:
        make_client(adapter).get_customer_session("s")
    assert info.value.status == 200 and info.value.path == "/v2/customer_sessions/s"
    assert "not JSON" in str(info.value)


def test_deeply_nested_answers_are_decode_errors_not_recursion_errors() -> None:
    """``json.loads`` raises RecursionError (not ValueError) on deep nesting."""
    deep = b"[" * 100_000 + b"]" * 100_000
    adapter = RecordingAdapter(Answer(200, raw=deep))
    with pytest.raises(TalonDecodeError, match="nested too deeply"):
        make_client(adapter).get_customer_session("s")
    adapter = RecordingAdapter(Answer(502, raw=deep))
    with pytest.raises(TalonServerError) as info:
        make_client(adapter, retry=RetryPolicy.none()).get_customer_session("s")
    assert info.value.status == 502


def test_success_body_of_the_wrong_shape_raises_decode_error() -> None:
    adapter = RecordingAdapter(Answer(200, [1, 2, 3]))
    with pytest.raises(TalonDecodeError, match="expected a JSON object") as info:
        make_client(adapter).update_customer_session_v2("s", {})
    assert (info.value.method, info.value.path, info.value.status) == (
        "PUT",
        "/v2/customer_sessions/s",
        200,
    )


def test_validation_error_is_a_value_error() -> None:
    from django_talon.client import TalonValidationError

    assert issubclass(TalonValidationError, ValueError)
    assert issubclass(TalonValidationError, TalonError)
