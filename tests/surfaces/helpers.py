"""Shared helpers for the display-layer tests."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from django_talon.adapters import REQUEST_SESSION_KEY
from django_talon.models import CustomerSession

CART = [
    {"sku": "ESPRESSO-250", "name": "Espresso 250g", "quantity": 2, "price": 8.5,
     "category": "coffee"},
    {"sku": "GRINDER-X", "name": "Grinder X", "quantity": 1, "price": 89.0,
     "category": "equipment"},
]  # fmt: skip


def effect(effect_type: str, campaign_id: int = 1, **props: Any) -> dict[str, Any]:
    return {
        "campaignId": campaign_id,
        "rulesetId": 10,
        "ruleIndex": 0,
        "ruleName": "rule",
        "effectType": effect_type,
        "props": props,
    }


def make_session(
    integration_id: str = "sess-1",
    *,
    effects: list[dict[str, Any]] | None = None,
    cart: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> CustomerSession:
    return CustomerSession.objects.create(
        integration_id=integration_id,
        cart_items=CART if cart is None else cart,
        effects=effects or [],
        effects_received_at=timezone.now() if effects else None,
        **fields,
    )


def request_for(session: CustomerSession | None = None, user: Any = None) -> HttpRequest:
    request = RequestFactory().get("/cart/")
    request.session = {REQUEST_SESSION_KEY: session.integration_id} if session else {}  # type: ignore[assignment]
    request.user = user or AnonymousUser()
    return request
