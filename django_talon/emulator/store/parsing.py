"""Request bodies in, validated plain dicts out: sessions, cart items, ``responseContent``.

Why a room of its own: every write operation validates the *whole* request before it takes the
store lock, so a 400 never leaves a half-applied update behind. These functions touch no state.
"""

from __future__ import annotations

import math
from typing import Any

from django_talon.emulator.errors import bad_request
from django_talon.emulator.util import want_int, want_list, want_number, want_object, want_str

SESSION_STATES = ("open", "closed", "partially_returned", "cancelled")
RESPONSE_CONTENT = {
    "customerSession",
    "customerProfile",
    "coupons",
    "triggeredCampaigns",
    "referral",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "previousReturns",
    "campaignEligibility",
    "achievements",
}
PROFILE_RESPONSE_CONTENT = {
    "customerProfile",
    "triggeredCampaigns",
    "loyalty",
    "event",
    "awardedGiveaways",
    "ruleFailureReasons",
    "campaignEligibility",
    "achievements",
}
MAX_CART_ITEMS = 1000
MAX_CART_UNITS = 10_000
MAX_BATCH = 1000
_DIMENSIONS = ("weight", "height", "width", "length")


def parse_cart_item(raw: Any, pointer: str, *, legacy: bool) -> dict[str, Any]:
    """One validated cart item (keys in a fixed order: answers render them as stored).

    Why the inline type checks: a session update validates every item of the cart, so the
    common well-formed item takes a path that builds no JSON pointer strings; anything
    unusual falls through to the ``want_*`` checks, which name the offending field.
    """
    item = raw if type(raw) is dict else want_object(raw, pointer)
    out: dict[str, Any] = {}
    sku = item.get("sku")
    out["sku"] = sku if type(sku) is str and sku else want_str(sku, f"{pointer}/sku", min_length=1)
    if "quantity" not in item:
        raise bad_request(f"{pointer}/quantity is required", pointer=f"{pointer}/quantity")
    quantity = item["quantity"]
    out["quantity"] = (
        quantity
        if type(quantity) is int and quantity >= 1
        else want_int(quantity, f"{pointer}/quantity", minimum=1)
    )
    if "price" not in item:
        raise bad_request(f"{pointer}/price is required (no catalog)", pointer=f"{pointer}/price")
    raw_price = item["price"]
    if type(raw_price) is float and math.isfinite(raw_price):
        out["price"] = raw_price
    else:
        price = want_number(raw_price, f"{pointer}/price")
        out["price"] = int(price) if price.is_integer() and isinstance(raw_price, int) else price
    if "name" in item:
        name = item["name"]
        out["name"] = (
            name
            if type(name) is str and (name or not legacy)
            else want_str(name, f"{pointer}/name", min_length=1 if legacy else 0)
        )
    elif legacy:
        raise bad_request(f"{pointer}/name is required", pointer=f"{pointer}/name")
    if "category" in item:
        category = item["category"]
        out["category"] = (
            category if type(category) is str else want_str(category, f"{pointer}/category")
        )
    if len(item) <= len(out):  # the usual item: nothing but the fields read above
        return out
    for dim in _DIMENSIONS:
        if dim in item:
            out[dim] = want_number(item[dim], f"{pointer}/{dim}")
    if "attributes" in item:
        out["attributes"] = dict(want_object(item["attributes"], f"{pointer}/attributes"))
    if "additionalCosts" in item and not legacy:
        out["additionalCosts"] = parse_additional_costs(
            item["additionalCosts"], f"{pointer}/additionalCosts"
        )
    if "product" in item and not legacy:
        product = want_object(item["product"], f"{pointer}/product")
        out["product"] = {"name": want_str(product.get("name"), f"{pointer}/product/name")}
    return out


#: quantities below this are exact as floats (the fast branch's sum needs no overflow guard)
_EXACT_INTS = 1 << 53


def _parse_cart_items(items: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """The session's cart items, validated (v2), and how many units they hold.

    Why the first branch: most carts hold items of exactly ``sku``, ``quantity``, ``price``
    (a float), ``name`` and ``category``, well-formed; those are copied as
    :func:`parse_cart_item` would copy them (same keys, same order) without a call per item
    (subscripts rather than ``dict.get`` calls; ``price - price == 0.0`` is
    ``math.isfinite(price)`` for a float: infinities and NaN give NaN).
    Anything else goes through :func:`parse_cart_item`, which names what is wrong.

    A cart whose total is past the float range (``1e308`` x 10) is a 400: every price is
    finite on its own, and the engine's sums became infinite (a 500 from ``math.floor``).
    """
    parsed: list[dict[str, Any]] = []
    total = 0.0
    units = 0
    append = parsed.append
    for index, item in enumerate(items):
        if type(item) is dict and len(item) == 5:
            try:
                sku, quantity, price = item["sku"], item["quantity"], item["price"]
                name, category = item["name"], item["category"]
            except KeyError:
                pass  # another field: the checks below name what is wrong
            else:
                if (
                    type(sku) is str
                    and sku
                    and type(quantity) is int
                    and 1 <= quantity < _EXACT_INTS
                    and type(price) is float
                    and price - price == 0.0
                    and type(name) is str
                    and type(category) is str
                ):
                    append(
                        {
                            "sku": sku,
                            "quantity": quantity,
                            "price": price,
                            "name": name,
                            "category": category,
                        }
                    )
                    total += price * quantity
                    units += quantity
                    continue
        out = parse_cart_item(item, f"/customerSession/cartItems/{index}", legacy=False)
        try:
            total += float(out.get("price", 0)) * float(out.get("quantity", 1))
        except OverflowError:  # a quantity past the float range
            total = math.inf
        units += out["quantity"]
        append(out)
    if not math.isfinite(total):
        raise bad_request(
            "the cart's total (price x quantity over all items) is too large",
            pointer="/customerSession/cartItems",
        )
    return parsed, units


def parse_additional_costs(raw: Any, pointer: str) -> dict[str, dict[str, Any]]:
    """``{name: {"price": number}}`` (``AdditionalCost``), for the session and for one item.

    Why the same parser for both: a cart item's ``additionalCosts`` has the session's shape
    (the spec's ``CartItem.additionalCosts`` is a map of ``AdditionalCost``), and an item
    cost that was dropped here was reported as ``cartItemAdditionalCostTotal: 0``.
    """
    costs = want_object(raw, pointer)
    parsed: dict[str, dict[str, Any]] = {}
    for name, cost in costs.items():
        where = f"{pointer}/{name}"
        cost_obj = want_object(cost, where)
        price = want_number(cost_obj.get("price"), f"{where}/price")
        if price < 0:
            raise bad_request(f"{where}/price must not be negative", pointer=f"{where}/price")
        parsed[name] = {"price": price}
    return parsed


def parse_session_v2(raw: Any) -> dict[str, Any]:
    """Validate a NewCustomerSessionV2; returns only the fields that were present."""
    cs = want_object(raw, "/customerSession")
    out: dict[str, Any] = {}
    if "profileId" in cs:
        out["profileId"] = want_str(cs["profileId"], "/customerSession/profileId", max_length=1000)
    if "storeIntegrationId" in cs:
        out["storeIntegrationId"] = want_str(
            cs["storeIntegrationId"],
            "/customerSession/storeIntegrationId",
            min_length=1,
            max_length=1000,
        )
    if "evaluableCampaignIds" in cs:
        ids = want_list(cs["evaluableCampaignIds"], "/customerSession/evaluableCampaignIds")
        out["evaluableCampaignIds"] = [
            want_int(v, f"/customerSession/evaluableCampaignIds/{i}") for i, v in enumerate(ids)
        ]
    if "couponCodes" in cs:
        codes = want_list(cs["couponCodes"], "/customerSession/couponCodes")
        out["couponCodes"] = [
            c
            if type(c) is str and len(c) <= 100  # (no pointer string for a well-formed code)
            else want_str(c, f"/customerSession/couponCodes/{i}", max_length=100)
            for i, c in enumerate(codes)
        ]
    if "referralCode" in cs:
        out["referralCode"] = want_str(
            cs["referralCode"], "/customerSession/referralCode", max_length=100
        )
    if "loyaltyCards" in cs:
        cards = want_list(cs["loyaltyCards"], "/customerSession/loyaltyCards", max_items=1)
        out["loyaltyCards"] = [
            want_str(c, f"/customerSession/loyaltyCards/{i}") for i, c in enumerate(cards)
        ]
    if "state" in cs:
        state = want_str(cs["state"], "/customerSession/state")
        if state not in SESSION_STATES:
            raise bad_request(
                f"/customerSession/state must be one of {', '.join(SESSION_STATES)}",
                pointer="/customerSession/state",
            )
        out["state"] = state
    if "cartItems" in cs:
        items = want_list(cs["cartItems"], "/customerSession/cartItems", max_items=MAX_CART_ITEMS)
        parsed, units = _parse_cart_items(items)
        if units > MAX_CART_UNITS:
            raise bad_request(
                f"the cart holds more than {MAX_CART_UNITS} units",
                pointer="/customerSession/cartItems",
            )
        out["cartItems"] = parsed
    if "additionalCosts" in cs:
        out["additionalCosts"] = parse_additional_costs(
            cs["additionalCosts"], "/customerSession/additionalCosts"
        )
    if "identifiers" in cs:
        idents = want_list(cs["identifiers"], "/customerSession/identifiers", max_items=5)
        out["identifiers"] = [
            want_str(v, f"/customerSession/identifiers/{i}") for i, v in enumerate(idents)
        ]
    if "attributes" in cs:
        out["attributes"] = dict(want_object(cs["attributes"], "/customerSession/attributes"))
    return out


def parse_response_content(body: dict[str, Any], allowed: set[str]) -> list[str] | None:
    if "responseContent" not in body:
        return None
    values = want_list(body["responseContent"], "/responseContent")
    result = []
    for i, value in enumerate(values):
        text = want_str(value, f"/responseContent/{i}")
        if text not in allowed:
            raise bad_request(
                f"/responseContent/{i}: unknown value {text!r}", pointer=f"/responseContent/{i}"
            )
        result.append(text)
    return result
