"""The request TypedDicts name real API fields, with the JSON type the spec gives them."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

import pytest

from django_talon.client import payloads
from django_talon.client.payloads import CartItem, NewCustomerSessionV2
from tests.client.support import Answer, RecordingAdapter, make_client
from tests.openapi_contract import NEW, load_document, validate_request
from tests.resources import require_spec

TYPED = [
    payloads.AdditionalCost,
    payloads.CartItem,
    payloads.NewCustomerSessionV2,
    payloads.ReturnedCartItem,
    payloads.ProfileAudiencesChanges,
    payloads.MultipleCustomerProfileIntegrationRequestItem,
    payloads.CustomerProfileAudienceRequestItem,
]
NUMBER = typing.get_type_hints(payloads.CartItem)["price"]


def _properties(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _properties(schemas, schemas[schema["$ref"].rsplit("/", 1)[1]])
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        found.update(_properties(schemas, part))
    found.update(schema.get("properties", {}))
    return found


def _json_type(schemas: dict[str, Any], schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return _json_type(schemas, schemas[schema["$ref"].rsplit("/", 1)[1]])
    if "type" in schema:
        return str(schema["type"])
    return "object" if "properties" in schema or "allOf" in schema else "any"


def _python_fits(hint: Any, json_type: str) -> bool:
    origin = typing.get_origin(hint) or hint
    return {
        "string": hint is str,
        "integer": hint is int,
        "number": hint == NUMBER,
        "boolean": hint is bool,
        "array": origin is list,
        "object": origin is dict,
        "any": True,
    }[json_type]


@pytest.mark.parametrize("typed", TYPED, ids=lambda t: t.__name__)
def test_every_key_is_a_field_of_the_spec_schema(typed: Any) -> None:
    require_spec()
    schemas = load_document(NEW)["components"]["schemas"]
    spec_fields = _properties(schemas, schemas[typed.__name__])
    hints = typing.get_type_hints(typed)
    assert set(hints) <= set(spec_fields), set(hints) - set(spec_fields)
    for key, hint in hints.items():
        json_type = _json_type(schemas, spec_fields[key])
        assert _python_fits(hint, json_type), (key, hint, json_type)


def test_a_typed_session_is_sent_as_the_spec_wants_it() -> None:
    require_spec()
    item: CartItem = {"sku": "ESPRESSO-250", "price": Decimal("8.50"), "quantity": 2}
    session: NewCustomerSessionV2 = {"profileId": "c7", "cartItems": [item], "couponCodes": []}
    adapter = RecordingAdapter(Answer(200, {"effects": []}))
    make_client(adapter).update_customer_session_v2("s1", session)
    sent = adapter.sent[0]
    assert sent.json()["customerSession"]["cartItems"][0]["price"] == 8.5
    validate_request(
        "updateCustomerSessionV2",
        method=sent.method,
        path=sent.path,
        query=sent.query,
        headers=sent.headers,
        body=sent.body,
    )
