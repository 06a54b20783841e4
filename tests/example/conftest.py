"""Fixtures for the example shop's own tests: its URLs, templates and demo data."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from example_project import settings as shop_settings


@pytest.fixture(autouse=True)
def shop_site(settings: Any) -> Any:
    """Serve the example shop's URLs and templates for the test (apps are in tests.settings)."""
    settings.ROOT_URLCONF = "example_project.urls"
    settings.TEMPLATES = shop_settings.TEMPLATES
    settings.STATICFILES_DIRS = shop_settings.STATICFILES_DIRS
    settings.LOGIN_URL = shop_settings.LOGIN_URL
    settings.LOGIN_REDIRECT_URL = shop_settings.LOGIN_REDIRECT_URL
    # Demo users are created per test; a fast hasher keeps that cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@pytest.fixture
def demo_data(db: None) -> Any:
    from example_project.demo.data import load_demo_data

    return load_demo_data()


def _alice() -> Client:
    """A test client signed in as the demo customer alice."""
    client = Client()
    assert client.login(username="alice", password="alice-demo-pass")
    return client


@pytest.fixture
def alice_client(demo_data: Any) -> Client:
    return _alice()


@pytest.fixture
def shop_talon(shop_site: Any, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The shop's own TALON settings (adapter, cart/order models), pointed at the emulator.

    Tests using it need ``transactional_db``: django-talon's immediate attempt runs after
    commit, which never happens inside pytest-django's per-test transaction.
    """
    shop_site.TALON = dict(shop_settings.TALON)
    merged: dict[str, Any] = request.getfixturevalue("talon_settings")
    return merged


@pytest.fixture
def shop(shop_talon: dict[str, Any]) -> Client:
    """alice signed in to the shop wired to the emulator (demo data loaded after the wiring,
    so its writes reach Talon.One)."""
    from example_project.demo.data import load_demo_data

    load_demo_data()
    return _alice()
