"""Typed request payloads: ``TypedDict`` s for the JSON the client sends.

Why TypedDicts and not dataclasses: callers already build these payloads as dicts (and the
Django layers store them as JSON), so a TypedDict adds checking without a conversion step.
Every key is optional (``total=False``) because session updates are partial by design
(an omitted field keeps its stored value). The methods accept these types or any mapping, so
annotating a payload is opt-in::

    from django_talon.client import CartItem, NewCustomerSessionV2

    item: CartItem = {"sku": "ESPRESSO-250", "price": Decimal("8.50"), "quantity": 2}
    session: NewCustomerSessionV2 = {"profileId": "c7", "cartItems": [item]}

Each key is a property of the schema of the same name in the official ``openapi.yaml``
(checked by ``tests/client/test_payloads.py``). Money may be ``Decimal``: the client converts it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

Number = Decimal | float | int


class AdditionalCost(TypedDict, total=False):
    price: Number


class CartItem(TypedDict, total=False):
    sku: str
    quantity: int
    name: str
    price: Number
    category: str
    position: Number  # the spec says "number" here (an integer in practice)
    weight: Number
    height: Number
    width: Number
    length: Number
    catalogItemID: int
    attributes: dict[str, Any]
    additionalCosts: dict[str, AdditionalCost]


class NewCustomerSessionV2(TypedDict, total=False):
    profileId: str
    storeIntegrationId: str
    evaluableCampaignIds: list[int]
    couponCodes: list[str]
    referralCode: str
    loyaltyCards: list[str]
    state: str
    cartItems: list[CartItem]
    additionalCosts: dict[str, AdditionalCost]
    identifiers: list[str]
    attributes: dict[str, Any]


class ReturnedCartItem(TypedDict, total=False):
    position: int
    quantity: int
    sku: str


class ProfileAudiencesChanges(TypedDict, total=False):
    adds: list[int]
    deletes: list[int]


class MultipleCustomerProfileIntegrationRequestItem(TypedDict, total=False):
    integrationId: str
    attributes: dict[str, Any]


class CustomerProfileAudienceRequestItem(TypedDict, total=False):
    action: str
    profileIntegrationId: str
    audienceId: int
