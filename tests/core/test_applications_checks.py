"""The system checks of TALON["APPLICATIONS"] refuse bad mappings (docs/checks.md, E016-E020,
W004), and a good one is clean."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from django_talon.checks import check_settings
from django_talon.conf import build_config

SHARED_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/9",  # never contacted by the checks
    }
}
URL = "https://acme.europe-west1.talon.one"
CHOOSING = "tests.core.test_applications.CurrencyAdapter"


def eur(**over: Any) -> dict[str, Any]:
    return {"API_KEY": "eur-key", "CURRENCY": "EUR", **over}


def usd(**over: Any) -> dict[str, Any]:
    return {"API_KEY": "usd-key", "CURRENCY": "USD", **over}


def ids(applications: Any, **talon: Any) -> list[str]:
    settings = {"BASE_URL": URL, "ADAPTER": CHOOSING, "APPLICATIONS": applications, **talon}
    with override_settings(TALON=settings, CACHES=SHARED_CACHE):
        return [m.id for m in check_settings()]


def test_two_good_applications_are_clean() -> None:
    """No top-level API_KEY is needed (no E002); BASE_URL is shared by both."""
    assert ids({"eur": eur(), "usd": usd(BASE_URL="https://other.talon.one")}) == []


def test_e016_an_application_without_its_key_currency_or_url() -> None:
    assert ids({"eur": eur(), "usd": {"API_KEY": "usd-key"}}) == ["django_talon.E016"]
    assert ids({"eur": {"CURRENCY": "EUR"}}) == ["django_talon.E016"]
    assert ids({"eur": eur()}, BASE_URL="") == ["django_talon.E016"]
    assert ids({"eur": eur(TIMEOUT=3)}) == ["django_talon.E016"]  # timeouts stay global


def test_e016_not_when_talon_is_switched_off() -> None:
    assert ids({"eur": {"CURRENCY": "EUR"}}, ENABLED=False) == []


def test_e017_names_are_slugs() -> None:
    assert ids({"Euro Shop": eur()}) == ["django_talon.E017"]


def test_e018_currencies_have_three_letters() -> None:
    assert ids({"eur": eur(CURRENCY="euro")}) == ["django_talon.E018"]
    assert ids({"eur": eur(CURRENCY="eur")}) == ["django_talon.E018"]


def test_e018_currencies_are_iso_4217_codes() -> None:
    """Three letters that name no currency would be rounded to the 2-decimal default: a
    yen shop with "YEN" charged hundredths of a yen."""
    assert ids({"jpy": eur(CURRENCY="YEN")}) == ["django_talon.E018"]
    assert ids({"kwd": eur(CURRENCY="KWD"), "jpy": usd(CURRENCY="JPY")}) == []


def test_e018_the_top_level_currency_of_a_one_application_shop() -> None:
    def top_level(currency: str) -> list[str]:
        settings = {"BASE_URL": URL, "API_KEY": "key", "CURRENCY": currency}
        with override_settings(TALON=settings, CACHES=SHARED_CACHE):
            return [m.id for m in check_settings()]

    assert top_level("YEN") == ["django_talon.E018"]
    assert top_level("JPY") == []


def test_e019_two_applications_with_one_key() -> None:
    assert ids({"eur": eur(), "usd": usd(API_KEY="eur-key")}) == ["django_talon.E019"]


def test_e020_an_adapter_without_the_hooks() -> None:
    # A dotted path to something that is not an adapter at all (E004 also says so).
    found = ids({"eur": eur()}, ADAPTER="tests.shopapp.models.Cart")
    assert "django_talon.E020" in found and "django_talon.E004" in found


def test_w004_several_applications_but_the_adapter_never_chooses() -> None:
    found = ids({"eur": eur(), "usd": usd()}, ADAPTER="tests.shopapp.adapters.ShopAdapter")
    assert found == ["django_talon.W004"]


def test_e009_a_mapping_of_the_wrong_shape() -> None:
    """The mapping cannot be used at all: E009 alone. The top-level API_KEY it falls back to
    is missing too, but "API_KEY is not set" (E002) would send the reader to the wrong
    setting: the keys were given, in a mapping E009 names."""
    assert ids({"eur": "eur-key"}) == ["django_talon.E009"]
    assert ids({"eur": eur(APPLICATION_ID="one")}) == ["django_talon.E009"]


def test_the_mapping_is_parsed_into_the_config() -> None:
    config, invalid = build_config(
        {"BASE_URL": URL, "APPLICATIONS": {"eur": eur(APPLICATION_ID="7"), "usd": usd()}}
    )
    assert invalid == {}
    apps = config.applications
    assert list(apps) == ["eur", "usd"]
    assert apps["eur"].BASE_URL == URL and apps["eur"].APPLICATION_ID == 7
    assert (apps["usd"].API_KEY, apps["usd"].CURRENCY) == ("usd-key", "USD")
    assert "usd-key" not in repr(apps)
    assert config.default_application == "eur"
    assert config.application("default").name == "eur"
    assert config.application(None).name == "eur"


def test_an_unusable_applications_mapping_is_e009_alone_and_shows_no_key() -> None:
    """An entry the shape check refuses (APPLICATION_ID "abc") makes APPLICATIONS fall back
    to its default: E009 says so, without the entries' keys, and no "API_KEY is not set"
    (E002) or "BASE_URL is not set" (E001) follows from the fallback."""
    applications = {"eur": eur(API_KEY="eur-secret-4711", APPLICATION_ID="abc")}
    settings = {"BASE_URL": "", "ADAPTER": CHOOSING, "APPLICATIONS": applications}
    with override_settings(TALON=settings, CACHES=SHARED_CACHE):
        messages = check_settings()
    assert [m.id for m in messages] == ["django_talon.E009"]
    shown = f"{messages[0].msg} {messages[0].hint}"
    assert "APPLICATIONS" in shown and "abc" in shown
    assert "eur-secret-4711" not in shown
    assert "'***'" in shown


def test_e009_of_a_key_of_the_wrong_type_shows_no_key() -> None:
    settings = {"BASE_URL": URL, "API_KEY": b"bytes-secret-4711", "APPLICATION_KEY": 4711}
    with override_settings(TALON=settings, CACHES=SHARED_CACHE):
        messages = [m for m in check_settings() if m.id == "django_talon.E009"]
    assert {m.msg.split("]")[0] for m in messages} == {"TALON['API_KEY'", "TALON['APPLICATION_KEY'"}
    for message in messages:
        assert "bytes-secret-4711" not in message.msg and "4711" not in message.msg
