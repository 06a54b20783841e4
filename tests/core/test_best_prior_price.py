"""Best prior price against the emulator over HTTP: the template tag (one call, then none),
SKUs without a price, the fallback when Talon.One fails or is switched off, many SKUs in
one call, the REST endpoint and the example shop's product page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client

from django_talon import resilience
from django_talon.services import bulk_sync
from django_talon.services.catalog import sync_catalog
from django_talon.services.prices import best_prior_prices, forget_prior_prices
from tests.core.test_applications import usd, usd_server  # noqa: F401 (fixtures)
from tests.core.test_catalog_sync import CATALOG_ID, make_products

pytestmark = pytest.mark.django_db

PRICE_PATH = "/v1/best_prior_price"
TAG = Template("{% load talon_prices %}{% talon_best_prior_price product %}")


@pytest.fixture
def priced(settings: Any, talon_settings: dict[str, Any], talon_emulator: Any) -> list[Any]:
    """Three products synced to the catalog (their prices are Talon.One's price history)."""
    settings.TALON = {
        **settings.TALON,
        "PRODUCT_MODEL": "catalog.Product",
        "CATALOG_ID": CATALOG_ID,
    }
    products = make_products(3)
    sync_catalog(checkpoint=bulk_sync.NullCheckpoint())
    talon_emulator.control.clear_requests()
    return products


def price_calls(emulator: Any) -> int:
    return len(emulator.control.requests(path_prefix=PRICE_PATH))


def render(product: Any) -> str:
    return TAG.render(Context({"product": product})).strip()


def test_the_first_render_asks_once_and_the_next_ones_never(
    priced: list[Any], talon_emulator: Any
) -> None:
    product = priced[1]

    first = render(product)
    assert "Lowest price in the last 30 days: 10.01 EUR" in first
    assert price_calls(talon_emulator) == 1

    for _ in range(3):
        assert render(product) == first
    assert price_calls(talon_emulator) == 1  # cached per SKU: zero calls per render


def test_a_sku_without_a_price_renders_nothing_and_is_not_asked_again(
    priced: list[Any], talon_emulator: Any
) -> None:
    unsynced = make_products(1)[0]  # added after the sync: Talon.One has no price for it

    assert render(unsynced) == ""
    assert render(unsynced) == ""
    assert price_calls(talon_emulator) == 1


def test_talon_one_failing_renders_nothing_without_error_and_is_not_hammered(
    priced: list[Any], talon_emulator: Any
) -> None:
    product = priced[0]
    talon_emulator.control.add_fault(kind="error", status=503, path=PRICE_PATH)

    assert render(product) == ""
    assert render(product) == ""  # the failure is remembered (PRIOR_PRICE_RETRY_SECONDS)
    assert price_calls(talon_emulator) == 1

    talon_emulator.control.clear_faults()
    forget_prior_prices([product.sku])  # what the retry time's end does
    assert "10.00 EUR" in render(product)


def test_switched_off_renders_nothing_and_calls_nothing(
    priced: list[Any], talon_emulator: Any
) -> None:
    resilience.set_kill_switch(True)
    try:
        assert render(priced[0]) == ""
    finally:
        resilience.set_kill_switch(False)
    assert price_calls(talon_emulator) == 0


def test_many_skus_cost_one_call(priced: list[Any], talon_emulator: Any) -> None:
    skus = [p.sku for p in priced] + ["UNKNOWN-SKU"]

    prices = best_prior_prices(skus)

    assert {sku: p.price if p else None for sku, p in prices.items()} == {
        "SKU-00000": Decimal("10.00"),
        "SKU-00001": Decimal("10.01"),
        "SKU-00002": Decimal("10.02"),
        "UNKNOWN-SKU": None,
    }
    (call,) = talon_emulator.control.requests(path_prefix=PRICE_PATH)
    assert call["body"]["skus"] == skus and call["body"]["timeframe"] == "30"
    best_prior_prices(skus)
    assert price_calls(talon_emulator) == 1


def test_the_timeframe_setting_is_asked_for(
    priced: list[Any], talon_emulator: Any, settings: Any
) -> None:
    settings.TALON = {**settings.TALON, "PRIOR_PRICE_TIMEFRAME_DAYS": 7}
    assert "Lowest price in the last 7 days: 10.00 EUR" in render(priced[0])
    (call,) = talon_emulator.control.requests(path_prefix=PRICE_PATH)
    assert call["body"]["timeframe"] == "7"


def test_rest_endpoint(priced: list[Any], talon_emulator: Any, client: Client) -> None:
    answer = client.get("/api/talon/prices/SKU-00002/prior/")
    assert answer.status_code == 200
    data = answer.json()
    assert data["sku"] == "SKU-00002" and data["price"] == "10.02"
    assert data["currency"] == "EUR" and data["timeframe_days"] == 30

    assert client.get("/api/talon/prices/SKU-00002/prior/").json() == data
    assert price_calls(talon_emulator) == 1


def test_rest_endpoint_fallback_and_unknown_products(
    priced: list[Any], talon_emulator: Any, client: Client
) -> None:
    talon_emulator.control.add_fault(kind="error", status=500, path=PRICE_PATH)
    answer = client.get("/api/talon/prices/SKU-00000/prior/")
    assert answer.status_code == 200 and answer.json()["price"] is None

    calls = price_calls(talon_emulator)
    # Not a product of the shop: 404, and Talon.One is not asked.
    assert client.get("/api/talon/prices/INVENTED/prior/").status_code == 404
    assert price_calls(talon_emulator) == calls


def test_the_example_shops_product_page_shows_it(
    priced: list[Any], talon_emulator: Any, settings: Any, client: Client
) -> None:
    from example_project import settings as shop_settings

    settings.ROOT_URLCONF = "example_project.urls"
    settings.TEMPLATES = shop_settings.TEMPLATES
    cache.clear()

    page = client.get(f"/products/{priced[1].sku}/")
    assert page.status_code == 200
    assert "Lowest price in the last 30 days: 10.01 EUR" in page.content.decode()
    client.get(f"/products/{priced[1].sku}/")
    assert price_calls(talon_emulator) == 1


def test_the_price_is_in_the_currency_of_the_application_asked(
    priced: list[Any], settings: Any, talon_emulator: Any
) -> None:
    """With ``APPLICATIONS`` and no top-level ``CURRENCY`` (docs/configuration.md: then not
    used) the price came with the top-level default, EUR, next to a JPY amount."""
    talon = dict(settings.TALON)
    url, key = talon.pop("BASE_URL"), talon.pop("API_KEY")
    talon.pop("CURRENCY", None)
    settings.TALON = {
        **talon,
        "APPLICATIONS": {"jpy": {"BASE_URL": url, "API_KEY": key, "CURRENCY": "JPY"}},
    }
    cache.clear()
    (price,) = best_prior_prices([priced[1].sku]).values()
    assert price is not None and price.currency == "JPY"
    assert "JPY" in render(priced[1]) and "EUR" not in render(priced[1])


def test_the_rest_endpoint_names_the_prices_currency(
    priced: list[Any], settings: Any, client: Client
) -> None:
    """The endpoint printed the top-level CURRENCY (EUR) beside the JPY Application's price."""
    talon = dict(settings.TALON)
    url, key = talon.pop("BASE_URL"), talon.pop("API_KEY")
    talon.pop("CURRENCY", None)
    settings.TALON = {
        **talon,
        "APPLICATIONS": {"jpy": {"BASE_URL": url, "API_KEY": key, "CURRENCY": "JPY"}},
    }
    cache.clear()
    data = client.get(f"/api/talon/prices/{priced[1].sku}/prior/").json()
    assert data["price"] is not None and data["currency"] == "JPY"


@pytest.fixture
def three_apps(
    priced: list[Any],
    settings: Any,
    usd: Any,  # noqa: F811 (the imported fixture)
    talon_emulator: Any,
) -> tuple[Any, Any]:
    """``eur`` (the emulator with the catalog), ``usd`` (a second emulator, no catalog) and
    ``kwd`` (the first emulator again, in another currency)."""
    talon = dict(settings.TALON)
    url, key = talon.pop("BASE_URL"), talon.pop("API_KEY")
    talon.pop("CURRENCY", None)
    settings.TALON = {
        **talon,
        "APPLICATIONS": {
            "eur": {"BASE_URL": url, "API_KEY": key, "CURRENCY": "EUR"},
            "usd": {"BASE_URL": usd.url, "API_KEY": usd.api_key, "CURRENCY": "USD"},
            "kwd": {"BASE_URL": url, "API_KEY": key, "CURRENCY": "KWD"},
        },
    }
    cache.clear()
    return talon_emulator, usd


def test_each_application_is_asked_and_cached_on_its_own(
    priced: list[Any], three_apps: tuple[Any, Any]
) -> None:
    """``application=`` asks that Application; the cache keeps each Application's answer
    apart (one key per SKU served the first Application's price to every other)."""
    _, second = three_apps
    sku = priced[1].sku
    second.clear_requests()
    assert best_prior_prices([sku])[sku] is not None  # the default (eur) knows the SKU
    assert best_prior_prices([sku], application="usd")[sku] is None  # usd has no catalog
    assert len(second.requests(PRICE_PATH)) == 1
    assert best_prior_prices([sku], application="usd")[sku] is None  # cached for usd
    assert len(second.requests(PRICE_PATH)) == 1
    kwd = best_prior_prices([sku], application="kwd")[sku]
    assert kwd is not None and kwd.currency == "KWD"
    tag = Template('{% load talon_prices %}{% talon_best_prior_price product application="usd" %}')
    assert tag.render(Context({"product": priced[1]})).strip() == ""
    forget_prior_prices([sku], application="usd")
    assert best_prior_prices([sku], application="usd")[sku] is None
    assert len(second.requests(PRICE_PATH)) == 2


def test_the_rest_endpoint_asks_the_application_named(
    priced: list[Any], three_apps: tuple[Any, Any], client: Client
) -> None:
    sku = priced[1].sku
    data = client.get(f"/api/talon/prices/{sku}/prior/?application=kwd").json()
    assert (data["price"], data["currency"]) == ("10.010", "KWD")  # KWD has 3 decimals
    data = client.get(f"/api/talon/prices/{sku}/prior/?application=usd").json()
    assert (data["price"], data["currency"]) == (None, "USD")
    answer = client.get(f"/api/talon/prices/{sku}/prior/?application=nope")
    assert answer.status_code == 400 and "application" in answer.json()
