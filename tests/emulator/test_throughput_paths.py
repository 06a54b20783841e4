"""Request-side fast paths (issue 13) give what the plain code gives.

- a v2 session's usual cart item (exactly ``sku``, ``quantity``, ``price`` as a float,
  ``name``, ``category``) is copied without a ``parse_cart_item`` call: the items, and the
  refusals of near misses, must be ``parse_cart_item``'s;
- routes are tried only among those with as many slashes as the path: every path must match
  the route, parameters and 405 methods that trying the whole table in order gives.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from django_talon.emulator.app import EmulatorApp, _routes_by_depth
from django_talon.emulator.errors import ApiError
from django_talon.emulator.routes import Route
from django_talon.emulator.store.parsing import parse_cart_item, parse_session_v2

USUAL = {"sku": "A", "quantity": 2, "price": 4.5, "name": "Beans", "category": "coffee"}

ITEMS: list[Any] = [
    USUAL,
    {**USUAL, "name": ""},
    {**USUAL, "category": ""},
    {"category": "c", "name": "n", "price": 1.5, "quantity": 1, "sku": "B"},  # other key order
    {**USUAL, "price": 3},  # an int price stays an int
    {**USUAL, "price": 3.0},
    {**USUAL, "price": -1.25},
    {**USUAL, "price": math.inf},
    {**USUAL, "price": math.nan},
    {**USUAL, "price": True},
    {**USUAL, "quantity": True},
    {**USUAL, "quantity": 0},
    {**USUAL, "quantity": 2.0},
    {**USUAL, "sku": ""},
    {**USUAL, "sku": 5},
    {**USUAL, "name": None},
    {**USUAL, "category": 3},
    {"sku": "A", "quantity": 1, "price": 1.5, "name": "n", "weight": 2.0},
    {"sku": "A", "quantity": 1, "price": 1.5, "name": "n", "attributes": {"x": 1}},
    {"sku": "A", "quantity": 1, "price": 1.5, "name": "n", "category": "c", "weight": 1.0},
    {"sku": "A", "quantity": 1, "price": 1.5},
    ["not", "an", "object"],
]


def _plain(item: Any, index: int) -> Any:
    try:
        return parse_cart_item(item, f"/customerSession/cartItems/{index}", legacy=False)
    except ApiError as exc:
        return ("refused", exc.status, exc.body())


def _fast(item: Any, filler: int) -> Any:
    cart = [USUAL] * filler + [item]
    try:
        parsed = parse_session_v2({"cartItems": cart})["cartItems"]
    except ApiError as exc:
        return ("refused", exc.status, exc.body())
    assert parsed[:filler] == [USUAL] * filler
    return parsed[filler]


@pytest.mark.parametrize("item", ITEMS, ids=range(len(ITEMS)))
def test_cart_items_parse_as_parse_cart_item_parses_them(item: Any) -> None:
    for filler in (0, 3):
        fast, plain = _fast(item, filler), _plain(item, filler)
        assert repr(fast) == repr(plain)  # repr: the same keys in the same order, 3 vs 3.0
        if isinstance(fast, dict):
            assert list(fast) == list(plain)
            assert [type(v) for v in fast.values()] == [type(v) for v in plain.values()]


def _plain_match(routes: list[Route], method: str, path: str) -> tuple[Any, ...]:
    allowed: list[str] = []
    for route in routes:
        m = route.pattern.match(path)
        if m is None:
            continue
        if route.method == method:
            return route, list(m.groups()), allowed
        allowed.append(route.method)
    return None, [], allowed


PATHS = [
    "/v2/customer_sessions/s1",
    "/v2/customer_sessions/s%2F1",
    "/v2/customer_sessions/s1/returns",
    "/v2/customer_sessions/s1/reopen",
    "/v2/customer_sessions/",
    "/v2/customer_sessions",
    "/v2/customer_profiles/p1",
    "/v2/customer_profiles",
    "/v1/customer_profiles/p1/achievements/3",
    "/v2/loyalty_programs/1/cards/C1/link_profile",
    "/v1/catalogs/1/sync",
    "/v1/best_prior_price",
    "/v3/events/e1",
    "/v2/audiences/1/memberships",
    "/",
    "",
    "/nothing/at/all/here/x/y/z",
    "/v2/customer_sessions/s1/",
    "//v2/customer_sessions/s1",
]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE", "PATCH"])
def test_routes_match_as_the_whole_table_does(method: str) -> None:
    app = EmulatorApp(api_key="k")
    assert app._routes_by_depth is not None  # the index is used for this table
    for path in PATHS:
        route, params, allowed = app._match(method, path)
        plain_route, plain_params, plain_allowed = _plain_match(app.routes, method, path)
        assert route is plain_route, path
        assert allowed == plain_allowed, path
        assert params == [p.replace("%2F", "/") for p in plain_params], path


def test_a_pattern_of_another_shape_turns_the_index_off() -> None:
    import re

    routes = EmulatorApp(api_key="k").routes
    odd = Route("GET", re.compile(r"^/v9/(.+)$"), "odd", lambda r: (200, None))
    assert _routes_by_depth([*routes, odd]) is None


@pytest.mark.parametrize(
    "codes", [["WELCOME10"], ["a" * 100], ["a" * 101], [""], [5], [None], ["A", "b", "A"]]
)
def test_coupon_codes_parse_as_the_checks_parse_them(codes: list[Any]) -> None:
    from django_talon.emulator.util import want_str

    def plain() -> Any:
        return [
            want_str(c, f"/customerSession/couponCodes/{i}", max_length=100)
            for i, c in enumerate(codes)
        ]

    def read(parse: Any) -> Any:
        try:
            return parse()
        except ApiError as exc:
            return ("refused", exc.status, exc.body())

    assert read(lambda: parse_session_v2({"couponCodes": codes})["couponCodes"]) == read(plain)
